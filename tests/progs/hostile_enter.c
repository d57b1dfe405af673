/* Guarded. Watches for processes entering its container from the host and tries
 * to reach each one: open /proc/PID/exe, /proc/PID/mem and /proc/PID/fd, and
 * PTRACE_ATTACH. Arguments after the guard's two:
 *
 *   PROGRAM  the path of the one program that is expected to enter and exec
 *   STOP     a path: the watch ends once it exists
 *   SEEN     a path: rewritten with the number of PROGRAM processes reached so far
 *
 * Reaching a process after its exec of PROGRAM is legitimate (same uid, its own
 * memory), and such a process is then left alone. Reaching one whose executable
 * is anything else (a helper still holding the host's memory and privileges,
 * before its exec) is a breach: it prints "breach PID HOW" for the first few.
 * At the end: "seen=N breaches=M", exit 0. The test's entries that never exec
 * end with 127; nothing else that enters does.
 *
 * Needs a seccomp policy that allows ptrace to mean anything.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

static struct stat expected;
static int seen, breaches;
static int seen_pids[4096];

/* What /proc/PID/exe shows at this instant: 1 the expected program, 0 another
 * executable, -1 access denied, -2 the process is gone. */
static int exe_state(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -2 : -1;
	struct stat st;
	int same = fstat(fd, &st) == 0 && st.st_dev == expected.st_dev &&
		   st.st_ino == expected.st_ino;
	close(fd);
	return same;
}

static int known(int pid)
{
	for (int i = 0; i < seen && i < 4096; i++)
		if (seen_pids[i] == pid)
			return 1;
	return 0;
}

static void note_seen(int pid, const char *seen_path)
{
	if (known(pid))
		return;
	if (seen < 4096)
		seen_pids[seen] = pid;
	seen++;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", seen_path);
	FILE *f = fopen(tmp, "w");
	if (f) {
		fprintf(f, "%d\n", seen);
		fclose(f);
		rename(tmp, seen_path);
	}
}

static void report_breach(int pid, const char *how)
{
	if (breaches++ < 20) {
		char comm[64] = "?", path[64];
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		printf("breach %d %s (%s, exe %d)\n", pid, how, comm, exe_state(pid));
		fflush(stdout);
	}
}

/* Access was granted to `pid` by `how`: legitimate only if it runs PROGRAM now
 * (it may have exec'd it since); nothing can be told once it is gone. */
static void granted(int pid, const char *how, const char *seen_path)
{
	switch (exe_state(pid)) {
	case 1:
		note_seen(pid, seen_path);
		break;
	case -2:
		break;
	default:
		report_breach(pid, how);
	}
}

static void probe(int pid, const char *seen_path)
{
	switch (exe_state(pid)) {
	case 1:
		note_seen(pid, seen_path);
		return;
	case 0:
		report_breach(pid, "exe");
		return;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		granted(pid, "mem", seen_path);
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (d) {
		closedir(d);
		granted(pid, "fd", seen_path);
	}
	if (ptrace(PTRACE_ATTACH, pid, 0, 0) == 0) {
		int status;
		if (waitpid(pid, &status, __WALL) != pid) {
			report_breach(pid, "ptrace-wait");
		} else if (WIFSTOPPED(status)) {
			/* Stopped, it cannot exec: what it runs now is what we reached. */
			granted(pid, "ptrace", seen_path);
			ptrace(PTRACE_DETACH, pid, 0, 0);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
			/* It ended before stopping, as an entry that never exec'd does
			 * (127); PROGRAM ends with 0 or is killed. */
			report_breach(pid, "ptrace");
		}
	}
}

int main(int argc, char **argv)
{
	int first = sandbox_guard(argc, argv);
	if (first + 3 > argc)
		return 2;
	const char *program = argv[first], *stop = argv[first + 1], *seen_path = argv[first + 2];
	if (stat(program, &expected) != 0) {
		printf("cannot stat %s: %d\n", program, errno);
		return 3;
	}
	int self = getpid();
	while (access(stop, F_OK) != 0) {
		DIR *proc = opendir("/proc");
		if (!proc)
			return 4;
		struct dirent *e;
		while ((e = readdir(proc)) != NULL) {
			int pid = atoi(e->d_name);
			/* A process already shown to run PROGRAM is left alone. */
			if (pid > 0 && pid != self && !known(pid))
				probe(pid, seen_path);
		}
		closedir(proc);
	}
	printf("seen=%d breaches=%d\n", seen, breaches);
	return 0;
}
