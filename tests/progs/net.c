/* Guarded. Prints the network interfaces listed in /proc/net/dev ("if NAME"), then
 * tries a TCP connection to 127.0.0.1:PORT (argv after the guard) and prints
 * "connect ok" or "connect err ERRNO". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guard.h"

int main(int argc, char **argv)
{
	int first = sandbox_guard(argc, argv);
	if (first >= argc) {
		fprintf(stderr, "usage: net HOSTPIDNS HOSTMNTNS PORT\n");
		return 2;
	}
	FILE *dev = fopen("/proc/net/dev", "re");
	if (dev == NULL) {
		printf("no /proc/net/dev %d\n", errno);
	} else {
		char line[512];
		while (fgets(line, sizeof(line), dev) != NULL) {
			char *colon = strchr(line, ':');
			if (colon == NULL)
				continue; /* the two header lines */
			*colon = '\0';
			char *name = line;
			while (*name == ' ')
				name++;
			printf("if %s\n", name);
		}
		fclose(dev);
	}
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		printf("socket err %d\n", errno);
		return 0;
	}
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)atoi(argv[first]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		printf("connect ok\n");
	else
		printf("connect err %d\n", errno);
	close(s);
	return 0;
}
