/* The AF_VSOCK calls' answers to wrong use, each checked against the errno
 * Linux gives. Run with a vsock device (toro-run --vsock-unix PATH, and no
 * host listener at PATH_9) unless given "nodevice". Prints PASS/FAIL
 * lines; the status is the number of failures. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include "../../apps/vm_sockets.h"

static int failures;

static void check(const char *what, int ok, int err)
{
	printf("%s %s (errno %d: %s)\n", ok ? "PASS" : "FAIL", what, err, strerror(err));
	failures += !ok;
}

#define EXPECT_ERR(what, call, e) do { errno = 0; long r_ = (call); int e_ = errno; check(what, r_ == -1 && e_ == (e), e_); } while (0)

static struct sockaddr_vm addr(unsigned cid, unsigned port)
{
	return (struct sockaddr_vm){.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "nodevice") == 0) {
		EXPECT_ERR("socket(AF_VSOCK) without a device", socket(AF_VSOCK, SOCK_STREAM, 0), EAFNOSUPPORT);
		return failures;
	}
	EXPECT_ERR("socket(AF_INET)", socket(AF_INET, SOCK_STREAM, 0), EAFNOSUPPORT);
	EXPECT_ERR("socket(AF_VSOCK, SOCK_DGRAM)", socket(AF_VSOCK, SOCK_DGRAM, 0), ESOCKTNOSUPPORT);
	EXPECT_ERR("sendto on the console", sendto(1, "x", 1, 0, NULL, 0), ENOTSOCK);
	EXPECT_ERR("listen on a closed descriptor", listen(77, 1), EBADF);

	int a = socket(AF_VSOCK, SOCK_STREAM, 0), b = socket(AF_VSOCK, SOCK_STREAM, 0);
	check("socket(AF_VSOCK)", a >= 0 && b >= 0, errno);
	struct sockaddr_vm sa = addr(VMADDR_CID_ANY, 1234), got;
	check("bind port 1234", bind(a, (void *)&sa, sizeof sa) == 0, errno);
	EXPECT_ERR("bind port 1234 again", bind(b, (void *)&sa, sizeof sa), EADDRINUSE);
	struct sockaddr_vm bad = addr(77, 1235);
	EXPECT_ERR("bind to another CID", bind(b, (void *)&bad, sizeof bad), EADDRNOTAVAIL);
	EXPECT_ERR("bind with a short address", bind(b, (void *)&sa, 4), EINVAL);
	socklen_t len = sizeof got;
	check("getsockname", getsockname(a, (void *)&got, &len) == 0 && got.svm_port == 1234 &&
	      got.svm_cid == 3 && len == sizeof got, errno);
	len = sizeof got;
	EXPECT_ERR("getpeername unconnected", getpeername(a, (void *)&got, &len), ENOTCONN);
	char c;
	EXPECT_ERR("read unconnected", read(a, &c, 1), ENOTCONN);
	EXPECT_ERR("write unconnected", write(a, "x", 1), ENOTCONN);
	check("listen", listen(a, 4) == 0, errno);
	fcntl(a, F_SETFL, O_NONBLOCK);
	EXPECT_ERR("accept with nobody waiting (O_NONBLOCK)", accept(a, NULL, NULL), EAGAIN);
	struct pollfd p = {a, POLLIN, 0};
	int n;
	check("poll on an idle listener times out", poll(&p, 1, 100) == 0 && p.revents == 0, errno);
	fd_set rfds, wfds;
	FD_ZERO(&rfds);
	FD_ZERO(&wfds);
	FD_SET(a, &rfds);
	FD_SET(1, &wfds);
	struct timeval tv = {0, 100000};
	n = select(a + 1, &rfds, &wfds, NULL, &tv);
	check("select: the console is writable, the idle listener is not readable",
	      n == 1 && FD_ISSET(1, &wfds) && !FD_ISSET(a, &rfds), errno);
	FD_ZERO(&rfds);
	FD_SET(99, &rfds);
	tv = (struct timeval){0, 1000};
	EXPECT_ERR("select on a closed descriptor", select(100, &rfds, NULL, NULL, &tv), EBADF);
	int type = 0;
	len = sizeof type;
	check("SO_TYPE", getsockopt(a, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM, errno);

	EXPECT_ERR("sendfile from a socket", sendfile(1, a, NULL, 10), EINVAL);
	EXPECT_ERR("sendfile from a closed descriptor", sendfile(1, 99, NULL, 10), EBADF);
	struct sockaddr_vm host = addr(VMADDR_CID_HOST, 9);
	EXPECT_ERR("connect to a host port nobody serves", connect(b, (void *)&host, sizeof host), ECONNREFUSED);

	int d = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_ERR("nonblocking connect", connect(d, (void *)&host, sizeof host), EINPROGRESS);
	p = (struct pollfd){d, POLLOUT, 0};
	n = poll(&p, 1, 10000);
	int err = 0;
	len = sizeof err;
	getsockopt(d, SOL_SOCKET, SO_ERROR, &err, &len);
	check("nonblocking connect: poll reports, SO_ERROR is ECONNREFUSED", n == 1 && !(p.revents & POLLOUT) &&
	      err == ECONNREFUSED, err);
	close(a), close(b), close(d);
	int e = socket(AF_VSOCK, SOCK_STREAM, 0);
	sa = addr(VMADDR_CID_ANY, 1234);
	check("the port is free again after close", bind(e, (void *)&sa, sizeof sa) == 0, errno);
	printf("vsock_api: %d failures\n", failures);
	return failures;
}
