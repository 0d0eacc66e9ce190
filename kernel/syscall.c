/* The Linux x86-64 system call ABI, as far as programs linked with musl
 * need it (DESIGN.md section 2). Ranks run in ring 0, so the `syscall`
 * instruction lands here from syscall_entry.S on the rank's kernel stack.
 * The table of numbers and handlers is systab.c; files and descriptors
 * are in file.c, path.c and poll.c, memory in sysmem.c. These are the
 * rest. */
#include "defs.h"
#include "x86.h"
#include "cpu.h"
#include "sched.h"
#include "proc.h"
#include "errno.h"
#include "syscalls.h"

struct timespec64 {
	int64_t sec, nsec;
};

void syscall_entry(void);

static uint64_t epoch_ns_at_boot;

void syscall_init_cpu(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);          /* SCE */
	wrmsr(MSR_STAR, 0x08ull << 32);                 /* CS 0x08, SS 0x10 */
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, 0x200 | 0x400 | 0x100 | 0x40000); /* IF, DF, TF, AC */
	const char *epoch = boot_option("toro.epoch_ns");
	bool ok;
	if (epoch && !epoch_ns_at_boot)
		epoch_ns_at_boot = parse_long(epoch, &ok) - time_ns();
}

/* The rank's pointer is usable: not NULL, no wrap, every page mapped. */
bool user_ok(const void *p, size_t len)
{
	uint64_t a = (uint64_t)p;
	if (!p || a + len < a)
		return false;
	for (uint64_t pg = ALIGN_DOWN(a, PAGE_SIZE); pg < a + len; pg += PAGE_SIZE)
		if (!mmu_is_mapped(pg))
			return false;
	return true;
}

static int rank_pid(void)
{
	struct proc *p = current_proc();
	return 100 + (p ? p->rank : 0);
}

uint64_t clock_ns(int clock)
{
	switch (clock) {
	case 0:  /* CLOCK_REALTIME */
	case 5:  /* CLOCK_REALTIME_COARSE */
	case 8:  /* CLOCK_REALTIME_ALARM */
	case 11: /* CLOCK_TAI */
		return epoch_ns_at_boot + time_ns();
	case 2: /* CLOCK_PROCESS_CPUTIME_ID: a rank has its core to itself */
	case 3: /* CLOCK_THREAD_CPUTIME_ID */ {
		struct proc *p = current_proc();
		return time_ns() - (p ? p->start_ns : 0);
	}
	default: /* MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE, BOOTTIME */
		return time_ns();
	}
}

static long do_clock_gettime(int clock, struct timespec64 *ts)
{
	if (clock < 0 || clock > 11 || clock == 10)
		return -EINVAL;
	if (!user_ok(ts, sizeof *ts))
		return -EFAULT;
	uint64_t ns = clock_ns(clock);
	ts->sec = ns / 1000000000;
	ts->nsec = ns % 1000000000;
	return 0;
}

static long do_gettimeofday(int64_t *tv, void *tz)
{
	(void)tz;
	if (tv) {
		if (!user_ok(tv, 16))
			return -EFAULT;
		uint64_t ns = clock_ns(0);
		tv[0] = ns / 1000000000;
		tv[1] = ns % 1000000000 / 1000;
	}
	return 0;
}

static long sleep_for(const struct timespec64 *req, uint64_t now, uint64_t abs_base)
{
	if (!user_ok(req, sizeof *req))
		return -EFAULT;
	if (req->sec < 0 || req->nsec < 0 || req->nsec >= 1000000000)
		return -EINVAL;
	uint64_t want = req->sec * 1000000000ull + req->nsec;
	if (abs_base) {
		if (want <= now)
			return 0;
		want -= now;
	}
	thread_sleep_ns(want);
	return 0;
}

static long do_clock_nanosleep(int clock, int flags, const struct timespec64 *req)
{
	if (clock < 0 || clock > 11)
		return -EINVAL;
	bool abs = flags & 1; /* TIMER_ABSTIME */
	return sleep_for(req, abs ? clock_ns(clock) : 0, abs);
}

static long do_uname(char *u)
{
	if (!user_ok(u, 6 * 65))
		return -EFAULT;
	static const char *fields[6] = {"Toro", "toro", "1.0", "#1 SMP", "x86_64", "(none)"};
	memset(u, 0, 6 * 65);
	for (int i = 0; i < 6; i++)
		strncpy_z(u + i * 65, fields[i], 65);
	return 0;
}

static long do_getrandom(uint8_t *buf, size_t len)
{
	if (!user_ok(buf, len))
		return -EFAULT;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v;
		if (!rdrand64(&v))
			v = rdtsc() * 0x9e3779b97f4a7c15ull ^ (i << 32);
		memcpy(buf + i, &v, MIN(8, len - i));
	}
	return len;
}

struct rlimit64 {
	uint64_t cur, max;
};

static long do_prlimit(int resource, const struct rlimit64 *new, struct rlimit64 *old)
{
	if (resource < 0 || resource > 15)
		return -EINVAL;
	if (old) {
		if (!user_ok(old, sizeof *old))
			return -EFAULT;
		struct proc *p = current_proc();
		uint64_t v = ~0ull;
		if (resource == 3 && p) /* RLIMIT_STACK */
			v = p->stack_size;
		else if (resource == 7) /* RLIMIT_NOFILE */
			v = MAX_FDS;
		old->cur = old->max = v;
	}
	return new ? -EPERM : 0;
}

struct sysinfo {
	int64_t uptime;
	uint64_t loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	char reserved[4];
};

static long do_sysinfo(struct sysinfo *si)
{
	if (!user_ok(si, sizeof *si))
		return -EFAULT;
	memset(si, 0, sizeof *si);
	struct proc *p = current_proc();
	uint64_t lo = 0, hi = 0;
	if (p)
		mem_pool_range(p->rank, &lo, &hi);
	si->uptime = time_ns() / 1000000000;
	si->totalram = hi - lo;
	si->freeram = p ? mem_pool_free_pages(p->rank) * PAGE_SIZE : 0;
	si->procs = nprocs;
	si->mem_unit = 1;
	return 0;
}

static long do_arch_prctl(int code, uint64_t addr)
{
	struct thread *t = current_thread();
	switch (code) {
	case 0x1002: /* ARCH_SET_FS */
		t->fs_base = addr;
		this_cpu()->fs_base = addr;
		wrmsr(MSR_FS_BASE, addr);
		return 0;
	case 0x1003: /* ARCH_GET_FS */
		if (!user_ok((void *)addr, 8))
			return -EFAULT;
		*(uint64_t *)addr = t->fs_base;
		return 0;
	case 0x1001: /* ARCH_SET_GS: %gs is the kernel's per-CPU pointer */
		return -EPERM;
	default:
		return -EINVAL;
	}
}

/* Signals are not delivered (DESIGN.md section 2), but a rank that sends
 * itself a signal whose default action ends a process (abort, raise)
 * ends as Linux would end it. */
static long do_kill(int pid, int sig)
{
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (pid != rank_pid() && pid != 0 && pid != -1)
		return -ESRCH;
	bool ignored = sig == 0 || sig == 17 || sig == 18 || sig == 23 || sig == 28; /* CHLD CONT URG WINCH */
	if (!ignored)
		proc_kill(current_proc(), sig);
	return 0;
}

/* --- the handlers of systab.c: arguments in a[0..5] as the ABI passes them --- */
long sys_madvise(const uint64_t *a) { (void)a; return 0; }  /* advice only */
long sys_sigaltstack(const uint64_t *a) { (void)a; return 0; }
long sys_getpid(const uint64_t *a) { (void)a; return rank_pid(); }
long sys_getppid(const uint64_t *a) { (void)a; return 1; }
long sys_getuid(const uint64_t *a) { (void)a; return 0; }
long sys_umask(const uint64_t *a) { (void)a; return 022; }
/* set_robust_list, rseq: glibc probes them; ENOSYS, quietly */
long sys_enosys_quiet(const uint64_t *a) { (void)a; return -ENOSYS; }

/* rt_sigaction, rt_sigprocmask: accepted, never delivered */
long sys_rt_sigaction(const uint64_t *a)
{
	if (a[2] && user_ok((void *)a[2], 32))
		memset((void *)a[2], 0, 32);
	return 0;
}

long sys_rt_sigprocmask(const uint64_t *a)
{
	if (a[2] && user_ok((void *)a[2], 8))
		memset((void *)a[2], 0, 8);
	return 0;
}

long sys_exit_group(const uint64_t *a) { proc_exit(current_proc(), a[0]); }
long sys_nanosleep(const uint64_t *a) { return sleep_for((void *)a[0], 0, 0); }
long sys_kill(const uint64_t *a) { return do_kill(a[0], a[1]); }
long sys_uname(const uint64_t *a) { return do_uname((void *)a[0]); }
long sys_gettimeofday(const uint64_t *a) { return do_gettimeofday((void *)a[0], (void *)a[1]); }
long sys_getrlimit(const uint64_t *a) { return do_prlimit(a[0], NULL, (void *)a[1]); }
long sys_prlimit64(const uint64_t *a) { return do_prlimit(a[1], (void *)a[2], (void *)a[3]); }
long sys_sysinfo(const uint64_t *a) { return do_sysinfo((void *)a[0]); }
long sys_arch_prctl(const uint64_t *a) { return do_arch_prctl(a[0], a[1]); }
long sys_clock_gettime(const uint64_t *a) { return do_clock_gettime(a[0], (void *)a[1]); }
long sys_clock_nanosleep(const uint64_t *a) { return do_clock_nanosleep(a[0], a[1], (void *)a[2]); }
long sys_getrandom(const uint64_t *a) { return do_getrandom((void *)a[0], a[1]); }

long sys_time(const uint64_t *a)
{
	int64_t now = clock_ns(0) / 1000000000;
	if (a[0] && user_ok((void *)a[0], 8))
		*(int64_t *)a[0] = now;
	return now;
}

long sys_clock_getres(const uint64_t *a) /* 1 ns */
{
	if (a[1] && user_ok((void *)a[1], 16))
		*(struct timespec64 *)a[1] = (struct timespec64){0, 1};
	return 0;
}
