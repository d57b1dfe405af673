/* Guarded. Floods output.
 *
 *   hostile_flood NS NS stdout         writes "y\n" to stdout forever
 *   hostile_flood NS NS stdout-ignore  the same with SIGXFSZ ignored; on the first
 *                                      failed write prints "write err E" to stderr
 *                                      and exits 0
 *   hostile_flood NS NS file PATH      writes 64 KiB blocks to PATH forever
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"

static char block[64 * 1024];

static int flood(int fd, int stop_on_error)
{
	for (;;) {
		ssize_t n = write(fd, block, sizeof(block));
		if (n < 0) {
			if (stop_on_error) {
				fprintf(stderr, "write err %d\n", errno);
				return 0;
			}
			return 4;
		}
	}
}

int main(int argc, char **argv)
{
	int first = sandbox_guard(argc, argv);
	for (size_t i = 0; i < sizeof(block); i += 2)
		memcpy(block + i, "y\n", 2);
	if (first < argc && strcmp(argv[first], "stdout") == 0)
		return flood(1, 0);
	if (first < argc && strcmp(argv[first], "stdout-ignore") == 0) {
		signal(SIGXFSZ, SIG_IGN);
		return flood(1, 1);
	}
	if (first + 1 < argc && strcmp(argv[first], "file") == 0) {
		int fd = open(argv[first + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			perror(argv[first + 1]);
			return 3;
		}
		return flood(fd, 0);
	}
	fprintf(stderr, "usage: hostile_flood NS NS stdout | stdout-ignore | file PATH\n");
	return 2;
}
