/* The host shim under mpi/lib/match.c (make unit-mpi, match_test.c): a
 * service table whose bus is in-process FIFOs, one per sender, with the
 * pending word; contiguous datatypes only (MPI_BYTE, MPI_INT); the rest
 * of the library as stubs that count their calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "match_shim.h"

struct fifo fifos[SHIM_RANKS];        /* messages to this rank, per sender */
struct fifo sent[SHIM_RANKS];         /* what this rank sent, per destination */
uint64_t shim_pending;
int shim_notified[SHIM_RANKS];
int shim_room = FIFO_MAX;             /* messages a destination's ring takes */

static void *get_buf(int dst, uint32_t len)
{
	struct fifo *f = &sent[dst];
	if (len > SHIM_MSG || f->n - f->head >= (unsigned)shim_room || f->n == FIFO_MAX)
		return NULL;
	return f->buf[f->n];
}

static void post(int dst, void *buf, uint32_t len)
{
	(void)buf;
	sent[dst].len[sent[dst].n++] = len;
}

static void *peek(int src, uint32_t *len)
{
	struct fifo *f = &fifos[src];
	if (f->head == f->n)
		return NULL;
	*len = f->len[f->head];
	return f->buf[f->head];
}

static void release(int src, void *buf)
{
	(void)buf;
	fifos[src].head++;
}

static bool pending(void) { return shim_pending != 0; }

static uint64_t take_pending(void)
{
	uint64_t p = shim_pending;
	shim_pending = 0;
	return p;
}

static void wait_until(bool (*cond)(void *), void *arg)
{
	if (!cond(arg)) {
		fprintf(stderr, "match_test: a wait that nothing can end\n");
		abort();
	}
}

static void notify(int rank) { shim_notified[rank]++; }
static uint64_t time_ns(void) { return 0; }
static void yield(void) {}

static __attribute__((noreturn)) void abort_job(int status, const char *msg)
{
	fprintf(stderr, "abort_job(%d): %s\n", status, msg ? msg : "");
	exit(status);
}

static struct toro_svc table = {
	.version = TORO_SVC_VERSION, .rank = 0, .nranks = SHIM_RANKS, .time_ns = time_ns,
	.bus_max_len = SHIM_MSG, .bus_get_buf = get_buf, .bus_post = post, .bus_peek = peek,
	.bus_release = release, .bus_pending = pending, .bus_take_pending = take_pending,
	.wait_until = wait_until, .notify = notify, .yield = yield, .abort_job = abort_job,
};
const struct toro_svc *toro = &table;

void shim_deliver(int src, const struct msg *m, const void *data, size_t n)
{
	struct fifo *f = &fifos[src];
	if (f->n == FIFO_MAX || sizeof *m + n > SHIM_MSG)
		abort();
	memcpy(f->buf[f->n], m, sizeof *m);
	if (n)
		memcpy(f->buf[f->n] + sizeof *m, data, n);
	f->len[f->n++] = sizeof *m + n;
	shim_pending |= 1ull << src;
}

void shim_reset(void)
{
	memset(fifos, 0, sizeof fifos);
	memset(sent, 0, sizeof sent);
	memset(shim_notified, 0, sizeof shim_notified);
	shim_pending = 0;
	shim_room = FIFO_MAX;
}

/* ---- what match.c calls in the rest of the library ---- */

static size_t elem_size(MPI_Datatype dt) { return dt == MPI_INT ? sizeof(int) : 1; }

void dtype_view(MPI_Datatype dt, struct dtype_view *v)
{
	*v = (struct dtype_view){elem_size(dt), 0, true, true};
}

void dtype_pack(const void *buf, size_t count, MPI_Datatype dt, void *packed)
{
	memcpy(packed, buf, count * elem_size(dt));
}

void dtype_unpack(const void *packed, size_t bytes, void *buf, size_t count, MPI_Datatype dt)
{
	size_t n = count * elem_size(dt);
	memcpy(buf, packed, bytes < n ? bytes : n);
}

int nbc_nactive;
void nbc_progress(void) {}
bool nbc_ready(void) { return false; }
int mt_suspend(void) { return 0; }
void mt_resume(int held) { (void)held; }
int bsend_start(struct request *r) { (void)r; return MPI_ERR_BUFFER; }
void bsend_free(void *p) { (void)p; }
int shim_released;
void req_release(struct request *r) { (void)r; shim_released++; }

int mpi_err(MPI_Comm comm, int errclass, const char *func, const char *fmt, ...)
{
	(void)comm, (void)func, (void)fmt;
	return errclass;
}
