/* Guarded. Tries to kill everything it can name, printing each result:
 *
 *   "kill -1 ok|err E" then "child signal N" (a child forked before: kill(-1) must
 *   reach the program's own processes), "kill 1 ok|err E", "kill ppid P ok|err E",
 *   then a sweep of SIGKILL over pids 2..65536 but its own, with a fresh child alive:
 *   "sweep killed K" (exactly that child, when nothing else is visible), and
 *   "survived" at the end. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

static void result(const char *what, int rc)
{
	if (rc == 0)
		printf("%s ok\n", what);
	else
		printf("%s err %d\n", what, errno);
	fflush(stdout);
}

static pid_t sleeper(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		_exit(3);
	}
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void report_child(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		_exit(4);
	}
	if (WIFSIGNALED(status))
		printf("child signal %d\n", WTERMSIG(status));
	else
		printf("child exit %d\n", WEXITSTATUS(status));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	sandbox_guard(argc, argv);
	pid_t child = sleeper();
	result("kill -1", kill(-1, SIGKILL));
	report_child(child);
	result("kill 1", kill(1, SIGKILL));
	char what[64];
	pid_t parent = getppid();
	snprintf(what, sizeof(what), "kill ppid %ld", (long)parent);
	result(what, kill(parent, SIGKILL));

	child = sleeper();
	pid_t self = getpid();
	int killed = 0;
	for (pid_t pid = 2; pid <= 65536; pid++) {
		if (pid != self && kill(pid, SIGKILL) == 0)
			killed++;
	}
	printf("sweep killed %d\n", killed);
	report_child(child);
	printf("survived\n");
	return 0;
}
