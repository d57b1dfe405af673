/* Prints "self=PID" and then the processes visible in /proc, ascending, one line:
 * "procs=1 2". */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int ascending(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

int main(void)
{
	DIR *dir = opendir("/proc");
	if (dir == NULL) {
		perror("/proc");
		return 2;
	}
	long pids[4096];
	int count = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL && count < 4096) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (e->d_name[0] != '\0' && *end == '\0')
			pids[count++] = pid;
	}
	closedir(dir);
	qsort(pids, (size_t)count, sizeof(long), ascending);
	printf("self=%ld\nprocs=", (long)getpid());
	for (int i = 0; i < count; i++)
		printf(i ? " %ld" : "%ld", pids[i]);
	printf("\n");
	return 0;
}
