/* A static web server on AF_VSOCK: HTTP/1.1 GET and HEAD of files under a
 * folder (the --fs share), keep-alive, 404, Content-Length, files of any
 * size sent with sendfile(2). One thread, poll(2) over all clients.
 *
 *   toro-run --fs ./www --vsock-forward 8080:80 webserver.elf
 *   curl http://127.0.0.1:8080/index.html
 *
 * Usage: webserver [-p PORT] [-r ROOT] [-n REQUESTS] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vm_sockets.h"

#define MAX_CLIENTS 512
#define REQ_MAX 8192
#define OUT_MAX 4096

struct client {
	int fd;
	char req[REQ_MAX];
	size_t req_len;
	char out[OUT_MAX];      /* the response header (and the body of an error) */
	size_t out_head, out_len;
	int file;               /* the body still to send, or -1 */
	off_t left;
	int keep_alive;
};

static struct pollfd fds[MAX_CLIENTS + 1];
static struct client *clients[MAX_CLIENTS + 1];
static int nfds = 1;
static const char *root = "/";
static long requests, limit = -1;

static const char *content_type(const char *path)
{
	static const char *types[][2] = {
		{".html", "text/html"}, {".htm", "text/html"}, {".txt", "text/plain"}, {".css", "text/css"},
		{".js", "application/javascript"}, {".json", "application/json"}, {".png", "image/png"},
		{".jpg", "image/jpeg"}, {".svg", "image/svg+xml"},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

static void respond(struct client *c, int status, const char *reason, const char *type, off_t length)
{
	c->out_head = 0;
	c->out_len = snprintf(c->out, OUT_MAX,
			      "HTTP/1.1 %d %s\r\nServer: toro-webserver\r\nContent-Type: %s\r\n"
			      "Content-Length: %lld\r\nConnection: %s\r\n\r\n",
			      status, reason, type, (long long)length, c->keep_alive ? "keep-alive" : "close");
}

static void respond_text(struct client *c, int status, const char *reason, int head_only)
{
	char body[128];
	int n = snprintf(body, sizeof body, "%d %s\n", status, reason);
	respond(c, status, reason, "text/plain", n);
	if (!head_only && c->out_len + n <= OUT_MAX) {
		memcpy(c->out + c->out_len, body, n);
		c->out_len += n;
	}
}

/* A path inside root: no "..", no NUL; a folder means its index.html. */
static int open_target(const char *url, char *path, size_t size, struct stat *st)
{
	char clean[1024];
	size_t n = strcspn(url, "?#");
	if (n >= sizeof clean || url[0] != '/')
		return -1;
	memcpy(clean, url, n);
	clean[n] = 0;
	if (strstr(clean, "/../") || (n >= 3 && strcmp(clean + n - 3, "/..") == 0))
		return -1;
	snprintf(path, size, "%s%s%s", root, root[strlen(root) - 1] == '/' ? clean + 1 : clean,
		 clean[n - 1] == '/' ? "index.html" : "");
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, st) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		strncat(path, "/index.html", size - strlen(path) - 1);
		fd = open(path, O_RDONLY);
		if (fd < 0 || fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	return fd;
}

/* Parses the request at the front of c->req; 0 when it is not complete. */
static int handle_request(struct client *c)
{
	char *end = memmem(c->req, c->req_len, "\r\n\r\n", 4);
	if (!end)
		return c->req_len == REQ_MAX ? -1 : 0;
	*end = 0;
	size_t used = end + 4 - c->req;
	char method[16], url[2048], version[16];
	int ok = sscanf(c->req, "%15s %2047s %15s", method, url, version) == 3;
	c->keep_alive = ok && strcmp(version, "HTTP/1.1") == 0;
	for (char *h = strstr(c->req, "\r\n"); h; h = strstr(h + 2, "\r\n")) {
		if (strncasecmp(h + 2, "Connection:", 11) == 0) {
			const char *v = h + 13;
			while (*v == ' ')
				v++;
			if (strncasecmp(v, "close", 5) == 0)
				c->keep_alive = 0;
			else if (strncasecmp(v, "keep-alive", 10) == 0)
				c->keep_alive = 1;
		}
	}
	int head = ok && strcmp(method, "HEAD") == 0;
	char path[4096];
	struct stat st;
	if (!ok) {
		c->keep_alive = 0;
		respond_text(c, 400, "Bad Request", 0);
	} else if (!head && strcmp(method, "GET") != 0) {
		respond_text(c, 501, "Not Implemented", 0);
	} else if ((c->file = open_target(url, path, sizeof path, &st)) < 0) {
		respond_text(c, 404, "Not Found", head);
	} else {
		respond(c, 200, "OK", content_type(path), st.st_size);
		c->left = head ? 0 : st.st_size;
		if (!c->left) {
			close(c->file);
			c->file = -1;
		}
	}
	memmove(c->req, c->req + used, c->req_len - used);
	c->req_len -= used;
	requests++;
	return 1;
}

/* Sends what the socket takes of the body, straight from the file;
 * 0 when it would block, -1 on an error. */
static int send_body(struct client *c)
{
	ssize_t n = sendfile(c->fd, c->file, NULL, c->left);
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	if (n == 0) {
		fprintf(stderr, "webserver: the file shrank while being sent\n");
		return -1;
	}
	c->left -= n;
	if (!c->left) {
		close(c->file);
		c->file = -1;
	}
	return 1;
}

/* Moves the connection on as far as it can without waiting; -1 ends it. */
static int serve(int i)
{
	struct client *c = clients[i];
	for (;;) {
		if (c->out_len) {
			ssize_t n = write(c->fd, c->out + c->out_head, c->out_len);
			if (n < 0)
				return errno == EAGAIN ? (fds[i].events = POLLOUT, 0) : -1;
			c->out_head += n, c->out_len -= n;
			continue;
		}
		if (c->file >= 0) {
			int r = send_body(c);
			if (r < 0)
				return -1;
			if (r == 0) {
				fds[i].events = POLLOUT;
				return 0;
			}
			continue;
		}
		/* The response is out: the next request, if any. */
		if (!c->keep_alive)
			return -1;
		int r = handle_request(c);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (requests && limit >= 0 && requests >= limit)
			return -1;
		ssize_t n = read(c->fd, c->req + c->req_len, REQ_MAX - c->req_len);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return -1;
		if (n < 0) {
			fds[i].events = POLLIN;
			return 0;
		}
		c->req_len += n;
	}
}

static void drop(int i)
{
	struct client *c = clients[i];
	close(c->fd);
	if (c->file >= 0)
		close(c->file);
	free(c);
	fds[i] = fds[nfds - 1];
	clients[i] = clients[nfds - 1];
	nfds--;
}

static void accept_all(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct client *c = nfds <= MAX_CLIENTS ? calloc(1, sizeof *c) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->file = -1;
		c->keep_alive = 1;
		fds[nfds] = (struct pollfd){fd, POLLIN, 0};
		clients[nfds++] = c;
	}
}

int main(int argc, char **argv)
{
	unsigned port = 80;
	int opt;
	while ((opt = getopt(argc, argv, "p:r:n:")) != -1) {
		if (opt == 'p')
			port = strtoul(optarg, NULL, 10);
		else if (opt == 'r')
			root = optarg;
		else if (opt == 'n')
			limit = strtol(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: webserver [-p PORT] [-r ROOT] [-n REQUESTS]\n");
			return 2;
		}
	}
	struct stat st;
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "webserver: %s: not a folder (share one with toro-run --fs)\n", root);
		return 1;
	}
	int lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_ANY};
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 128) < 0) {
		perror("webserver: listen");
		return 1;
	}
	printf("webserver: serving %s on vsock port %u\n", root, port);
	fflush(stdout);
	fds[0] = (struct pollfd){lfd, POLLIN, 0};
	while (limit < 0 || requests < limit || nfds > 1) {
		if (poll(fds, nfds, -1) < 0) {
			perror("webserver: poll");
			return 1;
		}
		if (fds[0].revents && (limit < 0 || requests < limit))
			accept_all(lfd);
		for (int i = nfds - 1; i >= 1; i--)
			if (fds[i].revents && serve(i) < 0)
				drop(i);
	}
	printf("webserver: %ld requests served\n", requests);
	return 0;
}
