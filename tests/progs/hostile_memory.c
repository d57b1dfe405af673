/* Guarded. Uses memory.
 *
 *   hostile_memory NS NS bomb          allocates and touches 1 MiB after 1 MiB forever
 *   hostile_memory NS NS child-bomb    forks a child that does the same, waits for it,
 *                                      prints "child signal N" or "child exit N", exits 0
 *   hostile_memory NS NS touch MIB     allocates and touches MIB MiB, prints
 *                                      "touched MIB", exits 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

#define MIB (1024 * 1024)

static void bomb(void)
{
	for (;;) {
		char *p = malloc(MIB);
		if (p == NULL) {
			/* Without a memory cgroup the allocation fails instead. */
			fprintf(stderr, "malloc failed\n");
			_exit(3);
		}
		memset(p, 0x5a, MIB);
	}
}

int main(int argc, char **argv)
{
	int first = sandbox_guard(argc, argv);
	if (first < argc && strcmp(argv[first], "bomb") == 0)
		bomb();
	if (first < argc && strcmp(argv[first], "child-bomb") == 0) {
		fflush(stdout);
		pid_t child = fork();
		if (child < 0) {
			perror("fork");
			return 4;
		}
		if (child == 0)
			bomb();
		int status;
		if (waitpid(child, &status, 0) != child) {
			perror("waitpid");
			return 5;
		}
		if (WIFSIGNALED(status))
			printf("child signal %d\n", WTERMSIG(status));
		else
			printf("child exit %d\n", WEXITSTATUS(status));
		return 0;
	}
	if (first + 1 < argc && strcmp(argv[first], "touch") == 0) {
		long mib = atol(argv[first + 1]);
		char *p = malloc((size_t)mib * MIB);
		if (p == NULL) {
			perror("malloc");
			return 6;
		}
		memset(p, 0x5a, (size_t)mib * MIB);
		printf("touched %ld\n", mib);
		/* Keep the memory until the end: the peak must be the whole of it. */
		return p[(size_t)mib * MIB - 1] == 0x5a ? 0 : 7;
	}
	fprintf(stderr, "usage: hostile_memory NS NS bomb | child-bomb | touch MIB\n");
	return 2;
}
