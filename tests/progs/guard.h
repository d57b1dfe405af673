/* Shared by the hostile test programs: refuse to act unless really sandboxed.
 *
 * The test passes the host's namespace identities as argv[1] and argv[2]
 * (readlink of /proc/self/ns/pid and /proc/self/ns/mnt, e.g. "pid:[4026531836]").
 * If this process is in the same PID or mount namespace as the host, or cannot
 * tell, it exits with GUARD_REFUSED at once, having done nothing.
 */
#ifndef SCPOOL_TEST_GUARD_H
#define SCPOOL_TEST_GUARD_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GUARD_REFUSED 99

static void guard_same_ns(const char *link, const char *host)
{
	char own[256];
	ssize_t n = readlink(link, own, sizeof(own) - 1);
	if (n <= 0 || (size_t)n >= sizeof(own) - 1)
		_exit(GUARD_REFUSED);
	own[n] = '\0';
	/* Anything that does not look like "type:[inode]" suggests we cannot tell. */
	if (strchr(own, '[') == NULL || strcmp(own, host) == 0)
		_exit(GUARD_REFUSED);
}

/* Returns the index of the first argument after the guard's two. */
static int sandbox_guard(int argc, char **argv)
{
	if (argc < 3 || strchr(argv[1], '[') == NULL || strchr(argv[2], '[') == NULL)
		_exit(GUARD_REFUSED);
	guard_same_ns("/proc/self/ns/pid", argv[1]);
	guard_same_ns("/proc/self/ns/mnt", argv[2]);
	return 3;
}

#endif
