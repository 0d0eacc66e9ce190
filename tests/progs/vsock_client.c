/* Connects out to the host (CID 2, port argv[1]), sends argv[2] and a
 * newline, shuts down its sending side and prints what comes back until
 * the host closes. Status 0 when the host echoed the message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../apps/vm_sockets.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: vsock_client PORT MESSAGE\n");
		return 2;
	}
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = atoi(argv[1])};
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		printf("vsock_client: connect: %s\n", strerror(errno));
		return 1;
	}
	char msg[512], got[512];
	int n = snprintf(msg, sizeof msg, "%s\n", argv[2]), have = 0;
	if (write(fd, msg, n) != n || shutdown(fd, SHUT_WR) < 0) {
		printf("vsock_client: write: %s\n", strerror(errno));
		return 1;
	}
	for (ssize_t r; have < (int)sizeof got - 1 && (r = read(fd, got + have, sizeof got - 1 - have)) > 0;)
		have += r;
	got[have] = 0;
	printf("vsock_client: host said: %s", got);
	close(fd);
	return strcmp(got, msg) == 0 ? 0 : 1;
}
