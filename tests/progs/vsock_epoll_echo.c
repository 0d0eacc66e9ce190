/* An echo server written the epoll way: a nonblocking listener in
 * edge-triggered mode (accept until EAGAIN), blocking clients in
 * level-triggered mode. First it checks epoll_ctl's answers to wrong use
 * (PASS/FAIL lines). Exits after -n connections ended. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "../../apps/vm_sockets.h"

static int failures;

static void expect(const char *what, int r, int err)
{
	int ok = r == -1 && errno == err;
	printf("%s %s (errno %d)\n", ok ? "PASS" : "FAIL", what, errno);
	failures += !ok;
}

int main(int argc, char **argv)
{
	int want = argc > 1 ? atoi(argv[1]) : 1, ended = 0;
	int lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_port = 7, .svm_cid = VMADDR_CID_ANY};
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || ep < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 128) < 0) {
		perror("vsock_epoll_echo");
		return 1;
	}
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = lfd};
	expect("epoll_ctl on a closed descriptor", epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev), EBADF);
	expect("epoll_ctl on itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	expect("epoll_ctl MOD of an absent entry", epoll_ctl(ep, EPOLL_CTL_MOD, lfd, &ev), ENOENT);
	expect("epoll_wait with maxevents 0", epoll_wait(ep, &ev, 0, 0), EINVAL);
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	expect("epoll_ctl ADD twice", epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev), EEXIST);
	struct epoll_event got[16];
	int n = epoll_wait(ep, got, 16, 50);
	printf("%s an idle listener gives no event (%d)\n", n == 0 ? "PASS" : "FAIL", n);
	failures += n != 0;
	printf("vsock_epoll_echo: listening on port 7\n");
	fflush(stdout);
	while (ended < want) {
		n = epoll_wait(ep, got, 16, -1);
		for (int i = 0; i < n; i++) {
			int fd = got[i].data.fd;
			if (fd == lfd) {
				int c;
				while ((c = accept(lfd, NULL, NULL)) >= 0) {
					struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				}
				continue;
			}
			char buf[4096];
			ssize_t r = read(fd, buf, sizeof buf);
			if (r > 0 && write(fd, buf, r) == r)
				continue;
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			ended++;
		}
	}
	printf("vsock_epoll_echo: %d connections, %d failures\n", ended, failures);
	return failures;
}
