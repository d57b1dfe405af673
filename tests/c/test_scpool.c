/* C tests of libscpool through include/scpool.h: every entry point, every status,
 * the seed scenario, hostile programs, and every invalid-argument path.
 *
 *   test_scpool PROGDIR
 *
 * PROGDIR holds the guarded test programs (tests/progs, built static by run.sh).
 * Exits 0 when every check passed; prints each failed check. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <pthread.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "scpool.h"

#define MS (1000ull * 1000ull)
#define SEC (1000ull * MS)
#define MIB (1024ull * 1024ull)

static int failures;
static const char *progdir;
static char host_pid_ns[256], host_mnt_ns[256];

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", \
				__FILE__, __LINE__, #cond, scpool_last_error_message());     \
			failures++;                                                   \
		}                                                                     \
	} while (0)

/* Checks a call returns `code` and, on failure, that it left a message. */
#define CHECK_CODE(call, code)                                                              \
	do {                                                                                \
		scpool_error got_ = (call);                                                 \
		if (got_ != (code)) {                                                       \
			fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__,  \
				__LINE__, #call, scpool_error_name(got_), scpool_error_name(code), \
				scpool_last_error_message());                                     \
			failures++;                                                         \
		} else if ((code) != SCPOOL_ERROR_OK && scpool_last_error_message()[0] == 0) { \
			fprintf(stderr, "%s:%d: %s failed without a message\n", __FILE__,     \
				__LINE__, #call);                                                 \
			failures++;                                                         \
		}                                                                           \
	} while (0)

#define CHECK_OK(call) CHECK_CODE(call, SCPOOL_ERROR_OK)
#define CHECK_INVALID(call) CHECK_CODE(call, SCPOOL_ERROR_INVALID_ARGUMENT)

static void read_ns(const char *link, char *out, size_t size)
{
	ssize_t n = readlink(link, out, size - 1);
	if (n <= 0) {
		perror(link);
		exit(2);
	}
	out[n] = 0;
}

static char prog_path[4096];

static const char *prog(const char *name)
{
	snprintf(prog_path, sizeof(prog_path), "%s/%s", progdir, name);
	return prog_path;
}

static scpool_pool *new_pool(uint32_t size)
{
	scpool_pool_config config;
	CHECK_OK(scpool_pool_config_init(&config));
	config.min_idle = config.max_idle = config.max_size = size;
	scpool_pool *pool = NULL;
	CHECK_OK(scpool_pool_new(&config, &pool));
	if (pool == NULL)
		exit(1);
	return pool;
}

static scpool_container *acquire(scpool_pool *pool)
{
	scpool_container *c = NULL;
	CHECK_OK(scpool_pool_acquire(pool, 5 * (int64_t)SEC, &c));
	if (c == NULL)
		exit(1);
	return c;
}

/* Runs argv with `stdin_text` under `limits` (may be NULL); the caller frees r. */
static scpool_error run(scpool_container *c, const char *const *argv, const char *stdin_text,
			const scpool_limits *limits, scpool_result *r)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	scpool_run_param p;
	CHECK_OK(scpool_run_param_init(&p));
	p.argv = argv;
	p.envp = env;
	p.stdin_data = (const uint8_t *)stdin_text;
	p.stdin_len = stdin_text ? strlen(stdin_text) : 0;
	p.limits = limits;
	CHECK_OK(scpool_result_init(r));
	return scpool_container_run(c, &p, r);
}

/* Runs a guarded program from PROGDIR by memfd, with the host's namespaces as its
 * first two arguments, then `args` (NULL-terminated). */
static scpool_error run_guarded(scpool_container *c, const char *name, const char *const *args,
				const scpool_limits *limits, uint32_t seccomp, scpool_result *r)
{
	const char *argv[16] = { name, host_pid_ns, host_mnt_ns };
	size_t n = 3;
	for (; args && *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	int exe = -1;
	CHECK_OK(scpool_memfd_copy(prog(name), &exe));
	int out[2];
	if (pipe2(out, O_CLOEXEC) != 0) {
		perror("pipe2");
		exit(2);
	}
	scpool_execve_param p;
	CHECK_OK(scpool_execve_param_init(&p));
	int files[3] = { -1, out[1], out[1] };
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	files[0] = devnull;
	p.argv = argv;
	p.exec_fd = exe;
	p.files = files;
	p.files_len = 3;
	p.limits = limits;
	p.seccomp = seccomp;
	CHECK_OK(scpool_result_init(r));
	scpool_error e = scpool_container_execve(c, &p, r);
	close(out[1]);
	close(devnull);
	close(exe);
	/* Keep what it printed in stdout_data, as scpool_container_run would. */
	static char printed[65536];
	ssize_t got = read(out[0], printed, sizeof(printed) - 1);
	close(out[0]);
	printed[got > 0 ? got : 0] = 0;
	if (e == SCPOOL_ERROR_OK) {
		scpool_buffer_free(r->stdout_data);
		r->stdout_len = strlen(printed);
		r->stdout_data = malloc(r->stdout_len + 1);
		memcpy(r->stdout_data, printed, r->stdout_len + 1);
	}
	return e;
}

static int output_is(const scpool_result *r, const char *text)
{
	return r->stdout_len == strlen(text) && memcmp(r->stdout_data, text, r->stdout_len) == 0;
}

static void test_version(void)
{
	CHECK(strcmp(scpool_version(), "") != 0);
	CHECK(scpool_abi_major() == SCPOOL_ABI_MAJOR);
	CHECK(strcmp(scpool_status_name(SCPOOL_STATUS_TIME_LIMIT_EXCEEDED), "TIME_LIMIT_EXCEEDED") == 0);
	CHECK(strcmp(scpool_status_name(-1), "UNKNOWN") == 0);
	CHECK(strcmp(scpool_error_name(SCPOOL_ERROR_POOL_CLOSED), "SCPOOL_ERROR_POOL_CLOSED") == 0);
	CHECK(strcmp(scpool_error_name(1000), "SCPOOL_ERROR_UNKNOWN") == 0);
}

static void test_run_with_stdin(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	const char *argv[] = { "/bin/sh", "-c", "read a b; echo $((a+b)); echo err >&2", NULL };
	scpool_result r;
	CHECK_OK(run(c, argv, "1 2\n", NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_OK);
	CHECK(r.exit_code == 0 && r.signal == 0);
	CHECK(output_is(&r, "3\n"));
	CHECK(r.stderr_len == 4 && memcmp(r.stderr_data, "err\n", 4) == 0);
	CHECK(r.message != NULL && r.message[0] == 0);
	CHECK(r.wall_time_ns > 0 && r.wall_time_ns < 5 * SEC);
	CHECK(r.setup_time_ns > 0);
	CHECK(r.memory_bytes > 0);
	scpool_result_free(&r);
	CHECK(r.stdout_data == NULL && r.stderr_data == NULL && r.message == NULL);
	scpool_result_free(&r); /* twice is harmless */
	scpool_container_release(c);
}

/* The seed's scenario: files opened inside the container, a host program copied into
 * a memfd and executed by descriptor, the output read back. */
static void test_seed_scenario(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	scpool_open_cmd cmds[2] = {
		{ "/w/input.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644 },
		{ "/w/output.txt", O_RDWR | O_CREAT | O_TRUNC, 0644 },
	};
	int fds[2] = { -2, -2 };
	CHECK_OK(scpool_container_open(c, cmds, 2, fds));
	CHECK(fds[0] >= 0 && fds[1] >= 0);
	const char input[] = "seed input\n";
	CHECK(write(fds[0], input, strlen(input)) == (ssize_t)strlen(input));
	int cp = -1;
	CHECK_OK(scpool_memfd_copy("/bin/cp", &cp));
	scpool_execve_param p;
	CHECK_OK(scpool_execve_param_init(&p));
	const char *argv[] = { "cp", "/w/input.txt", "/w/output.txt", NULL };
	p.argv = argv;
	p.exec_fd = cp;
	scpool_limits limits;
	CHECK_OK(scpool_limits_init(&limits));
	limits.wall_time_ns = 5 * SEC;
	limits.cpu_time_ns = 2 * SEC;
	limits.memory_bytes = 64 * MIB;
	p.limits = &limits;
	scpool_result r;
	CHECK_OK(scpool_result_init(&r));
	CHECK_OK(scpool_container_execve(c, &p, &r));
	CHECK(r.status == SCPOOL_STATUS_OK);
	CHECK(r.exit_code == 0);
	CHECK(r.stdout_data == NULL && r.stdout_len == 0);
	scpool_result_free(&r);
	char got[64] = { 0 };
	CHECK(pread(fds[1], got, sizeof(got) - 1, 0) == (ssize_t)strlen(input));
	CHECK(strcmp(got, input) == 0);
	uint8_t *data = NULL;
	size_t len = 0;
	CHECK_OK(scpool_container_read_file(c, "/w/output.txt", &data, &len));
	CHECK(len == strlen(input) && data && memcmp(data, input, len) == 0);
	scpool_buffer_free(data);
	close(fds[0]);
	close(fds[1]);
	close(cp);
	scpool_container_release(c);
}

static void test_files_and_reset(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	const char text[] = "copied in\n";
	CHECK_OK(scpool_container_write_file(c, "/w/in.txt", (const uint8_t *)text, strlen(text)));
	const char *argv[] = { "/bin/cat", "/w/in.txt", NULL };
	scpool_result r;
	CHECK_OK(run(c, argv, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, text));
	scpool_result_free(&r);
	/* An empty file reads back as NULL, 0. */
	CHECK_OK(scpool_container_write_file(c, "/w/empty", NULL, 0));
	uint8_t *data = (uint8_t *)1;
	size_t len = 99;
	CHECK_OK(scpool_container_read_file(c, "/w/empty", &data, &len));
	CHECK(data == NULL && len == 0);
	CHECK_OK(scpool_container_ping(c));
	CHECK_OK(scpool_container_reset(c));
	CHECK_CODE(scpool_container_read_file(c, "/w/in.txt", &data, &len), SCPOOL_ERROR_OPEN);
	CHECK(scpool_last_error_errno() == ENOENT);
	CHECK(data == NULL && len == 0);
	scpool_container_release(c);
}

/* What a program leaves in /w fails the file calls at once; directories, modes,
 * listings and tree copies; a sealed memfd as input the program cannot change. */
static void test_file_helpers(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	const char *plant[] = { "/bin/sh", "-c", "mkfifo /w/fifo && mkdir /w/dir && "
				"printf 0123456789 > /w/ten", NULL };
	scpool_result r;
	CHECK_OK(run(c, plant, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_OK);
	scpool_result_free(&r);
	uint8_t *data = NULL;
	size_t len = 0;
	CHECK_CODE(scpool_container_read_file_max(c, "/w/fifo", 0, &data, &len), SCPOOL_ERROR_OPEN);
	CHECK(scpool_last_error_errno() == EINVAL);
	CHECK_CODE(scpool_container_read_file(c, "/w/dir", &data, &len), SCPOOL_ERROR_OPEN);
	CHECK(scpool_last_error_errno() == EISDIR);
	CHECK_CODE(scpool_container_read_file_max(c, "/w/ten", 9, &data, &len), SCPOOL_ERROR_OPEN);
	CHECK(scpool_last_error_errno() == EFBIG && data == NULL && len == 0);
	CHECK_OK(scpool_container_read_file_max(c, "/w/ten", 10, &data, &len));
	CHECK(len == 10 && memcmp(data, "0123456789", 10) == 0);
	scpool_buffer_free(data);

	CHECK_OK(scpool_container_mkdir(c, "/w/d", 0750));
	CHECK_OK(scpool_container_write_file_mode(c, "/w/d/x", (const uint8_t *)"abc", 3, 0600));
	CHECK_CODE(scpool_container_mkdir(c, "/w/d", 0750), SCPOOL_ERROR_OPEN);
	CHECK(scpool_last_error_errno() == EEXIST);
	scpool_dir_entry *entries = NULL;
	size_t count = 0;
	CHECK_OK(scpool_container_list_dir(c, "/w/d", &entries, &count));
	CHECK(count == 1 && strcmp(entries[0].name, "x") == 0);
	CHECK(entries[0].kind == SCPOOL_FILE_KIND_FILE && entries[0].mode == 0600 &&
	      entries[0].size == 3);
	scpool_dir_entries_free(entries, count);
	/* Owned by the program's user: the container's own uid, as id -u prints it. */
	const char *owners[] = { "/bin/sh", "-c", "u=$(/usr/bin/id -u); /usr/bin/stat -c \"%a %u\" "
				 "/w/d /w/d/x | /bin/sed \"s/ $u\\$/ program/\"", NULL };
	CHECK_OK(run(c, owners, NULL, NULL, &r));
	CHECK(output_is(&r, "750 program\n600 program\n"));
	scpool_result_free(&r);

	/* A symlink, stored as given, followed by the program inside the container. */
	CHECK_OK(scpool_container_symlink(c, "d/x", "/w/ln"));
	CHECK_CODE(scpool_container_symlink(c, "d/x", "/w/ln"), SCPOOL_ERROR_OPEN);
	CHECK(scpool_last_error_errno() == EEXIST);
	CHECK_CODE(scpool_container_symlink(c, "d/x", "/w/ln/under"), SCPOOL_ERROR_OPEN);
	CHECK_CODE(scpool_container_symlink(c, NULL, "/w/ln2"), SCPOOL_ERROR_INVALID_ARGUMENT);
	const char *follow[] = { "/bin/sh", "-c", "u=$(/usr/bin/id -u); /bin/readlink /w/ln; "
				 "/bin/cat /w/ln; echo; /usr/bin/stat -c %u /w/ln | /bin/sed \"s/^$u\\$/program/\"",
				 NULL };
	CHECK_OK(run(c, follow, NULL, NULL, &r));
	CHECK(output_is(&r, "d/x\nabc\nprogram\n"));
	scpool_result_free(&r);

	char host[] = "/tmp/scpool-c-tree-XXXXXX";
	CHECK(mkdtemp(host) != NULL);
	char path[128], out[160];
	snprintf(path, sizeof(path), "%s/in", host);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/in/f", host);
	FILE *f = fopen(path, "w");
	CHECK(f && fputs("tree\n", f) >= 0 && fclose(f) == 0);
	snprintf(path, sizeof(path), "%s/in", host);
	uint64_t n_entries = 0, n_bytes = 0;
	CHECK_OK(scpool_container_copy_in(c, path, "/w/t", 0, 0, &n_entries, &n_bytes));
	CHECK(n_entries == 1 && n_bytes == 5);
	const char *append[] = { "/bin/sh", "-c", "echo more >> /w/t/f", NULL };
	CHECK_OK(run(c, append, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_OK);
	scpool_result_free(&r);
	snprintf(out, sizeof(out), "%s/out", host);
	CHECK_CODE(scpool_container_copy_out(c, "/w/t", out, 4, 0, NULL, NULL), SCPOOL_ERROR_OPEN);
	CHECK(scpool_last_error_errno() == EFBIG);
	CHECK_OK(scpool_container_copy_out(c, "/w/t", out, 0, 0, NULL, NULL));
	snprintf(path, sizeof(path), "%s/out/f", host);
	char got[32] = { 0 };
	f = fopen(path, "r");
	CHECK(f && fread(got, 1, sizeof(got) - 1, f) == 10 && fclose(f) == 0);
	CHECK(strcmp(got, "tree\nmore\n") == 0);
	CHECK(unlink(path) == 0);
	CHECK(rmdir(out) == 0);
	snprintf(path, sizeof(path), "%s/in/f", host);
	CHECK(unlink(path) == 0);
	snprintf(path, sizeof(path), "%s/in", host);
	CHECK(rmdir(path) == 0);
	CHECK(rmdir(host) == 0);

	int sealed = -1;
	CHECK_OK(scpool_memfd_sealed((const uint8_t *)"input\n", 6, &sealed));
	CHECK(write(sealed, "x", 1) == -1 && errno == EPERM);
	int capture = memfd_create("capture", MFD_CLOEXEC);
	CHECK(capture >= 0);
	const char *probe[] = { "/bin/sh", "-c", "cat; readlink /proc/self/fd/0; "
				"echo x >&0 2>/dev/null || echo refused", NULL };
	static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	int files[3] = { sealed, capture, capture };
	scpool_execve_param p;
	CHECK_OK(scpool_execve_param_init(&p));
	p.argv = probe;
	p.envp = env;
	p.files = files;
	p.files_len = 3;
	CHECK_OK(scpool_result_init(&r));
	CHECK_OK(scpool_container_execve(c, &p, &r));
	CHECK(r.status == SCPOOL_STATUS_OK);
	scpool_result_free(&r);
	char seen[128] = { 0 };
	CHECK(pread(capture, seen, sizeof(seen) - 1, 0) > 0);
	CHECK(strcmp(seen, "input\n/memfd:scpool-data (deleted)\nrefused\n") == 0);
	close(capture);
	close(sealed);
	CHECK_OK(scpool_container_ping(c));
	scpool_container_release(c);
}

static void test_statuses(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	scpool_limits limits;
	scpool_result r;

	const char *exit3[] = { "/bin/sh", "-c", "exit 3", NULL };
	CHECK_OK(run(c, exit3, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_NONZERO_EXIT && r.exit_code == 3);
	scpool_result_free(&r);

	const char *segv[] = { "/bin/sh", "-c", "kill -SEGV $$", NULL };
	CHECK_OK(run(c, segv, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_SIGNALLED && r.signal == SIGSEGV && r.exit_code == -1);
	scpool_result_free(&r);

	const char *spin[] = { "/bin/sh", "-c", "while :; do :; done", NULL };
	CHECK_OK(scpool_limits_init(&limits));
	limits.cpu_time_ns = 300 * MS;
	limits.wall_time_ns = 10 * SEC;
	CHECK_OK(run(c, spin, NULL, &limits, &r));
	CHECK(r.status == SCPOOL_STATUS_TIME_LIMIT_EXCEEDED);
	CHECK(r.cpu_time_ns >= 300 * MS && r.cpu_time_ns < 2 * SEC);
	CHECK(r.message && r.message[0] != 0);
	scpool_result_free(&r);

	const char *sleep5[] = { "/bin/sleep", "5", NULL };
	CHECK_OK(scpool_limits_init(&limits));
	limits.wall_time_ns = 200 * MS;
	CHECK_OK(run(c, sleep5, NULL, &limits, &r));
	CHECK(r.status == SCPOOL_STATUS_WALL_TIME_LIMIT_EXCEEDED);
	CHECK(r.wall_time_ns >= 200 * MS && r.wall_time_ns < 4 * SEC);
	CHECK(r.cpu_time_ns < 200 * MS);
	scpool_result_free(&r);

	const char *yes[] = { "/usr/bin/yes", NULL };
	CHECK_OK(scpool_limits_init(&limits));
	limits.output_bytes = 1000;
	limits.wall_time_ns = 10 * SEC;
	CHECK_OK(run(c, yes, NULL, &limits, &r));
	CHECK(r.status == SCPOOL_STATUS_OUTPUT_LIMIT_EXCEEDED);
	CHECK(r.stdout_len <= 1000);
	scpool_result_free(&r);

	const char *missing[] = { "/no/such/program", NULL };
	CHECK_OK(run(c, missing, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_RUNNER_ERROR);
	CHECK(r.message && r.message[0] != 0);
	scpool_result_free(&r);

	/* Memory: a bomb under 64 MiB is stopped; a 16 MiB touch is counted. */
	const char *bomb[] = { "bomb", NULL };
	CHECK_OK(scpool_limits_init(&limits));
	limits.memory_bytes = 64 * MIB;
	limits.wall_time_ns = 10 * SEC;
	CHECK_OK(run_guarded(c, "hostile_memory", bomb, &limits, SCPOOL_SECCOMP_POLICY_DEFAULT, &r));
	CHECK(r.status == SCPOOL_STATUS_MEMORY_LIMIT_EXCEEDED);
	CHECK(r.memory_bytes >= 60 * MIB && r.memory_bytes <= 80 * MIB);
	scpool_result_free(&r);
	const char *touch[] = { "touch", "16", NULL };
	CHECK_OK(run_guarded(c, "hostile_memory", touch, &limits, SCPOOL_SECCOMP_POLICY_DEFAULT, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, "touched 16\n"));
	CHECK(r.memory_bytes >= 16 * MIB && r.memory_bytes < 64 * MIB);
	scpool_result_free(&r);

	/* Syscalls: the default policy refuses mount with EPERM, strict kills on socket. */
	const char *mount_args[] = { "mount", NULL };
	CHECK_OK(run_guarded(c, "hostile_sys", mount_args, NULL, SCPOOL_SECCOMP_POLICY_DEFAULT, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, "mount err 1\n"));
	scpool_result_free(&r);
	const char *socket_args[] = { "socket", NULL };
	CHECK_OK(run_guarded(c, "hostile_sys", socket_args, NULL, SCPOOL_SECCOMP_POLICY_STRICT, &r));
	CHECK(r.status == SCPOOL_STATUS_DISALLOWED_SYSCALL && r.signal == SIGSYS);
	scpool_result_free(&r);
	scpool_container_release(c);
}

/* The single-program policy: the program runs, a second exec kills it; the default
 * policy lets the same exec through. */
static void test_single_program_seccomp(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	scpool_result r;
	const char *none[] = { "none", NULL };
	CHECK_OK(run_guarded(c, "hostile_exec", none, NULL, SCPOOL_SECCOMP_POLICY_SINGLE_PROGRAM, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, "ran\n"));
	scpool_result_free(&r);
	const char *execve_args[] = { "execve", NULL };
	CHECK_OK(run_guarded(c, "hostile_exec", execve_args, NULL, SCPOOL_SECCOMP_POLICY_SINGLE_PROGRAM, &r));
	CHECK(r.status == SCPOOL_STATUS_DISALLOWED_SYSCALL && r.signal == SIGSYS);
	CHECK(output_is(&r, "ran\n"));
	scpool_result_free(&r);
	CHECK_OK(run_guarded(c, "hostile_exec", execve_args, NULL, SCPOOL_SECCOMP_POLICY_DEFAULT, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, "ran\n"));
	scpool_result_free(&r);
	scpool_container_release(c);
}

/* A custom BPF program: kill on getppid, allow the rest (a real filter would also
 * check the architecture; the library's guard in front of it does). */
static void test_custom_seccomp(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	scpool_sock_filter filter[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, 0 }, /* seccomp_data.nr */
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 1, SYS_getppid },
		{ BPF_RET | BPF_K, 0, 0, 0x80000000u }, /* SECCOMP_RET_KILL_PROCESS */
		{ BPF_RET | BPF_K, 0, 0, 0x7fff0000u }, /* SECCOMP_RET_ALLOW */
	};
	scpool_run_param p;
	CHECK_OK(scpool_run_param_init(&p));
	const char *ppid[] = { "/bin/sh", "-c", "echo $PPID", NULL };
	p.argv = ppid;
	p.seccomp = SCPOOL_SECCOMP_POLICY_CUSTOM;
	p.seccomp_filter = filter;
	p.seccomp_filter_len = sizeof(filter) / sizeof(filter[0]);
	scpool_result r;
	CHECK_OK(scpool_result_init(&r));
	CHECK_OK(scpool_container_run(c, &p, &r));
	CHECK(r.status == SCPOOL_STATUS_DISALLOWED_SYSCALL && r.signal == SIGSYS);
	scpool_result_free(&r);
	/* Without the filter the same run is fine. */
	p.seccomp = SCPOOL_SECCOMP_POLICY_DEFAULT;
	p.seccomp_filter = NULL;
	p.seccomp_filter_len = 0;
	CHECK_OK(scpool_result_init(&r));
	CHECK_OK(scpool_container_run(c, &p, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, "1\n")); /* the init is its parent */
	scpool_result_free(&r);
	scpool_container_release(c);
}

/* A fork bomb under a process limit: forks fail with EAGAIN, the run is ended by its
 * wall-time limit, nothing survives into the next run. */
static void test_fork_bomb(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	scpool_limits limits;
	CHECK_OK(scpool_limits_init(&limits));
	limits.processes = 16;
	limits.wall_time_ns = 1 * SEC;
	scpool_result r;
	CHECK_OK(run_guarded(c, "hostile_forkbomb", NULL, &limits, SCPOOL_SECCOMP_POLICY_DEFAULT, &r));
	CHECK(r.status == SCPOOL_STATUS_WALL_TIME_LIMIT_EXCEEDED);
	int forks = -1, err = -1;
	CHECK(r.stdout_data && sscanf((const char *)r.stdout_data, "forks %d errno %d", &forks, &err) == 2);
	CHECK(forks >= 0 && forks < 16 && err == EAGAIN);
	scpool_result_free(&r);
	const char *ps[] = { "/bin/sh", "-c", "ls /proc | grep -c '^[0-9]'", NULL };
	CHECK_OK(run(c, ps, NULL, NULL, &r));
	/* The init, the shell and ls (grep is a sibling): nothing of the bomb is left. */
	CHECK(r.status == SCPOOL_STATUS_OK && r.stdout_data && atoi((const char *)r.stdout_data) <= 4);
	scpool_result_free(&r);
	scpool_container_release(c);
}

static void test_pool_lifecycle(void)
{
	scpool_pool *pool = new_pool(1);
	scpool_container *c = acquire(pool);
	scpool_container *other = (scpool_container *)1;
	CHECK_CODE(scpool_pool_acquire(pool, 50 * (int64_t)MS, &other), SCPOOL_ERROR_ACQUIRE_TIMEOUT);
	scpool_container_release(c);
	c = acquire(pool);
	scpool_pool_stats stats;
	CHECK_OK(scpool_pool_stats_init(&stats));
	CHECK_OK(scpool_pool_get_stats(pool, &stats));
	CHECK(stats.acquires == 2 && stats.acquire_timeouts == 1);
	CHECK(stats.in_use == 1 && stats.created >= 1);
	/* Discarding destroys it; the pool makes another. */
	scpool_container_discard(c);
	c = acquire(pool);
	CHECK_OK(scpool_pool_close(pool));
	CHECK_CODE(scpool_pool_acquire(pool, 0, &other), SCPOOL_ERROR_POOL_CLOSED);
	/* A container out at close still works until released. */
	CHECK_OK(scpool_container_ping(c));
	scpool_pool_free(pool);
	CHECK_OK(scpool_container_ping(c));
	scpool_container_release(c);
}

struct cancel_waiter {
	scpool_pool *pool;
	scpool_acquire_cancel *cancel;
	scpool_error got;
};

static void *cancel_waiter_main(void *arg)
{
	struct cancel_waiter *w = arg;
	scpool_container *c = NULL;
	w->got = scpool_pool_acquire_cancellable(w->pool, 30 * (int64_t)SEC, w->cancel, &c);
	scpool_container_release(c);
	return NULL;
}

/* Another thread ends a waiting acquire without polling. */
static void test_cancel_acquire(void)
{
	scpool_pool *pool = new_pool(1);
	scpool_container *held = acquire(pool);
	scpool_acquire_cancel *cancel = NULL;
	CHECK_OK(scpool_acquire_cancel_new(pool, &cancel));
	struct cancel_waiter w = { pool, cancel, SCPOOL_ERROR_OK };
	pthread_t thread;
	CHECK(pthread_create(&thread, NULL, cancel_waiter_main, &w) == 0);
	usleep(100 * 1000);
	scpool_acquire_cancel_trigger(cancel);
	pthread_join(thread, NULL);
	CHECK(w.got == SCPOOL_ERROR_CANCELLED);
	scpool_pool_stats stats;
	scpool_pool_stats_init(&stats);
	CHECK_OK(scpool_pool_get_stats(pool, &stats));
	CHECK(stats.acquire_timeouts == 0);
	/* A triggered token stays so; without waiting it changes nothing. */
	scpool_container_release(held);
	scpool_container *c = (scpool_container *)1;
	CHECK_CODE(scpool_pool_acquire_cancellable(pool, -1, cancel, &c), SCPOOL_ERROR_CANCELLED);
	scpool_acquire_cancel_free(cancel);
	CHECK_OK(scpool_acquire_cancel_new(pool, &cancel));
	CHECK_OK(scpool_pool_acquire_cancellable(pool, -1, cancel, &c));
	scpool_container_release(c);
	/* Invalid arguments. */
	CHECK_INVALID(scpool_acquire_cancel_new(NULL, &cancel));
	CHECK_INVALID(scpool_acquire_cancel_new(pool, NULL));
	CHECK_INVALID(scpool_pool_acquire_cancellable(NULL, 0, cancel, &c));
	CHECK_INVALID(scpool_pool_acquire_cancellable(pool, 0, NULL, &c));
	CHECK_INVALID(scpool_pool_acquire_cancellable(pool, 0, cancel, NULL));
	scpool_acquire_cancel_trigger(NULL);
	scpool_acquire_cancel_free(NULL);
	scpool_acquire_cancel_free(cancel);
	scpool_pool_free(pool);
}

static void test_own_container(void)
{
	scpool_container_config config;
	CHECK_OK(scpool_container_config_init(&config));
	scpool_mount progs = { progdir, "/opt/progs", 0, 0 };
	config.mounts = &progs;
	config.mounts_len = 1;
	config.hostname = "judge-c";
	scpool_container *c = NULL;
	CHECK_OK(scpool_container_new(&config, &c));
	/* The name is the domain name too, as in every language. */
	const char *argv[] = { "/bin/sh", "-c", "hostname; domainname; test -x /opt/progs/hostile_hello && echo seen", NULL };
	scpool_result r;
	CHECK_OK(run(c, argv, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, "judge-c\njudge-c\nseen\n"));
	scpool_result_free(&r);
	scpool_container_release(c);

	/* A missing required mount fails set-up with a clear error. */
	scpool_mount missing = { "/no/such/dir", NULL, 0, 0 };
	config.mounts = &missing;
	c = (scpool_container *)1;
	CHECK_CODE(scpool_container_new(&config, &c), SCPOOL_ERROR_SETUP);
	CHECK(strstr(scpool_last_error_message(), "/no/such/dir") != NULL);
}

/* The kernel's version as major * 1000 + minor. */
static int kernel_version(void)
{
	struct utsname u;
	int major = 0, minor = 0;
	if (uname(&u) == 0)
		sscanf(u.release, "%d.%d", &major, &minor);
	return major * 1000 + minor;
}

/* process_peak: each run's most processes at once, its own and no earlier run's. */
static void test_process_peak(void)
{
	scpool_result r;
	CHECK_OK(scpool_result_init(&r));
	CHECK(r.peak_processes == -1);
	scpool_container_config config;
	CHECK_OK(scpool_container_config_init(&config));
	CHECK(config.process_peak == 0);
	config.process_peak = 1;
	scpool_container *c = NULL;
	CHECK_OK(scpool_container_new(&config, &c));
	const char *children[] = { "/bin/sh", "-c", "sleep 1000 & a=$!; sleep 1000 & b=$!; "
				   "sleep 1000 & c=$!; kill $a $b $c; wait; true", NULL };
	const char *alone[] = { "/bin/true", NULL };
	CHECK_OK(run(c, children, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_OK);
	/* A peak needs a cgroup of the run's own on a kernel that keeps pids.peak (6.1+). */
	int counted = r.accounting != SCPOOL_ACCOUNTING_NONE && kernel_version() >= 6001;
	if (counted) {
		/* The shell and its three children (a shell may count a helper). */
		CHECK(r.peak_processes >= 4 && r.peak_processes <= 5);
	} else {
		CHECK(r.peak_processes == -1);
	}
	scpool_result_free(&r);
	CHECK_OK(run(c, alone, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && r.peak_processes == (counted ? 1 : -1));
	scpool_result_free(&r);
	scpool_container_release(c);
}

/* The programs' directory as an image's one layer: its files are the whole root. */
static void test_image_layers(void)
{
	scpool_container_config config;
	CHECK_OK(scpool_container_config_init(&config));
	CHECK(config.image_layers == NULL && config.image_layers_len == 0 && config.root_size > 0);
	const char *const layers[] = { progdir };
	config.image_layers = layers;
	config.image_layers_len = 1;
	config.root_size = MIB;
	config.replace_default_mounts = 1;
	scpool_container *c = NULL;
	CHECK_OK(scpool_container_new(&config, &c));
	if (c) {
		const char *hello[] = { "/hostile_hello", NULL };
		scpool_result r;
		CHECK_OK(run(c, hello, NULL, NULL, &r));
		CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, "hello\n"));
		scpool_result_free(&r);
		/* Nothing of the host: no /bin/sh. */
		const char *sh[] = { "/bin/sh", "-c", "true", NULL };
		CHECK_OK(run(c, sh, NULL, NULL, &r));
		CHECK(r.status == SCPOOL_STATUS_RUNNER_ERROR);
		scpool_result_free(&r);
		scpool_container_release(c);
	}

	const char *const relative[] = { "progs" };
	config.image_layers = relative;
	c = (scpool_container *)1;
	CHECK_INVALID(scpool_container_new(&config, &c));
	config.image_layers = layers;
	config.rootfs = progdir;
	CHECK_INVALID(scpool_container_new(&config, &c));
}

struct worker {
	scpool_pool *pool;
	int ok;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 10; i++) {
		scpool_container *c = NULL;
		if (scpool_pool_acquire(w->pool, 10 * (int64_t)SEC, &c) != SCPOOL_ERROR_OK)
			continue;
		const char *argv[] = { "/bin/echo", "hi", NULL };
		scpool_run_param p;
		scpool_run_param_init(&p);
		p.argv = argv;
		scpool_result r;
		scpool_result_init(&r);
		if (scpool_container_run(c, &p, &r) == SCPOOL_ERROR_OK && r.status == SCPOOL_STATUS_OK &&
		    output_is(&r, "hi\n"))
			w->ok++;
		scpool_result_free(&r);
		scpool_container_release(c);
	}
	return NULL;
}

static void test_threads(void)
{
	scpool_pool_config config;
	CHECK_OK(scpool_pool_config_init(&config));
	config.min_idle = 1;
	config.max_idle = 2;
	config.max_size = 2;
	scpool_pool *pool = NULL;
	CHECK_OK(scpool_pool_new(&config, &pool));
	struct worker workers[4];
	pthread_t threads[4];
	for (int i = 0; i < 4; i++) {
		workers[i] = (struct worker){ pool, 0 };
		CHECK(pthread_create(&threads[i], NULL, worker_main, &workers[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		CHECK(workers[i].ok == 10);
	}
	scpool_pool_stats stats;
	scpool_pool_stats_init(&stats);
	CHECK_OK(scpool_pool_get_stats(pool, &stats));
	CHECK(stats.acquires == 40 && stats.created <= 2 + stats.destroyed);
	scpool_pool_free(pool);
}

/* Every entry point with NULL or malformed arguments: an error code and a message,
 * never a crash, and the container keeps working. */
static void test_invalid_arguments(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	scpool_pool *no_pool = NULL;
	scpool_container *no_container = NULL;

	/* _init functions and stats. */
	CHECK_INVALID(scpool_container_config_init(NULL));
	CHECK_INVALID(scpool_pool_config_init(NULL));
	CHECK_INVALID(scpool_limits_init(NULL));
	CHECK_INVALID(scpool_execve_param_init(NULL));
	CHECK_INVALID(scpool_run_param_init(NULL));
	CHECK_INVALID(scpool_result_init(NULL));
	CHECK_INVALID(scpool_pool_stats_init(NULL));

	/* Pools. */
	CHECK_INVALID(scpool_pool_new(NULL, NULL));
	scpool_pool_config pc;
	scpool_pool_config_init(&pc);
	pc.struct_size = 0;
	CHECK_INVALID(scpool_pool_new(&pc, &no_pool));
	CHECK(strstr(scpool_last_error_message(), "_init") != NULL);
	scpool_pool_config_init(&pc);
	pc.struct_size += 8;
	CHECK_INVALID(scpool_pool_new(&pc, &no_pool));
	CHECK(strstr(scpool_last_error_message(), "newer") != NULL);
	scpool_pool_config_init(&pc);
	pc.min_idle = 5;
	pc.max_size = 2;
	CHECK_INVALID(scpool_pool_new(&pc, &no_pool));
	scpool_pool_config_init(&pc);
	pc.max_size = 0;
	CHECK_INVALID(scpool_pool_new(&pc, &no_pool));
	/* Sizes not given fit those given; given ones are kept, contradictions refused. */
	scpool_pool_config_init(&pc);
	CHECK_OK(scpool_pool_config_set_sizes(&pc, 7, SCPOOL_SIZE_UNSET, SCPOOL_SIZE_UNSET));
	CHECK(pc.min_idle == 7 && pc.max_idle >= 7 && pc.max_size >= pc.max_idle);
	scpool_pool_config_init(&pc);
	CHECK_OK(scpool_pool_config_set_sizes(&pc, SCPOOL_SIZE_UNSET, SCPOOL_SIZE_UNSET, 1));
	CHECK(pc.min_idle == 1 && pc.max_idle == 1 && pc.max_size == 1);
	scpool_pool_config_init(&pc);
	CHECK_OK(scpool_pool_config_set_sizes(&pc, 5, SCPOOL_SIZE_UNSET, 2));
	CHECK(pc.min_idle == 5 && pc.max_size == 2);
	CHECK_INVALID(scpool_pool_new(&pc, &no_pool));
	CHECK_INVALID(scpool_pool_config_set_sizes(NULL, 1, 1, 1));
	scpool_container_config cc;
	scpool_container_config_init(&cc);
	cc.cgroup_mode = 42;
	scpool_pool_config_init(&pc);
	pc.container = &cc;
	CHECK_INVALID(scpool_pool_new(&pc, &no_pool));
	scpool_container_config_init(&cc);
	scpool_mount bad_mount = { NULL, "/x", 0, 0 };
	cc.mounts = &bad_mount;
	cc.mounts_len = 1;
	CHECK_INVALID(scpool_container_new(&cc, &no_container));
	cc.mounts = NULL;
	CHECK_INVALID(scpool_container_new(&cc, &no_container));
	/* The container mounts its own tmpfs over /w, /tmp, /proc and /dev. */
	scpool_mount hidden_mount = { "/usr", "/tmp/usr", 0, 0 };
	cc.mounts = &hidden_mount;
	CHECK_INVALID(scpool_container_new(&cc, &no_container));
	scpool_container_config_init(&cc);
	cc.hostname = "";
	CHECK_INVALID(scpool_container_new(&cc, &no_container));
	scpool_container_config_init(&cc);
	cc.setup_timeout_ns = 0;
	CHECK_INVALID(scpool_container_new(&cc, &no_container));
	CHECK(no_pool == NULL && no_container == NULL);
	CHECK_INVALID(scpool_container_new(NULL, NULL));
	CHECK_INVALID(scpool_pool_acquire(NULL, 0, &no_container));
	CHECK_INVALID(scpool_pool_acquire(pool, 0, NULL));
	scpool_pool_stats stats;
	scpool_pool_stats_init(&stats);
	CHECK_INVALID(scpool_pool_get_stats(NULL, &stats));
	CHECK_INVALID(scpool_pool_get_stats(pool, NULL));
	stats.struct_size = 3;
	CHECK_INVALID(scpool_pool_get_stats(pool, &stats));
	CHECK_INVALID(scpool_pool_close(NULL));

	/* Containers. */
	CHECK_INVALID(scpool_container_ping(NULL));
	CHECK_INVALID(scpool_container_reset(NULL));
	scpool_result r;
	scpool_result_init(&r);
	scpool_run_param rp;
	scpool_run_param_init(&rp);
	const char *echo[] = { "/bin/echo", "x", NULL };
	rp.argv = echo;
	CHECK_INVALID(scpool_container_run(NULL, &rp, &r));
	CHECK_INVALID(scpool_container_run(c, NULL, &r));
	CHECK_INVALID(scpool_container_run(c, &rp, NULL));
	r.struct_size = 0;
	CHECK_INVALID(scpool_container_run(c, &rp, &r));
	scpool_result_init(&r);
	rp.argv = NULL;
	CHECK_INVALID(scpool_container_run(c, &rp, &r)); /* no argv[0] */
	rp.argv = echo;
	rp.stdin_len = 5;
	CHECK_INVALID(scpool_container_run(c, &rp, &r)); /* NULL stdin of length 5 */
	rp.stdin_len = 0;
	rp.cwd = "relative";
	CHECK_INVALID(scpool_container_run(c, &rp, &r));
	rp.cwd = NULL;
	rp.seccomp = 9;
	CHECK_INVALID(scpool_container_run(c, &rp, &r));
	rp.seccomp = SCPOOL_SECCOMP_POLICY_CUSTOM;
	CHECK_INVALID(scpool_container_run(c, &rp, &r)); /* custom without a program */
	rp.seccomp = SCPOOL_SECCOMP_POLICY_DEFAULT;
	scpool_sock_filter allow = { BPF_RET | BPF_K, 0, 0, 0x7fff0000u };
	rp.seccomp_filter = &allow;
	rp.seccomp_filter_len = 1;
	CHECK_INVALID(scpool_container_run(c, &rp, &r)); /* a program without CUSTOM */
	rp.seccomp_filter = NULL;
	rp.seccomp_filter_len = 0;
	scpool_limits limits;
	scpool_limits_init(&limits);
	limits.cpu_rate = -1.0;
	rp.limits = &limits;
	CHECK_INVALID(scpool_container_run(c, &rp, &r));
	/* The library's one range, 0.01 to 10000 cores, holds in C too. */
	limits.cpu_rate = 0.001;
	CHECK_INVALID(scpool_container_run(c, &rp, &r));
	CHECK(strstr(scpool_last_error_message(), "0.01") != NULL);
	limits.cpu_rate = 20000.0;
	CHECK_INVALID(scpool_container_run(c, &rp, &r));
	limits.cpu_rate = NAN;
	CHECK_INVALID(scpool_container_run(c, &rp, &r));
	scpool_limits_init(&limits);
	limits.struct_size = 4;
	CHECK_INVALID(scpool_container_run(c, &rp, &r));
	rp.limits = NULL;
	CHECK(r.stdout_data == NULL && r.message == NULL); /* nothing was written */

	scpool_execve_param ep;
	scpool_execve_param_init(&ep);
	ep.argv = echo;
	CHECK_INVALID(scpool_container_execve(NULL, &ep, &r));
	CHECK_INVALID(scpool_container_execve(c, NULL, &r));
	CHECK_INVALID(scpool_container_execve(c, &ep, NULL));
	ep.exec_fd = -7;
	CHECK_INVALID(scpool_container_execve(c, &ep, &r));
	ep.exec_fd = -1;
	int bad_files[2] = { 0, -3 };
	ep.files = bad_files;
	ep.files_len = 2;
	CHECK_INVALID(scpool_container_execve(c, &ep, &r));
	ep.files = NULL;
	CHECK_INVALID(scpool_container_execve(c, &ep, &r)); /* NULL files of length 2 */
	ep.files_len = 0;
	const char *bad_argv[] = { NULL };
	ep.argv = bad_argv;
	CHECK_INVALID(scpool_container_execve(c, &ep, &r)); /* empty argv */
	ep.argv = echo;
	ep.exec_fd = 0x7ffffff0; /* above any open-file limit: never open */
	CHECK_INVALID(scpool_container_execve(c, &ep, &r));
	ep.exec_fd = -1;
	int not_open[1] = { 0x7ffffff0 };
	ep.files = not_open;
	ep.files_len = 1;
	CHECK_INVALID(scpool_container_execve(c, &ep, &r));
	ep.files = NULL;
	ep.files_len = 0;

	/* Files. */
	int fds[2] = { 7, 7 };
	scpool_open_cmd cmds[2] = { { "/w/a", O_RDWR | O_CREAT, 0644 }, { NULL, O_RDONLY, 0 } };
	CHECK_INVALID(scpool_container_open(NULL, cmds, 1, fds));
	CHECK_INVALID(scpool_container_open(c, NULL, 1, fds));
	CHECK_INVALID(scpool_container_open(c, cmds, 1, NULL));
	CHECK_INVALID(scpool_container_open(c, cmds, 0, fds)); /* nothing to open */
	fds[0] = fds[1] = 7;
	CHECK_INVALID(scpool_container_open(c, NULL, SIZE_MAX / 2, fds)); /* fds untouched */
	CHECK(fds[0] == 7 && fds[1] == 7);
	cmds[0].flags = O_RDONLY | O_PATH;
	CHECK_INVALID(scpool_container_open(c, cmds, 1, fds));
	cmds[0].flags = O_RDWR | O_CREAT;
	CHECK_INVALID(scpool_container_open(c, cmds, 2, fds)); /* NULL path */
	CHECK(fds[0] == -1 && fds[1] == -1);
	cmds[1].path = "w/relative";
	CHECK_INVALID(scpool_container_open(c, cmds, 2, fds));
	cmds[1].path = "/../../etc/passwd";
	CHECK(scpool_container_open(c, cmds, 2, fds) != SCPOOL_ERROR_OK);
	cmds[1].path = "/w/missing";
	CHECK_CODE(scpool_container_open(c, cmds, 2, fds), SCPOOL_ERROR_OPEN);
	CHECK(scpool_last_error_errno() == ENOENT);
	CHECK(fds[0] == -1 && fds[1] == -1); /* all or nothing */
	uint8_t *data = NULL;
	size_t len = 0;
	CHECK_INVALID(scpool_container_write_file(NULL, "/w/x", (const uint8_t *)"x", 1));
	CHECK_INVALID(scpool_container_write_file(c, NULL, (const uint8_t *)"x", 1));
	CHECK_INVALID(scpool_container_write_file(c, "/w/x", NULL, 1));
	CHECK_INVALID(scpool_container_read_file(NULL, "/w/x", &data, &len));
	CHECK_INVALID(scpool_container_read_file(c, NULL, &data, &len));
	CHECK_INVALID(scpool_container_read_file(c, "/w/x", NULL, &len));
	CHECK_INVALID(scpool_container_read_file(c, "/w/x", &data, NULL));
	int fd = 5;
	CHECK_INVALID(scpool_memfd_copy(NULL, &fd));
	CHECK_INVALID(scpool_memfd_copy("/bin/sh", NULL));
	CHECK(scpool_memfd_copy("/no/such/file", &fd) != SCPOOL_ERROR_OK);

	/* Freeing NULL is harmless, and cleaning up keeps the last error for reading. */
	CHECK_INVALID(scpool_container_ping(NULL));
	scpool_result_free(NULL);
	scpool_buffer_free(NULL);
	scpool_container_release(NULL);
	scpool_container_discard(NULL);
	scpool_pool_free(NULL);
	CHECK(strstr(scpool_last_error_message(), "container is NULL") != NULL);

	/* A success clears the last error. */
	CHECK_OK(scpool_container_ping(c));
	CHECK(scpool_last_error_message()[0] == 0 && scpool_last_error_errno() == 0);

	/* And the container still serves. */
	rp.argv = echo;
	scpool_result_init(&r);
	CHECK_OK(scpool_container_run(c, &rp, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, "x\n"));
	scpool_result_free(&r);
	scpool_container_release(c);
}

/* The accounting a container with a cgroup gets on this host: v2 when the unified
 * hierarchy is mounted at /sys/fs/cgroup, else v1. */
static uint32_t host_accounting(void)
{
	return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? SCPOOL_ACCOUNTING_CGROUP_V2
								       : SCPOOL_ACCOUNTING_CGROUP_V1;
}

/* Each container's program runs as an id of its own from the configured range; a
 * range of one id serves one container at a time. */
static void test_container_ids(void)
{
	scpool_container_config config;
	CHECK_OK(scpool_container_config_init(&config));
	CHECK(config.uid == SCPOOL_ID_AUTO && config.gid == SCPOOL_ID_AUTO);
	CHECK(config.id_range_first == 0x70000000u && config.id_range_count == 65536u);
	config.id_range_first = 0x7ff00001u;
	config.id_range_count = 1;
	scpool_container *a = NULL, *b = (scpool_container *)1;
	CHECK_OK(scpool_container_new(&config, &a));
	if (a == NULL)
		return;
	uint32_t uid = 0, gid = 0;
	CHECK_OK(scpool_container_program_ids(a, &uid, &gid));
	CHECK(uid == 0x7ff00001u && gid == 0x7ff00001u);
	const char *argv[] = { "/bin/sh", "-c", "id -u; id -g", NULL };
	scpool_result r;
	CHECK_OK(run(a, argv, NULL, NULL, &r));
	char want[64];
	snprintf(want, sizeof(want), "%u\n%u\n", uid, gid);
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, want));
	scpool_result_free(&r);
	/* The range is exhausted while the first container lives. */
	CHECK_CODE(scpool_container_new(&config, &b), SCPOOL_ERROR_SETUP);
	CHECK(strstr(scpool_last_error_message(), "taken") != NULL);
	CHECK_INVALID(scpool_container_program_ids(NULL, &uid, &gid));
	CHECK_INVALID(scpool_container_program_ids(a, NULL, &gid));
	scpool_container_release(a);
	/* Destroying the container gave its id back. */
	CHECK_OK(scpool_container_new(&config, &b));
	scpool_container_release(b);

	/* A caller built before the id range passes the shorter struct: the fields past
	 * it are never read (a count of 0 would be refused). */
	CHECK_OK(scpool_container_config_init(&config));
	config.id_range_count = 0;
	CHECK_INVALID(scpool_container_new(&config, &a));
	config.struct_size = offsetof(scpool_container_config, id_range_first);
	a = NULL;
	CHECK_OK(scpool_container_new(&config, &a));
	CHECK_OK(scpool_container_program_ids(a, &uid, &gid));
	CHECK(uid >= 0x70000000u && uid < 0x70000000u + 65536u);
	scpool_container_release(a);
}

/* This process's CPUs as /proc/self/status lists them, with a newline. */
static void own_cpus(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[512];
	out[0] = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
			const char *v = line + 18;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(out, size, "%s", v);
		}
	}
	if (f != NULL)
		fclose(f);
}

/* cpu_set confines the run to its CPUs; bad lists and CPUs the host lacks are invalid
 * arguments; a caller built before the field, or a NULL, gets every CPU. */
static void test_cpu_set(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	const char *argv[] = { "/bin/sh", "-c", "sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status",
			       NULL };
	char all[512];
	own_cpus(all, sizeof(all));
	scpool_limits limits;
	CHECK_OK(scpool_limits_init(&limits));
	CHECK(limits.cpu_set == NULL);
	limits.cpu_set = "0";
	scpool_result r;
	CHECK_OK(run(c, argv, NULL, &limits, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, "0\n"));
	scpool_result_free(&r);
	/* A caller built before cpu_set: the field is not read. */
	limits.struct_size = offsetof(scpool_limits, cpu_set);
	CHECK_OK(run(c, argv, NULL, &limits, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, all));
	scpool_result_free(&r);

	CHECK_OK(scpool_limits_init(&limits));
	limits.cpu_set = "0-";
	CHECK_INVALID(run(c, argv, NULL, &limits, &r));
	CHECK(strstr(scpool_last_error_message(), "\"0-\"") != NULL);
	limits.cpu_set = "4095";
	CHECK_INVALID(run(c, argv, NULL, &limits, &r));
	CHECK(strstr(scpool_last_error_message(), "4095") != NULL);
	limits.cpu_set = NULL;
	CHECK_OK(run(c, argv, NULL, &limits, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, all));
	scpool_result_free(&r);
	scpool_container_release(c);
}

/* Unset limits are the library's defaults, which the header names; a memory limit
 * below the minimum is refused by the library; the address-space limit is RLIMIT_AS. */
static void test_limit_defaults_and_address_space(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	const char *argv[] = { "/bin/sh", "-c", "ulimit -n; ulimit -s; ulimit -v", NULL };
	scpool_result r;
	CHECK_OK(run(c, argv, NULL, NULL, &r));
	char want[128];
	snprintf(want, sizeof(want), "%llu\n%llu\nunlimited\n", (unsigned long long)SCPOOL_DEFAULT_OPEN_FILES,
		 (unsigned long long)SCPOOL_DEFAULT_STACK_BYTES / 1024);
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, want));
	scpool_result_free(&r);

	scpool_limits limits;
	CHECK_OK(scpool_limits_init(&limits));
	CHECK(limits.address_space_bytes == 0 && limits.open_files == 0 && limits.processes == 0);
	limits.address_space_bytes = 64 * MIB;
	CHECK_OK(run(c, argv, NULL, &limits, &r));
	snprintf(want, sizeof(want), "%llu\n%llu\n65536\n", (unsigned long long)SCPOOL_DEFAULT_OPEN_FILES,
		 (unsigned long long)SCPOOL_DEFAULT_STACK_BYTES / 1024);
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, want));
	scpool_result_free(&r);
	/* A caller built before address_space_bytes: the field is not read. */
	limits.struct_size = offsetof(scpool_limits, address_space_bytes);
	CHECK_OK(run(c, argv, NULL, &limits, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && r.stdout_len > 10 &&
	      memcmp(r.stdout_data + r.stdout_len - 10, "unlimited\n", 10) == 0);
	scpool_result_free(&r);

	CHECK_OK(scpool_limits_init(&limits));
	limits.memory_bytes = 64 * 1024;
	const char *true_argv[] = { "/bin/true", NULL };
	CHECK_INVALID(run(c, true_argv, NULL, &limits, &r));
	char minimum[32];
	snprintf(minimum, sizeof(minimum), "%llu", (unsigned long long)SCPOOL_MIN_MEMORY_BYTES);
	CHECK(strstr(scpool_last_error_message(), minimum) != NULL);
	limits.memory_bytes = SCPOOL_MIN_MEMORY_BYTES;
	CHECK_OK(run(c, true_argv, NULL, &limits, &r));
	scpool_result_free(&r);
	scpool_container_release(c);
}

/* CPU time splits into user and system time exactly; the result names what
 * measured it; a caller built before the split gets only the older fields. */
static void test_cpu_split_and_accounting(scpool_pool *pool)
{
	scpool_container *c = acquire(pool);
	const char *argv[] = { "/bin/sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done", NULL };
	scpool_result r;
	CHECK_OK(run(c, argv, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_OK);
	CHECK(r.user_time_ns > r.system_time_ns);
	CHECK(r.user_time_ns + r.system_time_ns == r.cpu_time_ns);
	CHECK(r.accounting == host_accounting());
	CHECK(strcmp(scpool_accounting_name(r.accounting), host_accounting() == SCPOOL_ACCOUNTING_CGROUP_V1
								    ? "cgroup-v1"
								    : "cgroup-v2") == 0);
	scpool_result_free(&r);

	scpool_run_param p;
	CHECK_OK(scpool_run_param_init(&p));
	p.argv = argv;
	CHECK_OK(scpool_result_init(&r));
	r.struct_size = offsetof(scpool_result, user_time_ns);
	r.user_time_ns = 12345;
	r.accounting = 77;
	CHECK_OK(scpool_container_run(c, &p, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && r.cpu_time_ns > 0);
	CHECK(r.user_time_ns == 12345 && r.accounting == 77);
	scpool_result_free(&r);
	scpool_container_release(c);

	scpool_container_config config;
	CHECK_OK(scpool_container_config_init(&config));
	config.cgroup_mode = SCPOOL_CGROUP_MODE_OFF;
	CHECK_OK(scpool_container_new(&config, &c));
	CHECK_OK(run(c, argv, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && r.accounting == SCPOOL_ACCOUNTING_NONE);
	CHECK(strcmp(scpool_accounting_name(r.accounting), "none") == 0);
	CHECK(r.user_time_ns + r.system_time_ns == r.cpu_time_ns && r.user_time_ns > 0);
	scpool_result_free(&r);
	scpool_container_release(c);
	CHECK(strcmp(scpool_accounting_name(99), "unknown") == 0);
}

/* Waits until process `pid` has exited (a zombie, or gone). */
static void wait_dead(int pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		if (f == NULL)
			return;
		size_t n = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
		stat[n] = 0;
		const char *end = strrchr(stat, ')');
		if (end != NULL && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X'))
			return;
		usleep(10 * 1000);
	}
	fprintf(stderr, "process %d did not die\n", pid);
	failures++;
}

/* A pool never hands out a container whose init died while it was idle, and a held
 * container whose init dies reads as broken before any call. */
static void test_dead_init(void)
{
	scpool_pool *pool = new_pool(1);
	scpool_container *c = acquire(pool);
	int pid = scpool_container_init_pid(c);
	CHECK(pid > 0 && scpool_container_is_broken(c) == 0);
	scpool_container_release(c);
	scpool_pool_stats stats;
	scpool_pool_stats_init(&stats);
	for (int i = 0; i < 1000; i++) {
		CHECK_OK(scpool_pool_get_stats(pool, &stats));
		if (stats.idle == 1)
			break;
		usleep(10 * 1000);
	}
	CHECK(stats.idle == 1);
	CHECK(kill(pid, SIGKILL) == 0);
	wait_dead(pid);
	c = acquire(pool);
	CHECK(scpool_container_init_pid(c) != pid && scpool_container_is_broken(c) == 0);
	const char *argv[] = { "/bin/echo", "alive", NULL };
	scpool_result r;
	CHECK_OK(run(c, argv, NULL, NULL, &r));
	CHECK(r.status == SCPOOL_STATUS_OK && output_is(&r, "alive\n"));
	scpool_result_free(&r);

	pid = scpool_container_init_pid(c);
	CHECK(kill(pid, SIGKILL) == 0);
	wait_dead(pid);
	CHECK(scpool_container_is_broken(c) == 1);
	CHECK_CODE(scpool_container_ping(c), SCPOOL_ERROR_CONTAINER_BROKEN);
	scpool_container_release(c);
	CHECK(scpool_container_is_broken(NULL) == 1 && scpool_container_init_pid(NULL) == -1);
	scpool_pool_free(pool);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* No child process of ours is left (the containers' inits are children). */
static int count_children(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", getpid());
	DIR *tasks = opendir(path);
	int n = 0;
	for (struct dirent *t; (t = readdir(tasks)) != NULL;) {
		if (t->d_name[0] == '.')
			continue;
		char children[300], buf[4096];
		snprintf(children, sizeof(children), "/proc/self/task/%s/children", t->d_name);
		FILE *f = fopen(children, "r");
		if (f == NULL)
			continue;
		size_t got = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		for (size_t i = 0; i < got; i++)
			n += buf[i] == ' ';
	}
	closedir(tasks);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PROGDIR\n", argv[0]);
		return 2;
	}
	progdir = argv[1];
	read_ns("/proc/self/ns/pid", host_pid_ns, sizeof(host_pid_ns));
	read_ns("/proc/self/ns/mnt", host_mnt_ns, sizeof(host_mnt_ns));
	/* The library keeps a few descriptors for the life of the process (the init's
	 * image, /dev/null, its spawner's pipe): count after they exist. */
	scpool_pool_free(new_pool(1));
	int fds_before = count_fds();

	test_version();
	scpool_pool *pool = new_pool(2);
	test_invalid_arguments(pool);
	test_run_with_stdin(pool);
	test_seed_scenario(pool);
	test_files_and_reset(pool);
	test_file_helpers(pool);
	test_statuses(pool);
	test_custom_seccomp(pool);
	test_single_program_seccomp(pool);
	test_fork_bomb(pool);
	test_limit_defaults_and_address_space(pool);
	test_cpu_set(pool);
	test_cpu_split_and_accounting(pool);
	scpool_pool_free(pool);
	test_pool_lifecycle();
	test_cancel_acquire();
	test_own_container();
	test_process_peak();
	test_image_layers();
	test_container_ids();
	test_dead_init();
	test_threads();

	int fds_after = count_fds();
	CHECK(fds_after == fds_before);
	CHECK(count_children() == 0);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("all C checks passed\n");
	return 0;
}
