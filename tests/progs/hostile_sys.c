/* Guarded. Tries the escape and privilege channels named by its arguments (after the
 * guard's two), one line each: "NAME ok" when the call succeeded, "NAME err ERRNO"
 * when it failed. Anything that succeeded is undone or left at once (a child created
 * by clone exits immediately).
 *
 * Actions: ptrace_attach ptrace_traceme traceme_stop mount umount unshare unshare_ns
 * chroot pivot_root sethostname setuid0 setns setns_init perf userfaultfd keyctl
 * add_key request_key bpf io_uring process_vm_readv open_by_handle_at init_module
 * x32 clone_ns clone3 clone3_ns socket fork nofile_raise fsize_raise limits shadow
 * hostname proc1root proc1root_dir proc1fd proc1mem fds connect:IPV4:PORT
 * socket:FAMILY socketpair:FAMILY (a datagram socket of that address family number)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

static void result(const char *name, long rc)
{
	if (rc < 0)
		printf("%s err %d\n", name, errno);
	else
		printf("%s ok\n", name);
	/* The next call may kill the process (strict policy): flush now. */
	fflush(stdout);
}

/* A child made by a raw clone that succeeded: reap it (it exited at once). */
static long reap(long rc)
{
	if (rc == 0)
		_exit(0);
	if (rc > 0)
		waitpid((pid_t)rc, NULL, __WALL);
	return rc;
}

static long open_and_close(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd;
}

static long raise_hard_limit(int resource)
{
	struct rlimit r;
	if (getrlimit(resource, &r) != 0)
		return -1;
	if (r.rlim_max == RLIM_INFINITY) {
		/* Nothing above infinity: lowering and raising back is the test. */
		r.rlim_max = r.rlim_cur = 1024;
		if (setrlimit(resource, &r) != 0)
			return -1;
		r.rlim_max = RLIM_INFINITY;
		return setrlimit(resource, &r);
	}
	r.rlim_max += 1;
	r.rlim_cur = r.rlim_max;
	return setrlimit(resource, &r);
}

static void print_limit(const char *name, int resource)
{
	struct rlimit r;
	if (getrlimit(resource, &r) != 0) {
		printf("limit %s err %d\n", name, errno);
		return;
	}
	printf("limit %s %lld %lld\n", name,
	       r.rlim_cur == RLIM_INFINITY ? -1LL : (long long)r.rlim_cur,
	       r.rlim_max == RLIM_INFINITY ? -1LL : (long long)r.rlim_max);
}

static void fds(void)
{
	printf("fds");
	for (int fd = 0; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			printf(" %d", fd);
	}
	printf("\n");
}

static long list_dir(const char *path)
{
	DIR *dir = opendir(path);
	if (dir == NULL)
		return -1;
	errno = 0;
	struct dirent *e = readdir(dir);
	int saved = errno;
	closedir(dir);
	errno = saved;
	return e == NULL && saved != 0 ? -1 : 0;
}

static long try_connect(const char *spec)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	long rc = connect(s, (struct sockaddr *)&addr, sizeof(addr));
	int saved = errno;
	close(s);
	errno = saved;
	return rc;
}

static long attempt(const char *name)
{
	if (strcmp(name, "ptrace_attach") == 0) {
		long rc = ptrace(PTRACE_ATTACH, 1, NULL, NULL);
		if (rc == 0)
			ptrace(PTRACE_DETACH, 1, NULL, NULL);
		return rc;
	}
	if (strcmp(name, "ptrace_traceme") == 0)
		return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	if (strcmp(name, "traceme_stop") == 0) {
		/* Become the init's tracee, then stop: a tracer that does not expect it
		 * gets a stop report for its child. */
		long rc = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		if (rc == 0) {
			printf("traceme ok\n");
			fflush(stdout);
			raise(SIGSTOP);
			printf("resumed\n");
		}
		return rc;
	}
	if (strcmp(name, "mount") == 0)
		return mount("none", "/w", "tmpfs", 0, "");
	if (strcmp(name, "umount") == 0)
		return umount2("/proc", MNT_DETACH);
	if (strcmp(name, "unshare") == 0)
		return unshare(CLONE_NEWUSER | CLONE_NEWNS);
	if (strcmp(name, "unshare_ns") == 0)
		return unshare(CLONE_NEWNS);
	if (strcmp(name, "chroot") == 0)
		return chroot("/tmp");
	if (strcmp(name, "pivot_root") == 0)
		return syscall(SYS_pivot_root, "/tmp", "/tmp");
	if (strcmp(name, "sethostname") == 0)
		return sethostname("pwned", 5);
	if (strcmp(name, "setuid0") == 0)
		return setuid(0);
	if (strcmp(name, "setns") == 0) {
		int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		long rc = setns(fd, 0);
		int saved = errno;
		close(fd);
		errno = saved;
		return rc;
	}
	if (strcmp(name, "setns_init") == 0) {
		int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		long rc = setns(fd, 0);
		int saved = errno;
		close(fd);
		errno = saved;
		return rc;
	}
	if (strcmp(name, "perf") == 0) {
		struct perf_event_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.type = PERF_TYPE_SOFTWARE;
		attr.size = sizeof(attr);
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
		attr.disabled = 1;
		long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
		if (fd >= 0)
			close((int)fd);
		return fd;
	}
	if (strcmp(name, "userfaultfd") == 0) {
		long fd = syscall(SYS_userfaultfd, O_CLOEXEC);
		if (fd >= 0)
			close((int)fd);
		return fd;
	}
	if (strcmp(name, "keyctl") == 0)
		return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	if (strcmp(name, "add_key") == 0)
		return syscall(SYS_add_key, "user", "scpool", "v", 1, KEY_SPEC_PROCESS_KEYRING);
	if (strcmp(name, "request_key") == 0)
		return syscall(SYS_request_key, "user", "scpool", NULL, 0);
	if (strcmp(name, "bpf") == 0) {
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.map_type = BPF_MAP_TYPE_ARRAY;
		attr.key_size = 4;
		attr.value_size = 4;
		attr.max_entries = 1;
		long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
		if (fd >= 0)
			close((int)fd);
		return fd;
	}
	if (strcmp(name, "io_uring") == 0) {
		struct io_uring_params params;
		memset(&params, 0, sizeof(params));
		long fd = syscall(SYS_io_uring_setup, 1, &params);
		if (fd >= 0)
			close((int)fd);
		return fd;
	}
	if (strcmp(name, "process_vm_readv") == 0) {
		char buf[8];
		struct iovec local = {buf, sizeof(buf)};
		struct iovec remote = {(void *)0x400000, sizeof(buf)};
		return process_vm_readv(1, &local, 1, &remote, 1, 0);
	}
	if (strcmp(name, "open_by_handle_at") == 0) {
		/* The "shocker" escape: a handle of the root of the file system. */
		struct {
			struct file_handle h;
			unsigned char bytes[8];
		} handle;
		memset(&handle, 0, sizeof(handle));
		handle.h.handle_bytes = 8;
		handle.h.handle_type = 1;
		long fd = open_by_handle_at(AT_FDCWD, &handle.h, O_RDONLY);
		if (fd >= 0)
			close((int)fd);
		return fd;
	}
	if (strcmp(name, "init_module") == 0)
		return syscall(SYS_init_module, NULL, 0, "");
	if (strcmp(name, "x32") == 0)
		return syscall(0x40000000 | SYS_getpid);
	if (strcmp(name, "clone_ns") == 0)
		return reap(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0));
	if (strcmp(name, "clone3") == 0 || strcmp(name, "clone3_ns") == 0) {
		struct clone_args args;
		memset(&args, 0, sizeof(args));
		args.exit_signal = SIGCHLD;
		if (strcmp(name, "clone3_ns") == 0)
			args.flags = CLONE_NEWNS;
		fflush(stdout);
		return reap(syscall(SYS_clone3, &args, sizeof(args)));
	}
	if (strcmp(name, "socket") == 0) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s >= 0)
			close(s);
		return s;
	}
	if (strncmp(name, "socket:", 7) == 0) {
		int s = socket(atoi(name + 7), SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s >= 0)
			close(s);
		return s;
	}
	if (strncmp(name, "socketpair:", 11) == 0) {
		int pair[2];
		int rc = socketpair(atoi(name + 11), SOCK_DGRAM | SOCK_CLOEXEC, 0, pair);
		if (rc == 0) {
			close(pair[0]);
			close(pair[1]);
		}
		return rc;
	}
	if (strcmp(name, "fork") == 0) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return pid;
	}
	if (strcmp(name, "nofile_raise") == 0)
		return raise_hard_limit(RLIMIT_NOFILE);
	if (strcmp(name, "fsize_raise") == 0)
		return raise_hard_limit(RLIMIT_FSIZE);
	if (strcmp(name, "limits") == 0) {
		print_limit("nofile", RLIMIT_NOFILE);
		print_limit("fsize", RLIMIT_FSIZE);
		print_limit("stack", RLIMIT_STACK);
		print_limit("core", RLIMIT_CORE);
		print_limit("cpu", RLIMIT_CPU);
		return 0;
	}
	if (strcmp(name, "shadow") == 0)
		return open_and_close("/etc/shadow", O_RDONLY);
	if (strcmp(name, "hostname") == 0)
		return open_and_close("/etc/hostname", O_RDONLY);
	if (strcmp(name, "proc1root") == 0)
		return open_and_close("/proc/1/root/etc/hostname", O_RDONLY);
	if (strcmp(name, "proc1root_dir") == 0)
		return list_dir("/proc/1/root/");
	if (strcmp(name, "proc1fd") == 0)
		return list_dir("/proc/1/fd");
	if (strcmp(name, "proc1mem") == 0)
		return open_and_close("/proc/1/mem", O_RDONLY);
	if (strcmp(name, "fds") == 0) {
		fds();
		return 0;
	}
	if (strncmp(name, "connect:", 8) == 0)
		return try_connect(name + 8);
	fprintf(stderr, "unknown action %s\n", name);
	exit(2);
}

int main(int argc, char **argv)
{
	int first = sandbox_guard(argc, argv);
	for (int i = first; i < argc; i++) {
		long rc = attempt(argv[i]);
		if (strcmp(argv[i], "fds") != 0 && strcmp(argv[i], "limits") != 0)
			result(argv[i], rc);
	}
	return 0;
}
