/* Prints the numbers of this process's open descriptors, ascending, space-separated,
 * leaving out the descriptor of the directory stream used to list them. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static int ascending(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int main(void)
{
	DIR *dir = opendir("/proc/self/fd");
	if (dir == NULL) {
		perror("/proc/self/fd");
		return 2;
	}
	int own = dirfd(dir);
	int fds[4096];
	int count = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL && count < 4096) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int fd = atoi(e->d_name);
		if (fd != own)
			fds[count++] = fd;
	}
	closedir(dir);
	qsort(fds, (size_t)count, sizeof(int), ascending);
	for (int i = 0; i < count; i++)
		printf(i ? " %d" : "%d", fds[i]);
	printf("\n");
	return 0;
}
