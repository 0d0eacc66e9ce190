/* Keeps using files until a call fails, then says which errno it got and
 * ends with status 3. tests/test_fs.py kills virtiofsd under it: the
 * calls must fail with EIO, not hang. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char buf[4096];
	memset(buf, 'k', sizeof buf);
	for (long i = 0;; i++) {
		int fd = open("/kill.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, buf, sizeof buf) != sizeof buf || pread(fd, buf, sizeof buf, 0) != sizeof buf ||
		    close(fd) < 0) {
			int e = errno;
			printf("file call failed after %ld rounds: errno %d (%s)\n", i, e, strerror(e));
			return 3;
		}
		if (i == 0) {
			printf("started\n");
			fflush(stdout);
		}
	}
}
