/* Guarded. What one borrower of a container could do to the next one, and what the
 * next one sees. The first argument after the guard's two picks the action:
 *   init     try to inspect or change the init (PID 1); one line per attempt:
 *            "NAME ok" or "NAME err ERRNO"
 *   mark     leave traces on /w and /tmp: an xattr, a POSIX ACL, old timestamps
 *   inspect  print what the next borrower sees of /w and /tmp
 *   limits   print this process's resource limits and its cgroup
 *   inotify-hold  create inotify instances until refused, print how many, then
 *            hold them for 3 seconds
 *   inotify-one   create one inotify instance: "inotify ok" or "inotify err E"
 *   key-add  add a key "scpool-test" to the user keyring (seccomp must allow it)
 *   key-find search the user and session keyrings for it
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "guard.h"

static void say(const char *name, int rc)
{
	if (rc < 0)
		printf("%s err %d\n", name, errno);
	else
		printf("%s ok\n", name);
}

static int write_proc(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	int saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

static int attack_init(void)
{
	struct rlimit low = {5, 5};
	say("prlimit-nofile", (int)syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, &low, NULL));
	struct rlimit tiny = {10, 10};
	say("prlimit-fsize", (int)syscall(SYS_prlimit64, 1, RLIMIT_FSIZE, &tiny, NULL));
	say("oom-score-adj", write_proc("/proc/1/oom_score_adj", "1000"));
	say("coredump-filter", write_proc("/proc/1/coredump_filter", "0"));
	say("clear-refs", write_proc("/proc/1/clear_refs", "1"));
	DIR *fds = opendir("/proc/1/fd");
	say("list-fds", fds ? 0 : -1);
	if (fds)
		closedir(fds);
	int environ_fd = open("/proc/1/environ", O_RDONLY);
	say("environ", environ_fd);
	if (environ_fd >= 0)
		close(environ_fd);
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	say("affinity", sched_setaffinity(1, sizeof(one), &one));
	say("nice", setpriority(PRIO_PROCESS, 1, 19));
	struct sched_param param = {0};
	say("scheduler", sched_setscheduler(1, SCHED_IDLE, &param));
	return 0;
}

/* A POSIX ACL (version 2) giving the owner everything, a named user nothing,
 * and the group and others read and search. */
static int set_acl(const char *dir)
{
	struct { uint16_t tag, perm; uint32_t id; } entries[] = {
		{0x01, 7, UINT32_MAX}, /* ACL_USER_OBJ */
		{0x02, 0, 12345},      /* ACL_USER 12345: nothing */
		{0x04, 5, UINT32_MAX}, /* ACL_GROUP_OBJ */
		{0x10, 5, UINT32_MAX}, /* ACL_MASK */
		{0x20, 5, UINT32_MAX}, /* ACL_OTHER */
	};
	unsigned char buf[4 + sizeof(entries)];
	uint32_t version = 2;
	memcpy(buf, &version, 4);
	memcpy(buf + 4, entries, sizeof(entries));
	return setxattr(dir, "system.posix_acl_access", buf, sizeof(buf), 0);
}

static int mark(void)
{
	const char *dirs[] = {"/w", "/tmp"};
	for (int i = 0; i < 2; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s-xattr", dirs[i]);
		say(name, setxattr(dirs[i], "user.scpool-mark", "x", 1, 0));
		snprintf(name, sizeof(name), "%s-acl", dirs[i]);
		say(name, set_acl(dirs[i]));
		struct timespec old[2] = {{1, 0}, {1, 0}};
		snprintf(name, sizeof(name), "%s-times", dirs[i]);
		say(name, utimensat(AT_FDCWD, dirs[i], old, 0));
	}
	return 0;
}

static int inspect(void)
{
	const char *dirs[] = {"/w", "/tmp"};
	for (int i = 0; i < 2; i++) {
		struct stat st;
		if (stat(dirs[i], &st) != 0)
			return 2;
		char names[256];
		ssize_t xattrs = listxattr(dirs[i], names, sizeof(names));
		int old = st.st_atim.tv_sec < 100 || st.st_mtim.tv_sec < 100;
		printf("%s mode %o xattr-bytes %zd old-times %d\n", dirs[i],
		       (unsigned)(st.st_mode & 07777), xattrs, old);
	}
	return 0;
}

static int limits(void)
{
	const struct { const char *name; int resource; } list[] = {
		{"nofile", RLIMIT_NOFILE}, {"fsize", RLIMIT_FSIZE}, {"core", RLIMIT_CORE},
		{"stack", RLIMIT_STACK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
	};
	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		struct rlimit r;
		if (getrlimit(list[i].resource, &r) != 0)
			return 2;
		printf("%s %lld %lld\n", list[i].name,
		       r.rlim_cur == RLIM_INFINITY ? -1LL : (long long)r.rlim_cur,
		       r.rlim_max == RLIM_INFINITY ? -1LL : (long long)r.rlim_max);
	}
	FILE *cg = fopen("/proc/self/cgroup", "r");
	char line[512];
	while (cg && fgets(line, sizeof(line), cg))
		printf("cgroup %s", line);
	return 0;
}

static int inotify_hold(void)
{
	int made = 0;
	while (made < 100000 && inotify_init1(IN_CLOEXEC) >= 0)
		made++;
	printf("inotify made %d errno %d\n", made, errno);
	fflush(stdout);
	sleep(3);
	return 0;
}

static long keyctl_search(long ring)
{
	/* KEYCTL_SEARCH = 10 */
	return syscall(SYS_keyctl, 10, ring, "user", "scpool-test", 0);
}

int main(int argc, char **argv)
{
	int first = sandbox_guard(argc, argv);
	if (first >= argc)
		return 2;
	const char *action = argv[first];
	if (strcmp(action, "init") == 0)
		return attack_init();
	if (strcmp(action, "mark") == 0)
		return mark();
	if (strcmp(action, "inspect") == 0)
		return inspect();
	if (strcmp(action, "limits") == 0)
		return limits();
	if (strcmp(action, "inotify-hold") == 0)
		return inotify_hold();
	if (strcmp(action, "inotify-one") == 0) {
		say("inotify", inotify_init1(IN_CLOEXEC));
		return 0;
	}
	if (strcmp(action, "key-add") == 0) {
		/* KEY_SPEC_USER_KEYRING = -4 */
		say("key-add", (int)syscall(SYS_add_key, "user", "scpool-test", "secret", 6, -4));
		return 0;
	}
	if (strcmp(action, "key-find") == 0) {
		say("key-user", (int)keyctl_search(-4));
		say("key-session", (int)keyctl_search(-3));
		return 0;
	}
	return 2;
}
