/* Guarded. A fork bomb: every process forks forever. The first process prints, once,
 * how many of its own forks succeeded before the first failure and that failure's
 * errno ("forks N errno E"), then keeps forking with the others. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"

int main(int argc, char **argv)
{
	sandbox_guard(argc, argv);
	pid_t main_pid = getpid();
	int forks = 0;
	int reported = 0;
	for (;;) {
		pid_t pid = fork();
		if (pid > 0 && getpid() == main_pid) {
			forks++;
		} else if (pid < 0 && getpid() == main_pid && !reported) {
			char line[64];
			int n = snprintf(line, sizeof(line), "forks %d errno %d\n", forks, errno);
			/* write(2), not stdio: no buffer for the children to inherit. */
			if (write(1, line, (size_t)n) != n)
				return 3;
			reported = 1;
		}
	}
}
