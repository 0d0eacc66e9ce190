/* Every rank at once: writes its own file out.<rank> (256 KiB + rank
 * bytes, in 1000-byte writes) and reads the shared file shared.bin (made
 * by the host: byte i is i % 253) several times. Uses TORO_RANK; on
 * Linux it is rank 0. Prints "rank R ok" or "rank R FAIL ...". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHARED (1 << 20)

static int fail(int rank, const char *what)
{
	printf("rank %d FAIL %s: %s\n", rank, what, strerror(errno));
	return 1;
}

int main(void)
{
	const char *r = getenv("TORO_RANK");
	int rank = r ? atoi(r) : 0;
	char name[32];
	snprintf(name, sizeof name, "out.%d", rank);
	size_t size = (256 << 10) + rank;
	unsigned char *buf = malloc(SHARED + 70000); /* room for the last read() */
	for (size_t i = 0; i < size; i++)
		buf[i] = (unsigned char)(i * 31 + rank);
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail(rank, "open for writing");
	for (size_t off = 0; off < size; off += 1000) {
		size_t n = size - off < 1000 ? size - off : 1000;
		if (write(fd, buf + off, n) != (ssize_t)n)
			return fail(rank, "write");
	}
	if (close(fd) < 0)
		return fail(rank, "close");
	for (int round = 0; round < 4; round++) {
		fd = open("shared.bin", O_RDONLY);
		if (fd < 0)
			return fail(rank, "open shared.bin");
		size_t got = 0;
		ssize_t n;
		while ((n = read(fd, buf + got, 65536 + rank * 100)) > 0)
			got += n;
		close(fd);
		if (n < 0 || got != SHARED) {
			errno = n < 0 ? errno : 0;
			return fail(rank, "read shared.bin");
		}
		for (size_t i = 0; i < SHARED; i++)
			if (buf[i] != i % 253) {
				printf("rank %d FAIL shared.bin differs at %zu\n", rank, i);
				return 1;
			}
	}
	printf("rank %d ok\n", rank);
	return 0;
}
