/* The boot sequence: the one place that knows every subsystem and starts
 * them in order. Then toro_main() runs in a thread on CPU 0 while every
 * CPU schedules. */
#include "defs.h"
#include "x86.h"
#include "cpu.h"
#include "sched.h"
#include "proc.h"

void *services_for_rank(int rank); /* mpi/kernel/services.c */
void virtio_probe(void);           /* virtio/mmio.c */

static struct cpu boot_cpu;

/* toro.tpr=T (toro-run --threads-per-rank): each rank owns T cores. */
static int tpr_option(int cores)
{
	const char *opt = boot_option("toro.tpr");
	if (!opt)
		return 1;
	bool ok;
	long t = parse_long(opt, &ok);
	if (!ok || t < 1 || cores % t)
		panic("bad toro.tpr=%s: %d CPUs are not ranks of that many cores", opt, cores);
	return t;
}

static void main_thread(void *arg)
{
	(void)arg;
	virtio_probe(); /* in a thread: a driver may wait for its device */
	toro_main();
	thread_exit(0);
}

void kmain(uint32_t start_info_pa)
{
	boot_cpu.self = &boot_cpu;
	wrmsr(MSR_GS_BASE, (uint64_t)&boot_cpu);
	console_init();
	boot_parse_start_info(start_info_pa);
	verbose = boot_option("toro.verbose") != NULL;
	kdebug("toro: booting\n");
	mmu_init();
	acpi_find_cpus();
	threads_per_rank = tpr_option(cpu_count_found);
	mem_init(cpu_count_found / threads_per_rank); /* one pool per rank */
	trap_init();
	cpu_alloc(&boot_cpu, 0, lapic_id());
	cpu_init(&boot_cpu);
	time_init();
	lapic_timer_calibrate();
	sched_init_cpu();
	boot_cpu.online = 1;
	ncpus = 1;
	kdebug("toro: TSC and LAPIC timer calibrated at %lu us\n", time_ns() / 1000);
	smp_start_aps();
	service_table_for = services_for_rank;
	kdebug("toro: %d CPUs up at %lu us\n", ncpus, time_ns() / 1000);
	if (!thread_create(0, "main", main_thread, NULL, 256 * 1024))
		panic("out of memory for the main thread (give toro-run more --mem)");
	sched_run_idle();
}
