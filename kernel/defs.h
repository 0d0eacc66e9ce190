/* Prototypes of the kernel's subsystems, one block per file (as xv6's defs.h). */
#pragma once
#include "types.h"

struct cpu;
struct thread;

/* lib.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strncpy_z(char *dst, const char *src, size_t n);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t parse_size(const char *s, bool *ok);
long parse_long(const char *s, bool *ok);
uint64_t clock_ns(int clock); /* syscall.c: a Linux clock id */

/* console.c */
void console_init(void);
void console_write(const char *s, size_t n);
void console_write_unlocked(const char *s, size_t n);
void console_write_owned(const void *owner, const char *s, size_t n);
void console_write_raw(const char *s, size_t n);
void console_lock(void);
void console_unlock(void);
bool console_trylock(void);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kdebug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool verbose;

/* boot.c: hvm_start_info, command line */
struct e820_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};
extern struct e820_entry e820[64];
extern int e820_count;
extern uint64_t boot_rsdp;
extern int kernel_argc;
/* The program's argv (NULL-terminated, argv[0] from toro.name) as the
 * command line "options -- args" gave it. scripts/toro-run checks both
 * limits before it starts QEMU. */
#define CMDLINE_MAX 65536          /* bytes, the terminating NUL included */
#define ARGS_MAX 4096              /* program arguments after argv[0] */
#define ENV_MAX 32                 /* toro-run -x variables (toro.env) */
extern char *kernel_argv[ARGS_MAX + 2];
void boot_parse_start_info(uint32_t info_pa);
const char *boot_option(const char *key);
const char *boot_option_nth(const char *key, int nth);  /* repeated keys (toro.env) */

/* mmu.c */
void mmu_init(void);
int mmu_set_guard(uint64_t va, bool guarded);
bool mmu_is_mapped(uint64_t va);
uint64_t mmu_boot_alloc_end(void);
void *boot_alloc_page(void);

/* mem.c: per-core physical page pools */
void mem_init(int npools);
void *page_alloc(int pool, size_t npages);
void *page_alloc_any(int pool, size_t npages);
void page_free(void *p, size_t npages);
size_t mem_pool_free_pages(int pool);
void mem_pool_range(int pool, uint64_t *lo, uint64_t *hi);
int mem_npools(void);

/* kalloc.c */
void *kmalloc(size_t n);
void *kzalloc(size_t n);
void kfree(void *p);
void *stack_alloc(int pool, size_t size);
void stack_free(void *base, size_t size);

/* acpi.c */
extern uint32_t cpu_apic_ids[MAX_CPUS];
extern int cpu_count_found;
extern uint64_t ioapic_addr;
#define MAX_IOAPICS 4
struct ioapic_desc {
	uint64_t addr;
	uint32_t gsi_base;
};
extern struct ioapic_desc ioapics[MAX_IOAPICS];
extern int nioapics;
extern bool acpi_madt_found;
void acpi_find_cpus(void);

/* ioapic.c */
bool ioapic_has_gsi(uint32_t gsi);
int ioapic_route(uint32_t gsi, int vector, uint32_t apic_id, bool level);
int irq_alloc_vector(void);

/* cpu.c: GDT, TSS, IDT, LAPIC, FPU */
void cpu_init(struct cpu *c);
struct cpu *cpu_alloc(struct cpu *c, int id, uint32_t apic_id);
void lapic_init(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
void lapic_send_ipi(uint32_t apic_id, uint32_t vector);
void lapic_send_init_sipi(uint32_t apic_id, int sipi, uint8_t page);
void lapic_timer_oneshot_ns(uint64_t ns);
void lapic_timer_calibrate(void);
size_t fpu_area_size(void);
void fpu_save(void *area);
void fpu_restore(void *area);

#define VEC_TIMER 0x20
#define VEC_WAKE 0xf0
#define VEC_SPURIOUS 0xff

/* trap.c */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
void trap_init(void);
void trap_load(void);
typedef void (*irq_handler)(int vector, void *arg);
void irq_register(int vector, irq_handler fn, void *arg);

/* smp.c */
void smp_start_aps(void);

/* time.c */
void time_init(void);
uint64_t time_ns(void);
uint64_t tsc_khz(void);
void delay_ns(uint64_t ns);

/* panic.c */
void job_exit(int status) __attribute__((noreturn));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void fault_report(struct trapframe *tf) __attribute__((noreturn));
const char *ksym_lookup(uint64_t addr, uint64_t *offset);
typedef const char *(*symbolizer)(uint64_t addr, uint64_t *offset);
extern symbolizer app_symbolizer;
extern int (*fault_hook)(struct trapframe *tf, const char *what, int status);

/* main.c */
void toro_main(void);
