/* Prints "hello": a plain program that must run under the strict seccomp policy. */
#include <stdio.h>

int main(void)
{
	printf("hello\n");
	return 0;
}
