/* The system call handlers kernel/systab.c's table names: each takes the
 * six argument registers of the Linux x86-64 ABI (rdi, rsi, rdx, r10,
 * r8, r9) and returns the result or -errno. A handler is named after the
 * Linux call it implements; typed helpers behind it are do_*. */
#pragma once
#include "types.h"

typedef long (*syscall_fn)(const uint64_t *a);

/* file.c: descriptors */
long sys_read(const uint64_t *a);
long sys_write(const uint64_t *a);
long sys_pread64(const uint64_t *a);
long sys_pwrite64(const uint64_t *a);
long sys_readv(const uint64_t *a);
long sys_writev(const uint64_t *a);
long sys_close(const uint64_t *a);
long sys_fstat(const uint64_t *a);
long sys_lseek(const uint64_t *a);
long sys_ioctl(const uint64_t *a);
long sys_fsync(const uint64_t *a);
long sys_ftruncate(const uint64_t *a);
long sys_getdents64(const uint64_t *a);
long sys_dup(const uint64_t *a);
long sys_dup2(const uint64_t *a);
long sys_dup3(const uint64_t *a);
long sys_fcntl(const uint64_t *a);
long sys_fstatfs(const uint64_t *a);
long sys_sendfile(const uint64_t *a);

/* path.c: paths */
long sys_open(const uint64_t *a);
long sys_openat(const uint64_t *a);
long sys_creat(const uint64_t *a);
long sys_stat(const uint64_t *a);
long sys_lstat(const uint64_t *a);
long sys_newfstatat(const uint64_t *a);
long sys_statx(const uint64_t *a);
long sys_truncate(const uint64_t *a);
long sys_access(const uint64_t *a);
long sys_faccessat(const uint64_t *a);
long sys_getcwd(const uint64_t *a);
long sys_chdir(const uint64_t *a);
long sys_fchdir(const uint64_t *a);
long sys_rename(const uint64_t *a);
long sys_renameat(const uint64_t *a);
long sys_renameat2(const uint64_t *a);
long sys_mkdir(const uint64_t *a);
long sys_mkdirat(const uint64_t *a);
long sys_rmdir(const uint64_t *a);
long sys_unlink(const uint64_t *a);
long sys_unlinkat(const uint64_t *a);
long sys_readlink(const uint64_t *a);
long sys_readlinkat(const uint64_t *a);
long sys_statfs(const uint64_t *a);

/* poll.c */
long sys_poll(const uint64_t *a);
long sys_ppoll(const uint64_t *a);
long sys_select(const uint64_t *a);
long sys_pselect6(const uint64_t *a);

/* epoll.c */
long sys_epoll_create(const uint64_t *a);
long sys_epoll_create1(const uint64_t *a);
long sys_epoll_ctl(const uint64_t *a);
long sys_epoll_wait(const uint64_t *a);
long sys_epoll_pwait2(const uint64_t *a);

/* socket.c */
long sys_socket(const uint64_t *a);
long sys_connect(const uint64_t *a);
long sys_bind(const uint64_t *a);
long sys_listen(const uint64_t *a);
long sys_accept(const uint64_t *a);
long sys_accept4(const uint64_t *a);
long sys_sendto(const uint64_t *a);
long sys_recvfrom(const uint64_t *a);
long sys_sendmsg(const uint64_t *a);
long sys_recvmsg(const uint64_t *a);
long sys_shutdown(const uint64_t *a);
long sys_getsockname(const uint64_t *a);
long sys_getpeername(const uint64_t *a);
long sys_socketpair(const uint64_t *a);
long sys_setsockopt(const uint64_t *a);
long sys_getsockopt(const uint64_t *a);

/* sysmem.c */
long sys_mmap(const uint64_t *a);
long sys_munmap(const uint64_t *a);
long sys_mremap(const uint64_t *a);
long sys_brk(const uint64_t *a);

/* syscall.c */
long sys_mprotect(const uint64_t *a);
long sys_madvise(const uint64_t *a);
long sys_rt_sigaction(const uint64_t *a);
long sys_rt_sigprocmask(const uint64_t *a);
long sys_sigaltstack(const uint64_t *a);
long sys_sched_yield(const uint64_t *a);
long sys_nanosleep(const uint64_t *a);
long sys_getpid(const uint64_t *a);
long sys_getppid(const uint64_t *a);
long sys_set_tid_address(const uint64_t *a);
long sys_getuid(const uint64_t *a);
long sys_umask(const uint64_t *a);
long sys_exit(const uint64_t *a) __attribute__((noreturn));
long sys_exit_group(const uint64_t *a) __attribute__((noreturn));
long sys_kill(const uint64_t *a);
long sys_tkill(const uint64_t *a);
long sys_tgkill(const uint64_t *a);
long sys_uname(const uint64_t *a);
long sys_gettimeofday(const uint64_t *a);
long sys_time(const uint64_t *a);
long sys_getrlimit(const uint64_t *a);
long sys_prlimit64(const uint64_t *a);
long sys_sysinfo(const uint64_t *a);
long sys_arch_prctl(const uint64_t *a);
long sys_futex(const uint64_t *a);
long sys_sched_getaffinity(const uint64_t *a);
long sys_clock_gettime(const uint64_t *a);
long sys_clock_getres(const uint64_t *a);
long sys_clock_nanosleep(const uint64_t *a);
long sys_getrandom(const uint64_t *a);
long sys_enosys_quiet(const uint64_t *a);

/* thread_sys.c (threads inside a rank) and futex.c */
long sys_clone(const uint64_t *a);
long sys_gettid(const uint64_t *a);
long sys_sched_setaffinity(const uint64_t *a);
long sys_set_robust_list(const uint64_t *a);
