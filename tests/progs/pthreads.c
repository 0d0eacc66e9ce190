/* pthread conformance (issue 15): runs under Toro at any threads-per-rank
 * and on the host (gcc -pthread). Prints "ok NAME" or "FAIL NAME: why"
 * per check, then "pthreads: N passed, M failed"; exit status 1 on any
 * failure. An optional argument is the number of cores the process
 * should see (sched_getaffinity). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *name, const char *why)
{
	if (ok) {
		passed++;
		printf("ok %s\n", name);
	} else {
		failed++;
		printf("FAIL %s: %s\n", name, why);
	}
}

static void *twice(void *arg) { return (void *)((intptr_t)arg * 2); }

static void test_create_join(void)
{
	enum { N = 100 };
	pthread_t t[N];
	int made = 0, good = 0;
	for (int i = 0; i < N; i++)
		made += pthread_create(&t[i], NULL, twice, (void *)(intptr_t)i) == 0;
	for (int i = 0; i < made; i++) {
		void *r;
		good += pthread_join(t[i], &r) == 0 && (intptr_t)r == 2 * i;
	}
	check(made == N && good == N, "create_join_100", "a create, a join or a result failed");
}

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *add_many(void *arg)
{
	for (int i = 0; i < (int)(intptr_t)arg; i++) {
		pthread_mutex_lock(&mtx);
		long v = counter;
		if (i % 64 == 0)
			sched_yield(); /* let others try the lock while it is held */
		counter = v + 1;
		pthread_mutex_unlock(&mtx);
	}
	return NULL;
}

static void test_mutex(void)
{
	enum { N = 8, EACH = 5000 };
	pthread_t t[N];
	counter = 0;
	for (int i = 0; i < N; i++)
		pthread_create(&t[i], NULL, add_many, (void *)(intptr_t)EACH);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	check(counter == N * EACH, "mutex_counter", "lost updates");
}

static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds_done;

static void *pong(void *arg)
{
	int me = (int)(intptr_t)arg;
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&mtx);
		while (turn != me)
			pthread_cond_wait(&cv, &mtx);
		turn = !me;
		rounds_done++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mtx);
	}
	return NULL;
}

static void test_condvar(void)
{
	pthread_t a, b;
	turn = 0;
	rounds_done = 0;
	pthread_create(&a, NULL, pong, (void *)0);
	pthread_create(&b, NULL, pong, (void *)1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	check(rounds_done == 1000 && turn == 0, "condvar_pingpong", "wrong number of turns");

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&mtx);
	int rc = pthread_cond_timedwait(&cv, &mtx, &ts);
	pthread_mutex_unlock(&mtx);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	check(rc == ETIMEDOUT && ms >= 15, "condvar_timedwait", "no ETIMEDOUT after about 20 ms");
}

enum { BN = 4, BROUNDS = 100 };
static pthread_barrier_t bar;
static volatile int phase[BN];
static int barrier_bad;

static void *barrier_worker(void *arg)
{
	int me = (int)(intptr_t)arg, serial = 0;
	for (int r = 0; r < BROUNDS; r++) {
		phase[me] = r;
		if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD)
			serial++;
		for (int i = 0; i < BN; i++)
			if (phase[i] < r)
				__atomic_store_n(&barrier_bad, 1, __ATOMIC_RELAXED);
		pthread_barrier_wait(&bar);
	}
	return (void *)(intptr_t)serial;
}

static void test_barrier(void)
{
	pthread_t t[BN];
	pthread_barrier_init(&bar, NULL, BN);
	for (int i = 0; i < BN; i++)
		pthread_create(&t[i], NULL, barrier_worker, (void *)(intptr_t)i);
	intptr_t serials = 0;
	for (int i = 0; i < BN; i++) {
		void *s;
		pthread_join(t[i], &s);
		serials += (intptr_t)s;
	}
	pthread_barrier_destroy(&bar);
	check(!barrier_bad && serials == BROUNDS, "barrier", "a thread passed early or serial count wrong");
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_a, rw_b;
static int rw_bad;

static void *rw_worker(void *arg)
{
	int writer = (int)(intptr_t)arg;
	for (int i = 0; i < 2000; i++) {
		if (writer) {
			pthread_rwlock_wrlock(&rw);
			rw_a++;
			if (i % 32 == 0)
				sched_yield();
			rw_b++;
			pthread_rwlock_unlock(&rw);
		} else {
			pthread_rwlock_rdlock(&rw);
			if (rw_a != rw_b)
				__atomic_store_n(&rw_bad, 1, __ATOMIC_RELAXED);
			pthread_rwlock_unlock(&rw);
		}
	}
	return NULL;
}

static void test_rwlock(void)
{
	pthread_t t[6];
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, rw_worker, (void *)(intptr_t)(i < 2));
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	check(!rw_bad && rw_a == 4000 && rw_b == 4000, "rwlock", "a reader saw a half-done write or writes were lost");
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs;
static void once_init(void) { once_runs++; sched_yield(); }
static void *once_worker(void *arg) { (void)arg; pthread_once(&once, once_init); return (void *)(intptr_t)once_runs; }

static void test_once(void)
{
	pthread_t t[8];
	int seen = 1;
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, once_worker, NULL);
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(t[i], &r);
		seen &= (intptr_t)r == 1;
	}
	check(once_runs == 1 && seen, "once", "the init ran more than once or not before pthread_once returned");
}

static _Thread_local int tls_var = 42;
static _Thread_local char tls_buf[256];

static void *tls_worker(void *arg)
{
	int me = (int)(intptr_t)arg, ok = tls_var == 42;
	tls_var = me;
	memset(tls_buf, me, sizeof tls_buf);
	for (int i = 0; i < 20; i++) {
		sched_yield();
		ok &= tls_var == me && tls_buf[0] == (char)me && tls_buf[255] == (char)me;
	}
	return (void *)(intptr_t)ok;
}

static void test_tls(void)
{
	pthread_t t[8];
	int ok = 1;
	tls_var = 7;
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, tls_worker, (void *)(intptr_t)(i + 100));
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(t[i], &r);
		ok &= (intptr_t)r == 1;
	}
	check(ok && tls_var == 7, "tls_per_thread", "a thread saw another's _Thread_local or not the initial value");
}

static pthread_key_t key;
static int destructed;
static void key_dtor(void *v) { __atomic_add_fetch(&destructed, (int)(intptr_t)v, __ATOMIC_RELAXED); }

static void *tsd_worker(void *arg)
{
	pthread_setspecific(key, arg);
	sched_yield();
	return (void *)(intptr_t)(pthread_getspecific(key) == arg);
}

static void test_tsd(void)
{
	pthread_key_create(&key, key_dtor);
	pthread_t t[6];
	int ok = 1;
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, tsd_worker, (void *)(intptr_t)(i + 1));
	for (int i = 0; i < 6; i++) {
		void *r;
		pthread_join(t[i], &r);
		ok &= (intptr_t)r == 1;
	}
	check(ok && destructed == 21 && pthread_getspecific(key) == NULL, "thread_specific_data",
	      "wrong value or destructors did not run once each");
	pthread_key_delete(key);
}

static int detached_done;
static void *detached_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mtx);
	detached_done++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mtx);
	return NULL;
}

static void test_detached(void)
{
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int made = 0;
	for (int i = 0; i < 20; i++) {
		pthread_t t;
		made += pthread_create(&t, &a, detached_worker, NULL) == 0;
	}
	pthread_t t;
	pthread_create(&t, NULL, detached_worker, NULL);
	made += pthread_detach(t) == 0;
	pthread_mutex_lock(&mtx);
	while (detached_done < made)
		pthread_cond_wait(&cv, &mtx);
	pthread_mutex_unlock(&mtx);
	pthread_attr_destroy(&a);
	check(made == 21 && detached_done == 21, "detached", "detached threads did not all run");
}

static void deep_exit(int depth)
{
	if (depth > 0)
		deep_exit(depth - 1);
	pthread_exit((void *)(intptr_t)123);
}

static void *exiter(void *arg) { deep_exit((int)(intptr_t)arg); return NULL; }
static void *quick(void *arg) { return arg; }

static void test_exit_status(void)
{
	pthread_t a, b;
	void *ra = NULL, *rb = NULL;
	pthread_create(&a, NULL, exiter, (void *)5);
	pthread_create(&b, NULL, quick, (void *)77);
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL); /* b has surely ended before its join */
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	check((intptr_t)ra == 123 && (intptr_t)rb == 77, "exit_status", "wrong value from pthread_exit or return");
}

static void *tid_worker(void *arg)
{
	*(long *)arg = syscall(SYS_gettid);
	return NULL;
}

static void test_tids(int want_cores)
{
	pthread_t t[4];
	long tids[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, tid_worker, &tids[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	int distinct = syscall(SYS_gettid) == getpid();
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < i; j++)
			distinct &= tids[i] != tids[j] && tids[i] != getpid();
	check(distinct, "gettid", "thread ids are not distinct or the main thread's is not the pid");

	cpu_set_t set;
	CPU_ZERO(&set);
	int ok = sched_getaffinity(0, sizeof set, &set) == 0;
	int n = CPU_COUNT(&set), first = -1;
	for (int c = 0; c < CPU_SETSIZE && first < 0; c++)
		if (CPU_ISSET(c, &set))
			first = c;
	ok &= n >= 1 && (!want_cores || n == want_cores);
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	ok &= pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
	cpu_set_t got;
	CPU_ZERO(&got);
	ok &= pthread_getaffinity_np(pthread_self(), sizeof got, &got) == 0 && CPU_EQUAL(&got, &one);
	ok &= sched_setaffinity(0, sizeof set, &set) == 0;
	check(ok, "affinity", "sched_getaffinity/setaffinity disagree with the cores the process owns");
}

int main(int argc, char **argv)
{
	int want_cores = argc > 1 ? atoi(argv[1]) : 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_create_join();
	test_mutex();
	test_condvar();
	test_barrier();
	test_rwlock();
	test_once();
	test_tls();
	test_tsd();
	test_detached();
	test_exit_status();
	test_tids(want_cores);
	printf("pthreads: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
