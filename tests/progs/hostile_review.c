/* Guarded. Attacks on what a run leaves behind and on the per-run reaper of a
 * rootless run's PID namespace. The first argument after the guard's two picks the
 * action; each attempt prints one line, "NAME ok" or "NAME err ERRNO":
 *   reaper          act on PID 1 of the run's PID namespace (the reaper in rootless
 *                   mode, the init as root): ptrace, signals, its memory and its
 *                   descriptors
 *   stragglers      leave processes that are stopped, ptrace-stopped and in a new
 *                   session, then exit 0
 *   procs           print "pids N" (the number of /proc/<pid> directories seen)
 *   persist-add     put a key into the uid's persistent keyring
 *   persist-find    search the persistent keyring for it
 *   subdir-mark     in a subdirectory of /w and /tmp: an xattr and an ACL, then remove
 *                   the subdirectory and put the roots' atime and mtime back
 *   inflight        create inotify instances and leave them in flight in a unix
 *                   socket that holds itself, then exit
 *   touch2 MIB      two children touch MIB/2 MiB each and hold it until both have,
 *                   then all exit 0 ("touched MIB")
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "guard.h"

static void say(const char *name, long rc)
{
	if (rc < 0)
		printf("%s err %d\n", name, errno);
	else
		printf("%s ok\n", name);
	fflush(stdout);
}

static int reaper(void)
{
	say("ptrace-attach", ptrace(PTRACE_ATTACH, 1, 0, 0));
	say("ptrace-seize", ptrace(PTRACE_SEIZE, 1, 0, 0));
	char buf[16];
	struct iovec local = {buf, sizeof(buf)};
	/* Any mapped address of the target will do: ours are the same executable's
	 * in root mode, and the call fails on permission before it looks. */
	struct iovec remote = {(void *)&say, sizeof(buf)};
	say("vm-read", syscall(SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0));
	say("mem-open", open("/proc/1/mem", O_RDONLY));
	long pidfd = syscall(SYS_pidfd_open, 1, 0);
	/* The reaper holds copies of the init's descriptors; 3 is the control socket. */
	say("getfd", pidfd < 0 ? pidfd : syscall(SYS_pidfd_getfd, (int)pidfd, 3, 0));
	/* PID 1 of a namespace ignores signals it has no handler for. */
	say("kill-term", kill(1, SIGTERM));
	say("kill-kill", kill(1, SIGKILL));
	say("kill-stop", kill(1, SIGSTOP));
	usleep(100 * 1000);
	say("still-here", 0);
	return 0;
}

static int stragglers(void)
{
	pid_t stopped = fork();
	if (stopped == 0) {
		raise(SIGSTOP);
		for (;;)
			pause();
	}
	pid_t traced = fork();
	if (traced == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		for (;;)
			pause();
	}
	pid_t session = fork();
	if (session == 0) {
		setsid();
		if (fork() == 0) {
			for (;;)
				pause();
		}
		_exit(0);
	}
	waitpid(session, NULL, 0);
	/* Let both stops happen before we leave. */
	usleep(100 * 1000);
	printf("stragglers %d %d\n", (int)stopped, (int)traced);
	return 0;
}

static int procs(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 2;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			n++;
	closedir(d);
	printf("pids %d\n", n);
	return 0;
}

/* KEYCTL_GET_PERSISTENT = 22, KEYCTL_SEARCH = 10, KEY_SPEC_PROCESS_KEYRING = -2 */
static long persistent_keyring(void)
{
	return syscall(SYS_keyctl, 22, -1, -2);
}

static int persist(int add)
{
	long ring = persistent_keyring();
	say("persistent", ring);
	if (ring < 0)
		return 0;
	if (add)
		say("persist-add",
		    syscall(SYS_add_key, "user", "scpool-persist", "secret", 6, ring));
	else
		say("persist-find", syscall(SYS_keyctl, 10, ring, "user", "scpool-persist", 0));
	return 0;
}

static int set_acl(const char *path)
{
	struct { uint16_t tag, perm; uint32_t id; } entries[] = {
		/* The named user is ourselves: the only id mapped in a user namespace. */
		{0x01, 7, UINT32_MAX}, {0x02, 0, (uint32_t)getuid()}, {0x04, 5, UINT32_MAX},
		{0x10, 5, UINT32_MAX}, {0x20, 5, UINT32_MAX},
	};
	unsigned char buf[4 + sizeof(entries)];
	uint32_t version = 2;
	memcpy(buf, &version, 4);
	memcpy(buf + 4, entries, sizeof(entries));
	return setxattr(path, "system.posix_acl_access", buf, sizeof(buf), 0);
}

static int subdir_mark(void)
{
	const char *dirs[] = {"/w", "/tmp"};
	for (int i = 0; i < 2; i++) {
		struct stat root;
		if (stat(dirs[i], &root) != 0)
			return 2;
		char sub[64], name[80];
		snprintf(sub, sizeof(sub), "%s/sub", dirs[i]);
		snprintf(name, sizeof(name), "%s-mkdir", dirs[i]);
		say(name, mkdir(sub, 0755));
		snprintf(name, sizeof(name), "%s-sub-xattr", dirs[i]);
		say(name, setxattr(sub, "user.scpool-mark", "x", 1, 0));
		snprintf(name, sizeof(name), "%s-sub-acl", dirs[i]);
		say(name, set_acl(sub));
		snprintf(name, sizeof(name), "%s-rmdir", dirs[i]);
		say(name, rmdir(sub));
		struct timespec back[2] = {root.st_atim, root.st_mtim};
		snprintf(name, sizeof(name), "%s-times-back", dirs[i]);
		say(name, utimensat(AT_FDCWD, dirs[i], back, 0));
	}
	return 0;
}

static int send_fds(int sock, const int *fds, int n)
{
	char byte = 'x';
	struct iovec iov = {&byte, 1};
	char control[CMSG_SPACE(sizeof(int) * 64)];
	memset(control, 0, sizeof(control));
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return (int)sendmsg(sock, &msg, 0);
}

static int inflight(void)
{
	int pair[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) != 0)
		return 2;
	int made = 0;
	for (;;) {
		int fds[64], n = 0;
		while (n < 64 && (fds[n] = inotify_init1(IN_CLOEXEC)) >= 0)
			n++;
		if (n == 0 || send_fds(pair[0], fds, n) < 0)
			break;
		made += n;
		for (int i = 0; i < n; i++)
			close(fds[i]);
	}
	/* Both ends in flight inside the socket itself: a cycle only the garbage
	 * collector can free. */
	int ends[2] = {pair[0], pair[1]};
	say("cycle", send_fds(pair[0], ends, 2));
	printf("inflight %d\n", made);
	return 0;
}

static void touch(size_t mib)
{
	/* volatile: the compiler may not drop stores nothing reads. */
	volatile char *p = malloc(mib << 20);
	if (p == NULL)
		_exit(3);
	for (size_t i = 0; i < (mib << 20); i += 4096)
		p[i] = 0x5a;
}

static int touch2(size_t mib)
{
	int done[2], release[2];
	if (pipe(done) != 0 || pipe(release) != 0)
		return 2;
	pid_t kids[2];
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			printf("fork err %d\n", errno);
			return 2;
		}
		if (kids[i] == 0) {
			close(release[1]);
			close(done[0]);
			touch(mib / 2);
			char b = 'x';
			if (write(done[1], &b, 1) != 1 || read(release[0], &b, 1) < 0)
				_exit(4);
			_exit(0);
		}
	}
	close(release[0]);
	close(done[1]);
	char b[2];
	for (int got = 0; got < 2;) {
		ssize_t n = read(done[0], b, 2 - got);
		if (n <= 0)
			return 2;
		got += (int)n;
	}
	close(release[1]);
	int status, bad = 0;
	for (int i = 0; i < 2; i++)
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad = 1;
	printf("touched %zu\n", mib);
	return bad ? 3 : 0;
}

int main(int argc, char **argv)
{
	int first = sandbox_guard(argc, argv);
	if (first >= argc)
		return 2;
	const char *action = argv[first];
	if (strcmp(action, "reaper") == 0)
		return reaper();
	if (strcmp(action, "stragglers") == 0)
		return stragglers();
	if (strcmp(action, "procs") == 0)
		return procs();
	if (strcmp(action, "persist-add") == 0)
		return persist(1);
	if (strcmp(action, "persist-find") == 0)
		return persist(0);
	if (strcmp(action, "subdir-mark") == 0)
		return subdir_mark();
	if (strcmp(action, "inflight") == 0)
		return inflight();
	if (strcmp(action, "touch2") == 0 && first + 1 < argc)
		return touch2((size_t)atoi(argv[first + 1]));
	return 2;
}
