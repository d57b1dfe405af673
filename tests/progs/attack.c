/* Hostile actions for the security tests, one per run: attack HOSTPID HOSTMNT ACTION [ARG].
 * Refuses to act unless it runs in a sandbox (guard.h). Probes print "name errno" lines
 * (errno 0: the call succeeded) and exit 0. */
#define _GNU_SOURCE
#include "guard.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double wall_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void memory_bomb(void)
{
	for (;;) {
		char *p = malloc(1 << 20);
		if (p == NULL)
			_exit(3);
		memset(p, 1, 1 << 20);
	}
}

static void *spin_half_second(void *arg)
{
	double end = wall_seconds() + 0.5;
	volatile unsigned long n = 0;
	(void)arg;
	while (wall_seconds() < end)
		n++;
	return NULL;
}

static void report(const char *name, long rc)
{
	printf("%s %d\n", name, rc < 0 ? errno : 0);
}

static void probe_escapes(void)
{
	report("mount", mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
	report("unshare", unshare(CLONE_NEWUSER | CLONE_NEWNS));
	report("chroot", chroot("/tmp"));
	report("sethostname", sethostname("evil", 4));
	report("setuid0", setuid(0));
	report("setns", setns(open("/proc/1/ns/mnt", O_RDONLY), 0));
	report("ptrace_init", ptrace(PTRACE_ATTACH, 1, NULL, NULL));
	report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	report("userfaultfd", syscall(SYS_userfaultfd, 0));
	report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
	report("bpf", syscall(SYS_bpf, 0, NULL, 0));
	report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
	report("clone_newns", syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0));
	report("clone3", syscall(SYS_clone3, NULL, 0));
	report("x32_getpid", syscall(0x40000000 | SYS_getpid));
	struct rlimit nofile;
	getrlimit(RLIMIT_NOFILE, &nofile);
	nofile.rlim_max += 1;
	nofile.rlim_cur = nofile.rlim_max;
	report("raise_nofile", setrlimit(RLIMIT_NOFILE, &nofile));
	report("proc1_root", open("/proc/1/root/etc", O_RDONLY));
	report("proc1_fd", open("/proc/1/fd", O_RDONLY | O_DIRECTORY));
	report("shadow", open("/etc/shadow", O_RDONLY));
}

int main(int argc, char **argv)
{
	int first = sandbox_guard(argc, argv);
	if (argc <= first)
		return 2;
	const char *action = argv[first];
	const char *arg = argc > first + 1 ? argv[first + 1] : "0";
	setvbuf(stdout, NULL, _IONBF, 0);

	if (strcmp(action, "spin") == 0) {
		for (volatile unsigned long n = 0;; n++)
			;
	} else if (strcmp(action, "spin_cpu") == 0) {
		/* Burn ARG seconds of CPU, then exit 0. */
		double until = atof(arg);
		volatile unsigned long n = 0;
		while (cpu_seconds() < until)
			n++;
		return 0;
	} else if (strcmp(action, "sleep") == 0) {
		sleep(30);
	} else if (strcmp(action, "membomb") == 0) {
		memory_bomb();
	} else if (strcmp(action, "membomb_child") == 0) {
		pid_t child = fork();
		if (child == 0)
			memory_bomb();
		int status;
		waitpid(child, &status, 0);
		return WIFSIGNALED(status) ? 10 + WTERMSIG(status) : 1;
	} else if (strcmp(action, "alloc") == 0) {
		size_t bytes = (size_t)atol(arg) << 20;
		char *p = malloc(bytes);
		if (p == NULL)
			return 3;
		memset(p, 1, bytes);
		return 0;
	} else if (strcmp(action, "forkbomb") == 0) {
		for (;;)
			fork();
	} else if (strcmp(action, "flood_stdout") == 0) {
		static char line[4096];
		memset(line, 'y', sizeof(line));
		for (;;)
			if (write(1, line, sizeof(line)) < 0)
				return 4;
	} else if (strcmp(action, "flood_file") == 0) {
		static char block[65536];
		int fd = open("/w/big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		for (;;)
			if (write(fd, block, sizeof(block)) < 0)
				return 4;
	} else if (strcmp(action, "threads") == 0) {
		pthread_t t;
		pthread_create(&t, NULL, spin_half_second, NULL);
		spin_half_second(NULL);
		pthread_join(t, NULL);
		printf("%.6f\n", cpu_seconds());
		return 0;
	} else if (strcmp(action, "kill_all") == 0) {
		report("kill_all", kill(-1, SIGKILL));
		report("kill_init", kill(1, SIGKILL));
		report("kill_parent", kill(getppid(), SIGKILL));
		return 0;
	} else if (strcmp(action, "escapes") == 0) {
		probe_escapes();
		return 0;
	} else if (strcmp(action, "socket") == 0) {
		socket(AF_INET, SOCK_STREAM, 0);
		return 0;
	} else if (strcmp(action, "fork") == 0) {
		if (fork() == 0)
			_exit(0);
		return 0;
	} else if (strcmp(action, "x32") == 0) {
		report("x32_getpid", syscall(0x40000000 | SYS_getpid));
		return 0;
	} else if (strcmp(action, "hello") == 0) {
		printf("hello\n");
		return 0;
	}
	return 2;
}
