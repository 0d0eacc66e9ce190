/* Ending the job: the exit status goes to isa-debug-exit (port 0xf4, QEMU
 * then exits with (status << 1) | 1) after a marker line that toro-run
 * reads, since QEMU's exit code keeps only 7 bits of the status. Also the
 * fault report for CPU exceptions, with symbols. */
#include "defs.h"
#include "x86.h"
#include "cpu.h"
#include "sched.h"

#define EXIT_PORT 0xf4

symbolizer app_symbolizer;
static volatile int exiting;

struct ksym {
	uint64_t addr;
	uint32_t name;
	uint32_t size;
};
extern char ksyms_start[], ksyms_end[];

void job_exit(int status)
{
	cli();
	if (__atomic_exchange_n(&exiting, 1, __ATOMIC_ACQ_REL)) {
		for (;;)
			__asm__ volatile("hlt");
	}
	/* Another core may be halfway through a line (a fault report of its
	 * own): let it finish, or the marker's bytes mix with its text and
	 * toro-run never sees the status. A core that died holding the lock
	 * cannot stop the exit, hence the bound. */
	uint64_t give_up = time_ns() + 200000000;
	while (!console_trylock() && time_ns() < give_up)
		cpu_relax();
	char line[32];
	int n = snprintf(line, sizeof line, "\x1btoro-exit:%d\n", status & 0xff);
	console_write_unlocked(line, n);
	outl(EXIT_PORT, status & 0xff);
	for (;;)
		__asm__ volatile("hlt");
}

/* The kernel's symbol table, filled in by scripts/toro-link: a count,
 * then entries sorted by address, then the names. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	extern char __kernel_start[];
	if (ksyms_end - ksyms_start < 8 || addr < (uint64_t)__kernel_start || addr >= (uint64_t)ksyms_start)
		return NULL;
	uint64_t n = *(uint64_t *)ksyms_start;
	struct ksym *s = (struct ksym *)(ksyms_start + 8);
	const char *names = (const char *)(s + n);
	uint64_t lo = 0, hi = n;
	while (lo < hi) {
		uint64_t mid = (lo + hi) / 2;
		if (s[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	struct ksym *k = &s[lo - 1];
	if (k->size && addr >= k->addr + k->size)
		return NULL;
	*offset = addr - k->addr;
	return names + k->name;
}

static void format_addr(char *buf, size_t n, uint64_t a)
{
	uint64_t off = 0;
	const char *name = ksym_lookup(a, &off);
	if (!name && app_symbolizer)
		name = app_symbolizer(a, &off);
	if (name)
		snprintf(buf, n, "0x%lx <%s+0x%lx>", a, name, off);
	else
		snprintf(buf, n, "0x%lx", a);
}

static const char *exception_names[32] = {
	"divide error (#DE)", "debug (#DB)", "NMI", "breakpoint (#BP)", "overflow (#OF)",
	"bound range (#BR)", "invalid opcode (#UD)", "device not available (#NM)",
	"double fault (#DF)", "coprocessor overrun", "invalid TSS (#TS)", "segment not present (#NP)",
	"stack fault (#SS)", "general protection (#GP)", "page fault (#PF)", "reserved 15",
	"x87 floating point (#MF)", "alignment check (#AC)", "machine check (#MC)",
	"SIMD floating point (#XM)", "virtualization (#VE)", "control protection (#CP)",
};

/* The POSIX signal Linux would send for the exception. */
static int signal_for(int vector)
{
	switch (vector) {
	case 0: case 16: case 19: return 8;  /* SIGFPE */
	case 1: case 3: return 5;            /* SIGTRAP */
	case 6: return 4;                    /* SIGILL */
	case 17: return 7;                   /* SIGBUS */
	default: return 11;                  /* SIGSEGV */
	}
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case 4: return "SIGILL";
	case 5: return "SIGTRAP";
	case 7: return "SIGBUS";
	case 8: return "SIGFPE";
	default: return "SIGSEGV";
	}
}

static bool in_guard(uint64_t addr, uint8_t *stack_base, size_t guard)
{
	return stack_base && addr < (uint64_t)stack_base && addr >= (uint64_t)stack_base - guard;
}

static void backtrace(const char *who, struct thread *t, uint64_t rbp)
{
	char line[400], a[96];
	int n = snprintf(line, sizeof line, "toro: %s   backtrace:", who);
	for (int i = 0; i < 8 && t && n < (int)sizeof line - 100; i++) {
		bool in_kstack = rbp >= (uint64_t)t->stack && rbp + 16 <= (uint64_t)t->stack + t->stack_size;
		bool in_ustack = t->user_stack && rbp >= (uint64_t)t->user_stack &&
				 rbp + 16 <= (uint64_t)t->user_stack + t->user_stack_size;
		if ((rbp & 7) || !(in_kstack || in_ustack))
			break;
		uint64_t *f = (uint64_t *)rbp;
		format_addr(a, sizeof a, f[1]);
		n += snprintf(line + n, sizeof line - n, " %s", a);
		if (f[0] <= rbp)
			break;
		rbp = f[0];
	}
	kprintf("%s\n", line);
}

void fault_report(struct trapframe *tf)
{
	struct cpu *c = this_cpu();
	if (c->in_fault++) {
		static const char msg[] = "toro: fault while reporting a fault\n";
		console_write_unlocked(msg, sizeof msg - 1);
		job_exit(139);
	}
	struct thread *t = c->current;
	char who[64], where[96], detail[160] = "";
	if (t && t->rank >= 0 && t->tid >= 1000) /* a thread it created (thread_sys.c) */
		snprintf(who, sizeof who, "rank %d thread %d (core %d):", t->rank, t->tid, c->id);
	else if (t && t->rank >= 0)
		snprintf(who, sizeof who, "rank %d (core %d):", t->rank, c->id);
	else
		snprintf(who, sizeof who, "thread \"%s\" (core %d):", t ? t->name : "?", c->id);
	int v = tf->vector, sig = signal_for(v);
	const char *name = v < 32 && exception_names[v] ? exception_names[v] : "exception";
	if (v == 14) {
		uint64_t cr2 = read_cr2();
		const char *acc = tf->error & 2 ? "write" : (tf->error & 16 ? "execute" : "read");
		if (t && in_guard(cr2, t->user_stack, t->tid >= 1000 ? PAGE_SIZE * 4 : 64 * 1024))
			snprintf(detail, sizeof detail, ": stack overflow at address 0x%lx (%s); the stack is %lu KiB, raise it with %s",
				 cr2, acc, t->user_stack_size >> 10, t->tid >= 1000 ? "pthread_attr_setstacksize" : "toro-run --stack SIZE");
		else if (t && in_guard(cr2, t->stack, PAGE_SIZE))
			snprintf(detail, sizeof detail, ": kernel stack overflow at address 0x%lx (%s) in a %lu KiB stack",
				 cr2, acc, t->stack_size >> 10);
		else if (cr2 < PAGE_SIZE)
			snprintf(detail, sizeof detail, ": NULL pointer dereference at address 0x%lx (%s)", cr2, acc);
		else
			snprintf(detail, sizeof detail, ": unmapped address 0x%lx (%s)", cr2, acc);
	} else if (tf->error) {
		snprintf(detail, sizeof detail, ": error code 0x%lx", tf->error);
	}
	format_addr(where, sizeof where, tf->rip);
	kprintf("toro: %s %s%s\ntoro: %s   rip %s rsp 0x%lx\n", who, name, detail, who, where, tf->rsp);
	backtrace(who, t, tf->rbp);
	kprintf("toro: job ends with status %d (%s)\n", 128 + sig, signal_name(sig));
	job_exit(128 + sig);
}

void panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	struct cpu *c = this_cpu();
	kprintf("toro: kernel panic on core %d: %s\n", c ? c->id : 0, buf);
	job_exit(134);
}
