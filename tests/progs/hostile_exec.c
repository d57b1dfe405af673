/* Guarded. Runs, says so, then tries to exec another program in the way its
 * argument (after the guard's two) names, and reports what came back:
 *
 *   none      nothing more: "ran", exit 0
 *   execve    execve("/bin/true"); on failure "execve err ERRNO", exit 1
 *   execveat  execveat(fd of /bin/true, "", AT_EMPTY_PATH); on failure
 *             "execveat err ERRNO", exit 1
 *   system    system("/bin/true"): "system exited N" or "system signal N", exit 0
 *   orphan    a grandchild, orphaned to the init, execve("/bin/true"); waits until
 *             the init reaped it, then "orphan gone", exit 0
 *
 * A successful exec becomes /bin/true: the run then exits 0 having printed "ran".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

int main(int argc, char **argv)
{
	int first = sandbox_guard(argc, argv);
	if (first >= argc)
		return 2;
	const char *mode = argv[first];
	printf("ran\n");
	/* The next call may kill the process: flush now. */
	fflush(stdout);
	char *child_argv[] = {"true", NULL};
	char *child_env[] = {NULL};
	if (strcmp(mode, "none") == 0)
		return 0;
	if (strcmp(mode, "execve") == 0) {
		execve("/bin/true", child_argv, child_env);
		printf("execve err %d\n", errno);
		return 1;
	}
	if (strcmp(mode, "execveat") == 0) {
		int fd = open("/bin/true", O_PATH | O_CLOEXEC);
		if (fd < 0) {
			printf("open err %d\n", errno);
			return 1;
		}
		syscall(SYS_execveat, fd, "", child_argv, child_env, AT_EMPTY_PATH);
		printf("execveat err %d\n", errno);
		return 1;
	}
	if (strcmp(mode, "system") == 0) {
		int status = system("/bin/true");
		if (status != -1 && WIFSIGNALED(status))
			printf("system signal %d\n", WTERMSIG(status));
		else
			printf("system exited %d\n", status == -1 ? -1 : WEXITSTATUS(status));
		return 0;
	}
	if (strcmp(mode, "orphan") == 0) {
		int pipefd[2];
		if (pipe(pipefd) != 0)
			return 1;
		pid_t child = fork();
		if (child == 0) {
			pid_t grandchild = fork();
			if (grandchild == 0) {
				close(pipefd[0]);
				/* The write end stays open until this process is gone. */
				execve("/bin/true", child_argv, child_env);
				_exit(1);
			}
			/* Tell the main process whom to watch, then leave. */
			if (write(pipefd[1], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
				_exit(1);
			_exit(0);
		}
		close(pipefd[1]);
		waitpid(child, NULL, 0);
		pid_t grandchild = 0;
		char rest;
		if (read(pipefd[0], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
			return 1;
		/* EOF: the grandchild exec'd or died; then wait until the init reaped it. */
		while (read(pipefd[0], &rest, 1) > 0)
			;
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/%d", (int)grandchild);
		while (access(proc, F_OK) == 0)
			usleep(1000);
		printf("orphan gone\n");
		return 0;
	}
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
