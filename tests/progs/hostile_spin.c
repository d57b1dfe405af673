/* Guarded. Burns CPU time.
 *
 *   hostile_spin NS NS forever          spins until killed
 *   hostile_spin NS NS cpu SECONDS      spins until the process has used SECONDS of
 *                                       CPU time, then exits 0
 *   hostile_spin NS NS threads N SECONDS
 *                                       N threads each spin SECONDS of wall time
 *                                       (the main thread waits), then exits 0
 *
 * scpool-test-cflags: -pthread
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard.h"

static double seconds_of(clockid_t clock)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts) != 0) {
		perror("clock_gettime");
		exit(3);
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile unsigned long sink;

static void spin_a_little(void)
{
	for (int i = 0; i < 10000; i++)
		sink++;
}

static void *spin_wall(void *arg)
{
	double seconds = *(const double *)arg;
	double end = seconds_of(CLOCK_MONOTONIC) + seconds;
	while (seconds_of(CLOCK_MONOTONIC) < end)
		spin_a_little();
	return NULL;
}

int main(int argc, char **argv)
{
	int first = sandbox_guard(argc, argv);
	if (first < argc && strcmp(argv[first], "forever") == 0) {
		for (;;)
			sink++;
	}
	if (first + 1 < argc && strcmp(argv[first], "cpu") == 0) {
		double seconds = atof(argv[first + 1]);
		while (seconds_of(CLOCK_PROCESS_CPUTIME_ID) < seconds)
			spin_a_little();
		return 0;
	}
	if (first + 2 < argc && strcmp(argv[first], "threads") == 0) {
		int n = atoi(argv[first + 1]);
		double seconds = atof(argv[first + 2]);
		pthread_t threads[64];
		if (n < 1 || n > 64) {
			fprintf(stderr, "1 to 64 threads\n");
			return 2;
		}
		for (int i = 0; i < n; i++) {
			int err = pthread_create(&threads[i], NULL, spin_wall, &seconds);
			if (err != 0) {
				fprintf(stderr, "pthread_create: %s\n", strerror(err));
				return 4;
			}
		}
		for (int i = 0; i < n; i++)
			pthread_join(threads[i], NULL);
		return 0;
	}
	fprintf(stderr, "usage: hostile_spin NS NS forever | cpu SECONDS | threads N SECONDS\n");
	return 2;
}
