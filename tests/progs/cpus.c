/* Reports the CPUs this process may use and tries to widen them.
 *
 * Guarded (see guard.h). Prints, one "key=value" per line, CPU lists in the
 * kernel's form ("0-1,3"):
 *   affinity=   sched_getaffinity
 *   status=     Cpus_allowed_list of /proc/self/status
 * then asks sched_setaffinity for every CPU the kernel can number and prints
 *   widen=      0 or the errno
 *   widened=    sched_getaffinity after it
 *   ran_on=     the CPUs sched_getcpu saw during a short busy loop after it
 * and, given a CPU number as the next argument, asks for that CPU alone:
 *   only=       0 or the errno (EINVAL when it lies outside the cgroup's CPUs)
 *   after_only= sched_getaffinity after it
 */
#define _GNU_SOURCE
#include "guard.h"
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_list(const char *key, const cpu_set_t *set)
{
	printf("%s=", key);
	int first = 1;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, set))
			continue;
		int last = cpu;
		while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set))
			last++;
		printf(first ? "" : ",");
		if (last == cpu)
			printf("%d", cpu);
		else
			printf("%d-%d", cpu, last);
		first = 0;
		cpu = last;
	}
	printf("\n");
}

static void print_affinity(const char *key)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		printf("%s=error %d\n", key, errno);
		return;
	}
	print_list(key, &set);
}

static void print_status(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[4096];
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
			char *value = line + 18;
			while (*value == ' ' || *value == '\t')
				value++;
			printf("status=%s", value);
		}
	}
	if (f != NULL)
		fclose(f);
}

int main(int argc, char **argv)
{
	int next = sandbox_guard(argc, argv);
	print_affinity("affinity");
	print_status();

	cpu_set_t all;
	CPU_ZERO(&all);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &all);
	printf("widen=%d\n", sched_setaffinity(0, sizeof(all), &all) == 0 ? 0 : errno);
	print_affinity("widened");

	cpu_set_t seen;
	CPU_ZERO(&seen);
	for (int i = 0; i < 200000; i++) {
		int cpu = sched_getcpu();
		if (cpu >= 0 && cpu < CPU_SETSIZE)
			CPU_SET(cpu, &seen);
		if (i % 1000 == 0)
			sched_yield();
	}
	print_list("ran_on", &seen);

	if (next < argc) {
		cpu_set_t only;
		CPU_ZERO(&only);
		CPU_SET(atoi(argv[next]), &only);
		printf("only=%d\n", sched_setaffinity(0, sizeof(only), &only) == 0 ? 0 : errno);
		print_affinity("after_only");
	}
	return 0;
}
