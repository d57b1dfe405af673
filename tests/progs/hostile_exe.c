/* Tries to change the file it runs from, through /proc/self/exe: its mode, its
 * times, an extended attribute and its bytes. Prints one word per attempt ("ok" or
 * the errno's number) and then the file's mode and modification time, so that the
 * test can compare what a later run of the same file sees.
 */
#include "guard.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>

static void outcome(const char *what, int rc)
{
	if (rc == 0)
		printf("%s=ok ", what);
	else
		printf("%s=%d ", what, errno);
}

int main(int argc, char **argv)
{
	sandbox_guard(argc, argv);
	const char *exe = "/proc/self/exe";
	outcome("chmod", chmod(exe, 0777));
	outcome("utime", utimensat(AT_FDCWD, exe, NULL, 0));
	outcome("xattr", setxattr(exe, "user.scpool", "x", 1, 0));
	int fd = open(exe, O_RDWR);
	outcome("open", fd >= 0 ? 0 : -1);
	struct stat st;
	if (stat(exe, &st) != 0)
		return 1;
	printf("mode=%o mtime=%lld.%09ld\n", st.st_mode & 07777, (long long)st.st_mtim.tv_sec,
	       st.st_mtim.tv_nsec);
	return 0;
}
