/* The seed scenario in C: a tiny judge over libscpool.
 *
 * For each test case: acquire a container from the pool, open /w/input.txt and
 * /w/output.txt inside it, write the input through the returned descriptor, copy a
 * host program into a memfd and execve it by descriptor with the two paths as
 * arguments, read the output back through the other descriptor, compare it with the
 * expected answer, release the container.
 *
 *   cc judge.c $(pkg-config --cflags --libs scpool) -o judge
 *   sudo ./judge [HOST_PROGRAM]     (default /bin/cp, which "solves" the identity problem)
 *
 * Verdicts: AC, WA, TLE, MLE, OLE, RE (the solution crashed or failed), SE (the
 * sandbox could not start it). Exits 0 when every case is accepted, 1 otherwise, 2
 * on an error of the sandbox. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <scpool.h>

struct test_case {
	const char *input;
	const char *expected;
};

static const struct test_case cases[] = {
	{ "1 2\n", "1 2\n" },
	{ "hello\n", "hello\n" },
	{ "", "" },
};

static int fail(const char *what, scpool_error e)
{
	fprintf(stderr, "judge: %s: %s: %s\n", what, scpool_error_name(e), scpool_last_error_message());
	return 2;
}

static const char *verdict(const scpool_result *r, const char *produced, size_t produced_len,
			   const char *expected)
{
	switch (r->status) {
	case SCPOOL_STATUS_OK:
		/* Byte for byte: a NUL or anything past the answer is wrong. */
		return produced_len == strlen(expected) && memcmp(produced, expected, produced_len) == 0
			       ? "AC"
			       : "WA";
	case SCPOOL_STATUS_TIME_LIMIT_EXCEEDED:
	case SCPOOL_STATUS_WALL_TIME_LIMIT_EXCEEDED:
		return "TLE";
	case SCPOOL_STATUS_MEMORY_LIMIT_EXCEEDED:
		return "MLE";
	case SCPOOL_STATUS_OUTPUT_LIMIT_EXCEEDED:
		return "OLE";
	case SCPOOL_STATUS_RUNNER_ERROR:
		return "SE"; /* the sandbox could not start it: not the solution's fault */
	default:
		return "RE";
	}
}

/* Judges one case in container `c`; returns 1 when accepted, 0 when not, -1 on error. */
static int judge_case(scpool_container *c, int program, const struct test_case *t, int number)
{
	scpool_open_cmd files[2] = {
		{ "/w/input.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644 },
		{ "/w/output.txt", O_RDWR | O_CREAT | O_TRUNC, 0644 },
	};
	int fds[2];
	scpool_error e = scpool_container_open(c, files, 2, fds);
	if (e != SCPOOL_ERROR_OK)
		return fail("open", e), -1;
	size_t len = strlen(t->input);
	int wrote = write(fds[0], t->input, len) == (ssize_t)len;
	close(fds[0]);
	if (!wrote) {
		close(fds[1]);
		perror("judge: writing the input");
		return -1;
	}

	static const char *const argv[] = { "solution", "/w/input.txt", "/w/output.txt", NULL };
	static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	scpool_limits limits;
	scpool_limits_init(&limits);
	limits.cpu_time_ns = 1000000000ull;    /* 1 s */
	limits.wall_time_ns = 2000000000ull;   /* 2 s */
	limits.memory_bytes = 256ull << 20;    /* 256 MiB */
	limits.output_bytes = 1ull << 20;      /* 1 MiB */
	limits.processes = 16;
	scpool_execve_param param;
	scpool_execve_param_init(&param);
	param.argv = argv;
	param.envp = env;
	param.exec_fd = program;
	param.limits = &limits;
	scpool_result r;
	scpool_result_init(&r);
	e = scpool_container_execve(c, &param, &r);
	if (e != SCPOOL_ERROR_OK) {
		close(fds[1]);
		return fail("execve", e), -1;
	}

	/* One byte more than the answer is enough to tell a longer output. */
	char produced[4096];
	size_t want = strlen(t->expected) + 1;
	ssize_t got = pread(fds[1], produced, want < sizeof(produced) ? want : sizeof(produced), 0);
	close(fds[1]);
	const char *v = verdict(&r, produced, got > 0 ? (size_t)got : 0, t->expected);
	printf("%-6d %-8s %10.2f %12llu\n", number, v, r.wall_time_ns / 1e6,
	       (unsigned long long)(r.memory_bytes / 1024));
	scpool_result_free(&r);
	return strcmp(v, "AC") == 0;
}

int main(int argc, char **argv)
{
	const char *solution = argc > 1 ? argv[1] : "/bin/cp";
	if (scpool_abi_major() != SCPOOL_ABI_MAJOR) {
		fprintf(stderr, "judge: built for ABI %d, loaded %u\n", SCPOOL_ABI_MAJOR, scpool_abi_major());
		return 2;
	}
	scpool_pool_config config;
	scpool_pool_config_init(&config);
	config.min_idle = config.max_idle = config.max_size = 1;
	scpool_pool *pool;
	scpool_error e = scpool_pool_new(&config, &pool);
	if (e != SCPOOL_ERROR_OK)
		return fail("creating the pool", e);
	int program;
	e = scpool_memfd_copy(solution, &program);
	if (e != SCPOOL_ERROR_OK) {
		int status = fail(solution, e);
		scpool_pool_free(pool);
		return status;
	}

	printf("%-6s %-8s %10s %12s\n", "case", "verdict", "time (ms)", "memory (KiB)");
	int accepted = 0, status = 0;
	size_t count = sizeof(cases) / sizeof(cases[0]);
	for (size_t i = 0; i < count && status == 0; i++) {
		scpool_container *c;
		e = scpool_pool_acquire(pool, 5000000000ll, &c);
		if (e != SCPOOL_ERROR_OK) {
			status = fail("acquire", e);
			break;
		}
		int ok = judge_case(c, program, &cases[i], (int)i + 1);
		scpool_container_release(c); /* reset off our path, ready for the next case */
		if (ok < 0)
			status = 2;
		accepted += ok > 0;
	}
	close(program);
	scpool_pool_free(pool);
	if (status != 0)
		return status;
	printf("%d/%zu accepted\n", accepted, count);
	return accepted == (int)count ? 0 : 1;
}
