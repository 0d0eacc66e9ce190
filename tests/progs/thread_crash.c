/* A thread that crashes ends the whole job (issue 15): "null" writes
 * through a NULL pointer, "overflow" runs its stack into the guard page.
 * The main thread waits in pthread_join and must never print "joined". */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static volatile int *volatile nowhere;

static int deep(int n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	return deep(n + 1) + pad[0];
}

static void *victim(void *arg)
{
	printf("thread started\n");
	fflush(stdout);
	if (strcmp(arg, "overflow") == 0)
		return (void *)(long)deep(0);
	*nowhere = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	if (pthread_create(&t, NULL, victim, argc > 1 ? argv[1] : "null") != 0)
		return 3;
	pthread_join(t, NULL);
	printf("joined\n");
	return 0;
}
