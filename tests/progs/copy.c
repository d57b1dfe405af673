/* The seed scenario: copy argv[1] to argv[2], upper-cased. */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: copy INPUT OUTPUT\n");
		return 2;
	}
	int in = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		perror(argv[1]);
		return 3;
	}
	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		perror(argv[2]);
		return 4;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0) {
			perror("read");
			return 5;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0) {
				perror("write");
				return 6;
			}
			done += w;
		}
	}
	if (close(out) != 0) {
		perror("close");
		return 7;
	}
	return 0;
}
