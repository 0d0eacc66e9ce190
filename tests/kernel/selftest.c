/* Kernel self-tests, booted as build/selftest.elf. With no argument every
 * test runs and the job's status is the number of failures; the other
 * arguments make one thing go wrong on purpose (toro-run ... -- null). */
#include "../../kernel/defs.h"
#include "../../kernel/x86.h"
#include "../../kernel/cpu.h"
#include "../../kernel/sched.h"

static int passed, failed;

static void check(bool ok, const char *name, const char *fmt, ...)
{
	char buf[200] = "";
	if (!ok) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(buf, sizeof buf, fmt, ap);
		va_end(ap);
	}
	if (ok)
		passed++;
	else
		failed++;
	kprintf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", passed + failed, name, ok ? "" : ": ", buf);
}

/* --- every core reports in --- */
static int reported[MAX_CPUS];

static void report_in(void *arg)
{
	int want = (int)(uint64_t)arg;
	struct cpu *c = this_cpu();
	reported[want] = c->id + 1;
	kprintf("core %d reporting (APIC id %u)\n", c->id, c->apic_id);
}

static void test_cores(void)
{
	struct thread *t[MAX_CPUS];
	kprintf("cpus online: %d\n", ncpus);
	for (int i = 0; i < ncpus; i++)
		t[i] = thread_create(i, "report", report_in, (void *)(uint64_t)i, 0);
	int ok = 0;
	for (int i = 0; i < ncpus; i++) {
		if (t[i])
			thread_join(t[i]);
		ok += reported[i] == i + 1;
	}
	check(ok == ncpus, "every core reports in", "%d of %d cores ran their thread", ok, ncpus);
}

/* --- threads created on every core from every core --- */
static volatile int matrix[MAX_CPUS][MAX_CPUS];

static void matrix_leaf(void *arg)
{
	int from = (int)(uint64_t)arg;
	__atomic_add_fetch(&matrix[from][this_cpu()->id], 1, __ATOMIC_RELAXED);
}

static void matrix_creator(void *arg)
{
	(void)arg;
	int me = this_cpu()->id;
	struct thread *t[MAX_CPUS];
	for (int d = 0; d < ncpus; d++)
		t[d] = thread_create(d, "leaf", matrix_leaf, (void *)(uint64_t)me, 0);
	for (int d = 0; d < ncpus; d++)
		if (t[d])
			thread_join(t[d]);
}

static void test_matrix(void)
{
	struct thread *t[MAX_CPUS];
	for (int c = 0; c < ncpus; c++)
		t[c] = thread_create(c, "creator", matrix_creator, NULL, 0);
	for (int c = 0; c < ncpus; c++)
		if (t[c])
			thread_join(t[c]);
	int good = 0;
	for (int c = 0; c < ncpus; c++)
		for (int d = 0; d < ncpus; d++)
			good += matrix[c][d] == 1;
	check(good == ncpus * ncpus, "threads created on every core from every core run there",
	      "%d of %d (creator, target) pairs ran exactly once on the target", good, ncpus * ncpus);
}

/* --- yields interleave --- */
static char trace[64];
static volatile int trace_len, yield_go;

static bool go_set(void *arg)
{
	(void)arg;
	return yield_go;
}

/* Both threads start together (the first is not done before the second
 * exists), then each appends its letter and yields, four times. */
static void yielder(void *arg)
{
	char letter = (char)(uint64_t)arg;
	sched_wait_until(go_set, NULL);
	for (int i = 0; i < 4; i++) {
		trace[trace_len++] = letter;
		thread_yield();
	}
}

static void test_yield(void)
{
	for (int cpu = 0; cpu < ncpus; cpu++) {
		trace_len = 0;
		yield_go = 0;
		struct thread *a = thread_create(cpu, "A", yielder, (void *)'A', 0);
		struct thread *b = thread_create(cpu, "B", yielder, (void *)'B', 0);
		yield_go = 1;
		sched_kick(cpus[cpu]);
		thread_join(a);
		thread_join(b);
		trace[trace_len] = 0;
		if (strcmp(trace, "ABABABAB") != 0 && strcmp(trace, "BABABABA") != 0) {
			check(false, "yields interleave", "core %d ran \"%s\", want ABABABAB or BABABABA", cpu, trace);
			return;
		}
	}
	check(true, "yields interleave on every core", "");
}

/* --- a sleeping thread wakes --- */
static volatile uint64_t slept_ns[MAX_CPUS];

static void sleeper(void *arg)
{
	int i = (int)(uint64_t)arg;
	uint64_t t0 = time_ns();
	thread_sleep_ns(20 * 1000 * 1000);
	slept_ns[i] = time_ns() - t0;
}

static void test_sleep(void)
{
	struct thread *t[MAX_CPUS];
	for (int i = 0; i < ncpus; i++)
		t[i] = thread_create(i, "sleeper", sleeper, (void *)(uint64_t)i, 0);
	int ok = 0;
	for (int i = 0; i < ncpus; i++) {
		thread_join(t[i]);
		ok += slept_ns[i] >= 20 * 1000 * 1000;
	}
	check(ok == ncpus, "a sleeping thread wakes after its time on every core", "%d of %d slept >= 20 ms", ok, ncpus);
}

/* --- a halted core wakes on an IPI --- */
static volatile int ipi_flag;

static bool flag_set(void *arg)
{
	(void)arg;
	return ipi_flag;
}

static void ipi_waiter(void *arg)
{
	(void)arg;
	sched_wait_until(flag_set, NULL);
}

static void test_ipi_wake(void)
{
	if (ncpus < 2) {
		kprintf("ok - halted core wakes on IPI # skipped: 1 CPU\n");
		return;
	}
	int k = ncpus - 1;
	struct cpu *c = cpus[k];
	uint64_t halts0 = c->halts, ipis0 = c->wake_ipis;
	ipi_flag = 0;
	struct thread *t = thread_create(k, "ipi-waiter", ipi_waiter, NULL, 0);
	uint64_t deadline = time_ns() + 5000000000ull;
	while (!(c->halted && c->halts > halts0) && time_ns() < deadline)
		thread_yield();
	bool halted = c->halted;
	ipi_flag = 1;
	sched_kick(c);
	thread_join(t);
	check(halted && c->wake_ipis > ipis0, "a halted core wakes on IPI",
	      "core %d halted=%d, wake IPIs %lu -> %lu", k, halted, ipis0, c->wake_ipis);
}

/* --- memory pools --- */
struct chunk {
	struct chunk *next;
	size_t npages;
};

static void test_pools(void)
{
	int n = mem_npools(), overlaps = 0, empty = 0;
	for (int i = 0; i < n; i++) {
		uint64_t lo, hi, lo2, hi2;
		mem_pool_range(i, &lo, &hi);
		empty += lo >= hi;
		for (int j = i + 1; j < n; j++) {
			mem_pool_range(j, &lo2, &hi2);
			overlaps += lo < hi2 && lo2 < hi;
		}
	}
	check(n >= ncpus && overlaps == 0 && empty == 0, "memory pools are disjoint, one per core",
	      "%d pools, %d overlaps, %d empty", n, overlaps, empty);

	int p = n - 1;
	uint64_t lo, hi;
	mem_pool_range(p, &lo, &hi);
	size_t before = mem_pool_free_pages(p), got = 0, outside = 0;
	struct chunk *list = NULL;
	for (size_t want = before; want > 0;) {
		struct chunk *c = page_alloc(p, want);
		if (!c) {
			want /= 2;
			continue;
		}
		outside += (uint64_t)c < lo || (uint64_t)c + want * PAGE_SIZE > hi;
		c->npages = want;
		c->next = list;
		list = c;
		got += want;
	}
	void *extra = page_alloc(p, 1);
	check(got == before && !extra && mem_pool_free_pages(p) == 0 && outside == 0,
	      "pool exhaustion returns NULL after handing out every page",
	      "got %lu of %lu pages, extra=%p, %lu outside the pool", got, before, extra, outside);
	while (list) {
		struct chunk *next = list->next;
		page_free(list, list->npages);
		list = next;
	}
	check(mem_pool_free_pages(p) == before, "freed pages return to their pool", "%lu of %lu", mem_pool_free_pages(p), before);
	void *huge = kmalloc(1ull << 40);
	check(huge == NULL, "kmalloc larger than memory returns NULL", "got %p", huge);
	void *pages = page_alloc(0, 4);
	check(pages && mmu_is_mapped((uint64_t)pages) && !mmu_is_mapped(0), "allocated memory is mapped and page 0 is not", "");
	page_free(pages, 4);
}

static void test_clock(void)
{
	uint64_t a = time_ns();
	delay_ns(1000000);
	uint64_t b = time_ns();
	check(b - a >= 1000000, "the clock advances", "%lu ns", b - a);
	kprintf("tsc: %lu kHz\n", tsc_khz());
}

/* --- faults on purpose --- */
static void null_deref(void *arg)
{
	(void)arg;
	volatile int *p = NULL;
	*p = 42;
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int n)
{
	volatile char pad[256];
	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

static void overflow(void *arg)
{
	(void)arg;
	kprintf("recursed %d\n", recurse(0));
}

static void hang(void *arg)
{
	(void)arg;
	for (;;)
		thread_sleep_ns(1000000000ull);
}

static void run_in_thread(void (*fn)(void *))
{
	struct thread *t = thread_create(ncpus - 1, "victim", fn, NULL, 0);
	thread_join(t);
	kprintf("the victim thread returned\n");
}

void toro_main(void)
{
	const char *mode = kernel_argc > 1 ? kernel_argv[1] : "all"; /* [0] is the name */
	bool ok;
	if (strcmp(mode, "null") == 0)
		run_in_thread(null_deref);
	else if (strcmp(mode, "overflow") == 0)
		run_in_thread(overflow);
	else if (strcmp(mode, "hang") == 0)
		run_in_thread(hang);
	else if (strcmp(mode, "ud") == 0)
		__asm__ volatile("ud2");
	else if (strcmp(mode, "triple") == 0) {
		/* No IDT: the breakpoint becomes a triple fault and the VM resets. */
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) empty = {0, 0};
		cli();
		__asm__ volatile("lidt %0; int3" ::"m"(empty));
	} else if (strcmp(mode, "args") == 0) {
		for (int i = 1; i < kernel_argc; i++)
			kprintf("arg %d [%s]\n", i - 1, kernel_argv[i]);
		job_exit(0);
	}
	else if (strcmp(mode, "exit") == 0 && kernel_argc > 2) {
		long status = parse_long(kernel_argv[2], &ok);
		kprintf("exiting with status %ld\n", status);
		job_exit(status);
	} else if (strcmp(mode, "all") == 0) {
		test_cores();
		test_matrix();
		test_yield();
		test_sleep();
		test_ipi_wake();
		test_pools();
		test_clock();
		kprintf("selftest: %d passed, %d failed\n", passed, failed);
		job_exit(failed ? 1 : 0);
	} else {
		kprintf("selftest: unknown mode \"%s\"; modes: all null overflow hang ud triple args exit N\n", mode);
		job_exit(2);
	}
	job_exit(3);
}
