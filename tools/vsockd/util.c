/* Logging, the clock and the epoll helpers shared by every module. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "vsockd.h"

int g_epfd = -1;

/* With --verbose every line carries the seconds since start. */
static void vlog(const char *fmt, va_list ap)
{
	static uint64_t t0;
	char line[1024];
	int n;
	if (!t0)
		t0 = now_ms();
	if (opt.verbose) {
		uint64_t t = now_ms() - t0;
		n = snprintf(line, sizeof line, "toro-vsockd: %llu.%03llu ", (unsigned long long)t / 1000,
			     (unsigned long long)t % 1000);
	} else {
		n = snprintf(line, sizeof line, "toro-vsockd: ");
	}
	vsnprintf(line + n, sizeof line - n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

void log_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void log_v(const char *fmt, ...)
{
	if (!opt.verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

int ep_add(int fd, uint32_t events, struct watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_err("epoll_ctl(ADD, fd %d): %m", fd);
		return -1;
	}
	return 0;
}

int ep_mod(int fd, uint32_t events, struct watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(g_epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
		log_err("epoll_ctl(MOD, fd %d): %m", fd);
		return -1;
	}
	return 0;
}

void ep_del(int fd)
{
	if (fd >= 0)
		epoll_ctl(g_epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* Whether a read on fd would not block: used before reading eventfds we
 * must not switch to non-blocking mode (QEMU shares their file). */
bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;
	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	return r == 1 && (p.revents & POLLIN);
}
