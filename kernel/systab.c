/* The system call table: Linux x86-64 numbers and their handlers
 * (syscalls.h). syscall_entry.S saves the registers and calls
 * syscall_dispatch on the rank's kernel stack. A number without a
 * handler returns -ENOSYS and is named once on the console. */
#include "defs.h"
#include "proc.h"
#include "errno.h"
#include "syscalls.h"
#include "frame.h"


static const syscall_fn table[] = {
	[0] = sys_read, [1] = sys_write, [2] = sys_open, [3] = sys_close,
	[4] = sys_stat, [5] = sys_fstat, [6] = sys_lstat, [7] = sys_poll,
	[8] = sys_lseek, [9] = sys_mmap, [10] = sys_mprotect, [11] = sys_munmap,
	[12] = sys_brk, [13] = sys_rt_sigaction, [14] = sys_rt_sigprocmask, [16] = sys_ioctl,
	[17] = sys_pread64, [18] = sys_pwrite64, [19] = sys_readv, [20] = sys_writev,
	[21] = sys_access, [23] = sys_select, [24] = sys_sched_yield, [25] = sys_mremap,
	[28] = sys_madvise, [32] = sys_dup, [33] = sys_dup2, [35] = sys_nanosleep,
	[39] = sys_getpid, [40] = sys_sendfile, [41] = sys_socket, [42] = sys_connect,
	[43] = sys_accept, [44] = sys_sendto, [45] = sys_recvfrom, [46] = sys_sendmsg,
	[47] = sys_recvmsg, [48] = sys_shutdown, [49] = sys_bind, [50] = sys_listen,
	[51] = sys_getsockname, [52] = sys_getpeername, [53] = sys_socketpair, [54] = sys_setsockopt,
	[55] = sys_getsockopt, [56] = sys_clone, [60] = sys_exit, [62] = sys_kill, [63] = sys_uname,
	[72] = sys_fcntl, [74] = sys_fsync, [75] = sys_fsync /* fdatasync */, [76] = sys_truncate,
	[77] = sys_ftruncate, [79] = sys_getcwd, [80] = sys_chdir, [81] = sys_fchdir,
	[82] = sys_rename, [83] = sys_mkdir, [84] = sys_rmdir, [85] = sys_creat,
	[87] = sys_unlink, [89] = sys_readlink, [95] = sys_umask, [96] = sys_gettimeofday,
	[97] = sys_getrlimit, [99] = sys_sysinfo, [102] = sys_getuid, [104] = sys_getuid /* getgid */,
	[107] = sys_getuid /* geteuid */, [108] = sys_getuid /* getegid */, [110] = sys_getppid,
	[131] = sys_sigaltstack, [137] = sys_statfs, [138] = sys_fstatfs, [158] = sys_arch_prctl,
	[186] = sys_gettid, [200] = sys_tkill, [201] = sys_time, [202] = sys_futex,
	[203] = sys_sched_setaffinity, [204] = sys_sched_getaffinity, [213] = sys_epoll_create, [217] = sys_getdents64,
	[218] = sys_set_tid_address, [228] = sys_clock_gettime, [229] = sys_clock_getres,
	[230] = sys_clock_nanosleep, [231] = sys_exit_group, [232] = sys_epoll_wait,
	[233] = sys_epoll_ctl, [234] = sys_tgkill, [257] = sys_openat, [258] = sys_mkdirat,
	[262] = sys_newfstatat, [263] = sys_unlinkat, [264] = sys_renameat, [267] = sys_readlinkat,
	[269] = sys_faccessat, [270] = sys_pselect6, [271] = sys_ppoll,
	[273] = sys_set_robust_list, [281] = sys_epoll_wait /* epoll_pwait */,
	[288] = sys_accept4, [291] = sys_epoll_create1, [292] = sys_dup3, [302] = sys_prlimit64,
	[316] = sys_renameat2, [318] = sys_getrandom, [332] = sys_statx,
	[334] = sys_enosys_quiet /* rseq */, [439] = sys_faccessat /* faccessat2 */,
	[441] = sys_epoll_pwait2,
};

/* Calls programs make that Toro does not provide, named in the message. */
static const char *unsupported_name(long nr)
{
	switch (nr) {
	case 22: return "pipe";
	case 57: return "fork";
	case 58: return "vfork";
	case 59: return "execve";
	case 61: return "wait4";
	case 293: return "pipe2";
	case 435: return "clone3";
	default: return NULL;
	}
}

static uint64_t reported[8]; /* syscall numbers already named, a bit each */

static long unknown_syscall(long nr)
{
	if (nr >= 0 && nr < 512) {
		uint64_t bit = 1ull << (nr % 64);
		if (__atomic_fetch_or(&reported[nr / 64], bit, __ATOMIC_RELAXED) & bit)
			return -ENOSYS;
	}
	struct proc *p = current_proc();
	const char *name = unsupported_name(nr);
	if (name)
		kprintf("toro: rank %d: syscall %ld (%s) is not supported; returning ENOSYS\n", p ? p->rank : -1, nr, name);
	else
		kprintf("toro: rank %d: unknown syscall %ld; returning ENOSYS\n", p ? p->rank : -1, nr);
	return -ENOSYS;
}

long syscall_dispatch(struct syscall_frame *f)
{
	uint64_t a[6] = {f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9};
	if (f->nr < ARRAY_SIZE(table) && table[f->nr])
		return table[f->nr](a);
	return unknown_syscall(f->nr);
}
