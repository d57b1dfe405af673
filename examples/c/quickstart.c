/* scpool from C: a pool, a container from it, one run with limits. Exits 0 when
 * the program printed the right sum, 1 when not, 2 when a call failed.
 *
 *   cc quickstart.c $(pkg-config --cflags --libs scpool) -o quickstart
 *   sudo ./quickstart */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <scpool.h>

/* Says why a call failed; returns 1 when it did. */
static int failed(const char *call, scpool_error e)
{
	if (e == SCPOOL_ERROR_OK)
		return 0;
	fprintf(stderr, "%s: %s: %s\n", call, scpool_error_name(e), scpool_last_error_message());
	return 1;
}

int main(void)
{
	scpool_pool_config config;
	if (failed("scpool_pool_config_init", scpool_pool_config_init(&config)))
		return 2;
	config.min_idle = config.max_idle = config.max_size = 4;
	scpool_pool *pool;
	if (failed("scpool_pool_new", scpool_pool_new(&config, &pool)))
		return 2;

	int exit_status = 2;
	scpool_container *c;
	/* Waits up to 5 s (in ns; a negative timeout waits the pool's acquire_timeout). */
	if (failed("scpool_pool_acquire", scpool_pool_acquire(pool, 5000000000, &c)))
		goto free_pool;

	/* Every struct: its _init first (it sets struct_size and the defaults), then fields. */
	scpool_limits limits;
	scpool_run_param param;
	scpool_result r;
	if (failed("scpool_limits_init", scpool_limits_init(&limits)) ||
	    failed("scpool_run_param_init", scpool_run_param_init(&param)) ||
	    failed("scpool_result_init", scpool_result_init(&r)))
		goto release;
	limits.cpu_time_ns = 1000000000; /* ns and bytes; 0 = the default (no limit for these) */
	limits.memory_bytes = 256 << 20;
	const char *const argv[] = { "/bin/sh", "-c", "read a b; echo $((a+b))", NULL };
	param.argv = argv;
	param.stdin_data = (const uint8_t *)"1 2\n";
	param.stdin_len = 4;
	param.limits = &limits;
	if (failed("scpool_container_run", scpool_container_run(c, &param, &r)))
		goto release;

	/* A program that fails is a status, not an error: check it. */
	printf("%s: %.*s", scpool_status_name(r.status), (int)r.stdout_len,
	       r.stdout_data ? (const char *)r.stdout_data : "");
	printf("cpu %.3f s, wall %.3f s, memory %llu bytes\n", r.cpu_time_ns / 1e9,
	       r.wall_time_ns / 1e9, (unsigned long long)r.memory_bytes);
	int right = r.status == SCPOOL_STATUS_OK && r.stdout_len == 2 &&
		    memcmp(r.stdout_data, "3\n", 2) == 0;
	exit_status = right ? 0 : 1;
	scpool_result_free(&r); /* frees stdout, stderr and message */
release:
	scpool_container_release(c); /* reset off your path, back to idle */
free_pool:
	scpool_pool_free(pool);
	return exit_status;
}
