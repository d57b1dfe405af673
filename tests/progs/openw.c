/* Guarded. For each path after the guard's arguments, tries to open it for writing
 * and closes it at once WITHOUT WRITING ANYTHING (the paths probed are dangerous
 * host controls such as /proc/sysrq-trigger); prints "PATH ok" or "PATH err ERRNO". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "guard.h"

int main(int argc, char **argv)
{
	for (int i = sandbox_guard(argc, argv); i < argc; i++) {
		int fd = open(argv[i], O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			printf("%s err %d\n", argv[i], errno);
			continue;
		}
		close(fd);
		printf("%s ok\n", argv[i]);
	}
	return 0;
}
