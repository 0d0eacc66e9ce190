#define _GNU_SOURCE
/* An echo server on AF_VSOCK: every byte a client sends comes back.
 * One thread, poll(2) over all clients, so many connections are served
 * at once. Usage: vsock_echo [-p PORT] [-n CONNECTIONS]
 * With -n it exits after that many connections ended, printing a summary. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vm_sockets.h"

#define MAX_CLIENTS 1000
#define BUF 65536

struct client {
	char buf[BUF];
	size_t head, len;   /* bytes read but not yet echoed */
	int eof;
};

static struct pollfd fds[MAX_CLIENTS + 1];
static struct client *clients[MAX_CLIENTS + 1];
static int nfds = 1;
static long ended, bytes, errors;

static void drop(int i)
{
	close(fds[i].fd);
	free(clients[i]);
	fds[i] = fds[nfds - 1];
	clients[i] = clients[nfds - 1];
	nfds--;
	ended++;
}

static void accept_all(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN)
				perror("vsock_echo: accept");
			return;
		}
		struct client *c = calloc(1, sizeof *c);
		if (nfds > MAX_CLIENTS || !c) {
			fprintf(stderr, "vsock_echo: too many clients; closing one\n");
			free(c);
			close(fd);
			continue;
		}
		fds[nfds] = (struct pollfd){fd, POLLIN, 0};
		clients[nfds++] = c;
	}
}

/* Returns 0 while the connection lives. */
static int serve(int i)
{
	struct client *c = clients[i];
	int fd = fds[i].fd;
	if (c->len) {
		ssize_t n = write(fd, c->buf + c->head, c->len);
		if (n < 0 && errno != EAGAIN) {
			errors++;
			return -1; /* the client went away: EPIPE or ECONNRESET */
		}
		if (n > 0)
			c->head += n, c->len -= n, bytes += n;
	}
	if (!c->len && !c->eof) {
		c->head = 0;
		ssize_t n = read(fd, c->buf, BUF);
		if (n == 0)
			c->eof = 1;
		else if (n < 0 && errno != EAGAIN) {
			errors++;
			return -1;
		} else if (n > 0)
			c->len = n;
	}
	if (c->eof && !c->len)
		return -1;
	fds[i].events = c->len ? POLLOUT : POLLIN;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned port = 7;
	long want = -1;
	int opt;
	while ((opt = getopt(argc, argv, "p:n:")) != -1) {
		if (opt == 'p')
			port = strtoul(optarg, NULL, 10);
		else if (opt == 'n')
			want = strtol(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: vsock_echo [-p PORT] [-n CONNECTIONS]\n");
			return 2;
		}
	}
	int lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_ANY};
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 128) < 0) {
		perror("vsock_echo: listen");
		return 1;
	}
	printf("vsock_echo: listening on port %u\n", port);
	fflush(stdout);
	fds[0] = (struct pollfd){lfd, POLLIN, 0};
	while (want < 0 || ended < want) {
		if (poll(fds, nfds, -1) < 0) {
			perror("vsock_echo: poll");
			return 1;
		}
		if (fds[0].revents)
			accept_all(lfd);
		for (int i = nfds - 1; i >= 1; i--)
			if (fds[i].revents && serve(i) < 0)
				drop(i);
	}
	printf("vsock_echo: %ld connections, %ld bytes echoed, %ld ended by the client with an error\n",
	       ended, bytes, errors);
	return 0;
}
