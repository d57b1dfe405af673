/* Guarded. For each path after the guard's arguments, tries to create it and write
 * one byte; prints "PATH ok" or "PATH err ERRNO". Always exits 0 once it acted. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "guard.h"

int main(int argc, char **argv)
{
	for (int i = sandbox_guard(argc, argv); i < argc; i++) {
		int fd = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			printf("%s err %d\n", argv[i], errno);
			continue;
		}
		if (write(fd, "x", 1) != 1)
			printf("%s err %d\n", argv[i], errno);
		else
			printf("%s ok\n", argv[i]);
		close(fd);
	}
	return 0;
}
