/* Guarded. Creates one SysV shared memory segment, message queue and semaphore set
 * (IPC_PRIVATE) and leaves them behind; prints "created". */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "guard.h"

int main(int argc, char **argv)
{
	sandbox_guard(argc, argv);
	if (shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) < 0) {
		perror("shmget");
		return 2;
	}
	if (msgget(IPC_PRIVATE, IPC_CREAT | 0600) < 0) {
		perror("msgget");
		return 3;
	}
	if (semget(IPC_PRIVATE, 1, IPC_CREAT | 0600) < 0) {
		perror("semget");
		return 4;
	}
	printf("created\n");
	return 0;
}
