/* The MPI environment (MPI-3.1 chapter 8, 9 and 12.4): MPI_Init and
 * MPI_Finalize, the kernel's service table, the init state, clocks,
 * versions, thread levels, MPI_Pcontrol, MPI_Alloc_mem and Info objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/auxv.h>
#include "impl.h"
#include "thread.h"
#include "coll_shm.h"

const struct toro_svc *toro;
int mpi_state;
static int thread_level = MPI_THREAD_SINGLE;

/* comm.c (to move to impl.h): the delete callbacks of MPI_COMM_SELF. */
static void info_env_fill(int argc, char **argv);

/* 8.7: before MPI_Init and after MPI_Finalize only MPI_Get_version,
 * MPI_Get_library_version, MPI_Initialized, MPI_Finalized and the MPI_T_
 * functions may be called; everything else checks this first. */
bool mpi_ready(const char *func)
{
	if (mpi_state == 1)
		return true;
	mpi_err(MPI_COMM_WORLD, MPI_ERR_OTHER, func, "called %s",
		mpi_state == 0 ? "before MPI_Init" : "after MPI_Finalize");
	return false;
}

static int init(int *argc, char ***argv, int required, const char *func)
{
	if (mpi_state != 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_OTHER, func, "MPI was already %s",
			       mpi_state == 1 ? "initialized" : "finalized");
	unsigned long svc = getauxval(AT_TORO);
	if (!svc) {
		fprintf(stderr, "MPI_Init: not running under Toro (no service table); "
			"build with toro-mpicc and run with toro-run\n");
		exit(1);
	}
	toro = (const struct toro_svc *)svc;
	if (toro->version != TORO_SVC_VERSION) {
		/* Only the version field can be trusted: no abort_job. */
		fprintf(stderr, "%s: the kernel's service table is version %u, this library "
			"needs %d (rebuild with toro-mpicc)\n", func, (unsigned)toro->version, TORO_SVC_VERSION);
		exit(1);
	}
	thread_level = mt_init(required);
	comm_init_world(toro->rank, toro->nranks);
	shm_coll_init();
	info_env_fill(argc ? *argc : 0, argv ? *argv : NULL);
	mpi_state = 1;
	int rc = p2p_init();
	if (rc != MPI_SUCCESS)
		return mpi_err(MPI_COMM_WORLD, rc, func, "starting point-to-point communication failed");
	return MPI_SUCCESS;
}

int MPI_Init(int *argc, char ***argv)
{
	return init(argc, argv, MPI_THREAD_SINGLE, __func__);
}

int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
	int rc = init(argc, argv, required, __func__);
	if (rc == MPI_SUCCESS && provided)
		*provided = thread_level;
	return rc;
}

int MPI_Initialized(int *flag)
{
	*flag = mpi_state >= 1;        /* true after MPI_Finalize too (8.7) */
	return MPI_SUCCESS;
}

int MPI_Finalized(int *flag)
{
	*flag = mpi_state == 2;
	return MPI_SUCCESS;
}

/* 8.7.1: MPI_Finalize first frees MPI_COMM_SELF, which runs the delete
 * callbacks of its attributes while MPI is still fully usable; then it is
 * collective over MPI_COMM_WORLD. */
int MPI_Finalize(void)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	int rc = comm_finalize_self();
	if (rc != MPI_SUCCESS)
		return mpi_err(MPI_COMM_SELF, rc, __func__, "an attribute delete callback of MPI_COMM_SELF failed");
	rc = MPI_Barrier(MPI_COMM_WORLD);
	mpi_state = 2;
	return rc;
}

/* 8.7: ends every rank of the job (Toro cannot end only comm's ranks); the
 * job's status is errorcode as a Unix exit status keeps it (0..255). */
int MPI_Abort(MPI_Comm comm, int errorcode)
{
	struct comm *c = comm_get(comm);
	if (!c)
		c = comm_get(MPI_COMM_WORLD);
	char line[MPI_MAX_OBJECT_NAME + 128];
	snprintf(line, sizeof line, "MPI_ABORT was invoked on rank %d in communicator %s with errorcode %d",
		 c ? c->rank : 0, c && c->name[0] ? c->name : c ? "(unnamed)" : "MPI_COMM_WORLD", errorcode);
	int status = errorcode & 0xff;
	fflush(stdout);
	if (toro)
		toro->abort_job(status, line);
	fprintf(stderr, "%s\n", line);
	_Exit(status);
}

/* ---- clocks, versions, names ---- */

double MPI_Wtime(void)
{
	if (toro)
		return (double)toro->time_ns() / 1e9;
	struct timespec ts;     /* before MPI_Init: erroneous, but harmless */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double MPI_Wtick(void)
{
	return 1e-9;
}

int MPI_Get_version(int *version, int *subversion)
{
	*version = MPI_VERSION;
	*subversion = MPI_SUBVERSION;
	return MPI_SUCCESS;
}

int MPI_Get_library_version(char *version, int *resultlen)
{
	static const char v[] = "Toro MPI 0.1 (MPI 3.1), in-kernel VirtIOBus transport";
	memcpy(version, v, sizeof v);
	*resultlen = (int)sizeof v - 1;
	return MPI_SUCCESS;
}

/* Each core is a processor: "toro-core3" for rank 3. */
int MPI_Get_processor_name(char *name, int *resultlen)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	if (!name || !resultlen)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "NULL argument");
	*resultlen = snprintf(name, MPI_MAX_PROCESSOR_NAME, "toro-core%d", toro->rank);
	return MPI_SUCCESS;
}

int MPI_Query_thread(int *provided)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	*provided = thread_level;
	return MPI_SUCCESS;
}

/* 12.4.2: the thread that called MPI_Init or MPI_Init_thread. */
int MPI_Is_thread_main(int *flag)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	*flag = mt_is_main();
	return MPI_SUCCESS;
}

/* 14.2.4: a hook for profiling libraries; MPI itself does nothing with
 * it and returns at once (so it must not be "unsupported"). */
int MPI_Pcontrol(const int level, ...)
{
	(void)level;
	return MPI_SUCCESS;
}

/* ---- memory (8.2) ---- */

int MPI_Alloc_mem(MPI_Aint size, MPI_Info info, void *baseptr)
{
	(void)info;
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	if (size < 0)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "negative size %ld", (long)size);
	if (!baseptr)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "baseptr is NULL");
	void *p = malloc(size ? (size_t)size : 1);
	if (!p)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, __func__, "no memory for %ld bytes", (long)size);
	*(void **)baseptr = p;
	return MPI_SUCCESS;
}

int MPI_Free_mem(void *base)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	free(base);
	return MPI_SUCCESS;
}

/* ---- Info objects (chapter 9) ----
 * An info is a list of (key, value) strings in the order the keys were
 * first set. MPI_INFO_ENV is a read-only one filled by MPI_Init (9.4). */

struct kv {
	char *key, *val;
};
struct info {
	int n;
	struct kv *kv;
};
static struct info env_info;
static struct info **itab;     /* run-time infos by handle index */
static int nitab;

static struct info *info_get(MPI_Info h)
{
	if (h == MPI_INFO_ENV)
		return &env_info;
	if (TORO_HANDLE_KIND(h) != TORO_KIND_INFO || TORO_HANDLE_IS_BUILTIN(h) || h < 0)
		return NULL;
	int i = h & TORO_HANDLE_INDEX_MASK;
	return i < nitab ? itab[i] : NULL;
}

/* 9: leading and trailing spaces of keys are not significant. Copies the
 * trimmed key to out (MPI_MAX_INFO_KEY bytes); false if empty or too long. */
static bool key_norm(const char *key, char *out)
{
	if (!key)
		return false;
	while (*key == ' ')
		key++;
	size_t n = strlen(key);
	while (n > 0 && key[n - 1] == ' ')
		n--;
	if (n == 0 || n >= MPI_MAX_INFO_KEY)
		return false;
	memcpy(out, key, n);
	out[n] = 0;
	return true;
}

static struct kv *info_find(struct info *in, const char *key)
{
	for (int i = 0; i < in->n; i++)
		if (strcmp(in->kv[i].key, key) == 0)
			return &in->kv[i];
	return NULL;
}

/* Sets key to val (both already checked); false when out of memory. */
static bool info_put(struct info *in, const char *key, const char *val)
{
	char *v = strdup(val);
	if (!v)
		return false;
	struct kv *e = info_find(in, key);
	if (e) {
		free(e->val);
		e->val = v;
		return true;
	}
	struct kv *t = realloc(in->kv, (in->n + 1) * sizeof *t);
	char *k = strdup(key);
	if (!t || !k) {
		if (t)
			in->kv = t;
		free(k);
		free(v);
		return false;
	}
	in->kv = t;
	in->kv[in->n++] = (struct kv){k, v};
	return true;
}

static void info_clear(struct info *in)
{
	for (int i = 0; i < in->n; i++) {
		free(in->kv[i].key);
		free(in->kv[i].val);
	}
	free(in->kv);
	in->kv = NULL;
	in->n = 0;
}

/* 9.4: what MPI_INFO_ENV may say about how the program was started. */
static void info_env_fill(int argc, char **argv)
{
	char buf[32];
	if (argc > 0 && argv && argv[0]) {
		info_put(&env_info, "command", argv[0]);
		size_t len = 1;
		for (int i = 1; i < argc; i++)
			len += strlen(argv[i]) + 1;
		char *args = calloc(len, 1);
		for (int i = 1; args && i < argc; i++) {
			if (i > 1)
				strcat(args, " ");
			strcat(args, argv[i]);
		}
		if (args)
			info_put(&env_info, "argv", args);
		free(args);
	}
	snprintf(buf, sizeof buf, "%d", toro->nranks);
	info_put(&env_info, "maxprocs", buf);
	info_put(&env_info, "arch", "x86_64");
	info_put(&env_info, "host", "toro");
	static const char *levels[] = {"MPI_THREAD_SINGLE", "MPI_THREAD_FUNNELED", "MPI_THREAD_SERIALIZED",
				       "MPI_THREAD_MULTIPLE"};
	info_put(&env_info, "thread_level", levels[thread_level]);
}

/* A new run-time info handle for in; MPI_INFO_NULL when out of memory. */
static MPI_Info info_handle(struct info *in)
{
	int i = 0;
	while (i < nitab && itab[i])
		i++;
	if (i == nitab) {
		struct info **t = realloc(itab, (nitab + 1) * sizeof *t);
		if (!t)
			return MPI_INFO_NULL;
		itab = t;
		itab[nitab++] = NULL;
	}
	itab[i] = in;
	return TORO_MAKE_HANDLE(TORO_KIND_INFO, i);
}

/* The checks every Info call starts with; NULL after reporting. */
static struct info *info_arg(MPI_Info info, const char *func, int *rc)
{
	struct info *in = NULL;
	if (!mpi_ready(func))
		*rc = MPI_ERR_OTHER;
	else if (!(in = info_get(info)))
		*rc = mpi_err(MPI_COMM_NULL, MPI_ERR_INFO, func, "invalid info handle");
	return in;
}

int MPI_Info_create(MPI_Info *info)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	if (!info)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "info is NULL");
	struct info *in = calloc(1, sizeof *in);
	MPI_Info h = in ? info_handle(in) : MPI_INFO_NULL;
	if (h == MPI_INFO_NULL) {
		free(in);
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, __func__, "out of memory");
	}
	*info = h;
	return MPI_SUCCESS;
}

int MPI_Info_set(MPI_Info info, const char *key, const char *value)
{
	int rc;
	char k[MPI_MAX_INFO_KEY];
	struct info *in = info_arg(info, __func__, &rc);
	if (!in)
		return rc;
	if (info == MPI_INFO_ENV)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_INFO, __func__, "MPI_INFO_ENV is read-only");
	if (!key_norm(key, k))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_INFO_KEY, __func__, "key empty or longer than %d", MPI_MAX_INFO_KEY - 1);
	if (!value || strlen(value) >= MPI_MAX_INFO_VAL)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_INFO_VALUE, __func__, "value NULL or longer than %d", MPI_MAX_INFO_VAL - 1);
	if (!info_put(in, k, value))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, __func__, "out of memory");
	return MPI_SUCCESS;
}

/* 9: value gets at most valuelen characters plus the NUL, so the buffer
 * must hold valuelen + 1 bytes. */
int MPI_Info_get(MPI_Info info, const char *key, int valuelen, char *value, int *flag)
{
	int rc;
	char k[MPI_MAX_INFO_KEY];
	struct info *in = info_arg(info, __func__, &rc);
	if (!in)
		return rc;
	if (!key_norm(key, k))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_INFO_KEY, __func__, "key empty or longer than %d", MPI_MAX_INFO_KEY - 1);
	if (valuelen < 0 || !flag || !value)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "bad valuelen, value or flag");
	struct kv *e = info_find(in, k);
	*flag = e != NULL;
	if (e) {
		size_t n = strlen(e->val);
		if (n > (size_t)valuelen)
			n = (size_t)valuelen;
		memcpy(value, e->val, n);
		value[n] = 0;
	}
	return MPI_SUCCESS;
}

int MPI_Info_get_valuelen(MPI_Info info, const char *key, int *valuelen, int *flag)
{
	int rc;
	char k[MPI_MAX_INFO_KEY];
	struct info *in = info_arg(info, __func__, &rc);
	if (!in)
		return rc;
	if (!key_norm(key, k))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_INFO_KEY, __func__, "key empty or longer than %d", MPI_MAX_INFO_KEY - 1);
	struct kv *e = info_find(in, k);
	*flag = e != NULL;
	if (e)
		*valuelen = (int)strlen(e->val);
	return MPI_SUCCESS;
}

int MPI_Info_get_nkeys(MPI_Info info, int *nkeys)
{
	int rc;
	struct info *in = info_arg(info, __func__, &rc);
	if (!in)
		return rc;
	*nkeys = in->n;
	return MPI_SUCCESS;
}

int MPI_Info_get_nthkey(MPI_Info info, int n, char *key)
{
	int rc;
	struct info *in = info_arg(info, __func__, &rc);
	if (!in)
		return rc;
	if (n < 0 || n >= in->n)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "key number %d of an info with %d keys", n, in->n);
	strcpy(key, in->kv[n].key);
	return MPI_SUCCESS;
}

int MPI_Info_delete(MPI_Info info, const char *key)
{
	int rc;
	char k[MPI_MAX_INFO_KEY];
	struct info *in = info_arg(info, __func__, &rc);
	if (!in)
		return rc;
	if (info == MPI_INFO_ENV)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_INFO, __func__, "MPI_INFO_ENV is read-only");
	if (!key_norm(key, k))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_INFO_KEY, __func__, "key empty or longer than %d", MPI_MAX_INFO_KEY - 1);
	struct kv *e = info_find(in, k);
	if (!e)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_INFO_NOKEY, __func__, "no key \"%s\"", k);
	free(e->key);
	free(e->val);
	int i = (int)(e - in->kv);
	memmove(e, e + 1, (size_t)(in->n - i - 1) * sizeof *e);
	in->n--;
	return MPI_SUCCESS;
}

int MPI_Info_dup(MPI_Info info, MPI_Info *newinfo)
{
	int rc;
	struct info *in = info_arg(info, __func__, &rc);
	if (!in)
		return rc;
	if ((rc = MPI_Info_create(newinfo)) != MPI_SUCCESS)
		return rc;
	struct info *out = info_get(*newinfo);
	for (int i = 0; i < in->n; i++)
		if (!info_put(out, in->kv[i].key, in->kv[i].val)) {
			MPI_Info_free(newinfo);
			return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, __func__, "out of memory");
		}
	return MPI_SUCCESS;
}

int MPI_Info_free(MPI_Info *info)
{
	int rc;
	if (!info)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "info is NULL");
	struct info *in = info_arg(*info, __func__, &rc);
	if (!in)
		return rc;
	if (*info == MPI_INFO_ENV)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_INFO, __func__, "MPI_INFO_ENV cannot be freed");
	itab[*info & TORO_HANDLE_INDEX_MASK] = NULL;
	info_clear(in);
	free(in);
	*info = MPI_INFO_NULL;
	return MPI_SUCCESS;
}

/* 17.2.4: handles are ints, the Fortran handle is the same number. */
MPI_Fint MPI_Info_c2f(MPI_Info info)
{
	return (MPI_Fint)info;
}

MPI_Info MPI_Info_f2c(MPI_Fint info)
{
	return (MPI_Info)info;
}
