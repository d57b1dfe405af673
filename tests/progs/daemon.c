/* Guarded. Double-forks a daemon: the child calls setsid and forks again; the
 * grandchild prints "daemon PID" and sleeps 60 s. The parent exits 0 as soon as the
 * grandchild has printed. Every run's processes must die with the run. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

int main(int argc, char **argv)
{
	sandbox_guard(argc, argv);
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) != 0) {
		perror("pipe2");
		return 2;
	}
	fflush(stdout);
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 3;
	}
	if (child == 0) {
		if (setsid() < 0)
			_exit(4);
		pid_t grandchild = fork();
		if (grandchild < 0)
			_exit(5);
		if (grandchild == 0) {
			printf("daemon %ld\n", (long)getpid());
			fflush(stdout);
			if (write(ready[1], "r", 1) != 1)
				_exit(6);
			close(ready[1]);
			sleep(60);
			_exit(0);
		}
		_exit(0);
	}
	close(ready[1]);
	int status;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 7;
	char byte;
	if (read(ready[0], &byte, 1) != 1)
		return 8;
	return 0;
}
