/* Point-to-point messages over VirtIOBus (MPI-3.1 chapter 3).
 *
 * Every message starts with a struct msg in a buffer of the ring from the
 * sender's core to the receiver's. Small messages are eager: the data
 * follows the header in the same buffer. Larger ones use a single-copy
 * rendezvous: the header carries the address of the sender's (packed)
 * data, the matching receiver copies straight from it and then sets the
 * sender's `done` flag and wakes it (one address space: no reply message).
 * A synchronous eager send also waits for that flag, set at matching.
 *
 * Matching (3.5): per (context, source, tag) with wildcards, posted
 * receives in posting order, unexpected messages in arrival order; rings
 * are FIFO per pair, so messages never overtake. The eager path of a
 * blocking send allocates nothing and takes no lock. */
#include <stdlib.h>
#include <string.h>
#include "impl.h"
#include "thread.h"

enum { MSG_EAGER = 1, MSG_RTS = 2 };
enum { REQ_SEND = 1, REQ_RECV = 2, REQ_COLL = 3 }; /* REQ_COLL: a schedule of nbc.c */
enum { MODE_STANDARD = 0, MODE_SYNC = 1, MODE_READY = 2, MODE_BUFFERED = 3 };

struct msg {
	uint8_t kind;
	uint8_t sync;            /* sender waits for *done at matching */
	int32_t ctx;
	int32_t src;             /* sender's rank in the communicator */
	int32_t src_world;       /* to wake the sender */
	int32_t tag;
	uint64_t bytes;          /* packed size of the data */
	const void *data;        /* rendezvous: the sender's packed data */
	volatile int *done;      /* rendezvous and sync: set to 1 by the receiver */
};

struct request {
	int kind;
	bool active;             /* started and not completed */
	bool complete;
	bool persistent;
	bool freed;              /* MPI_Request_free while active */
	int mode;
	void *buf;
	int count;
	MPI_Datatype dt;
	int peer, tag, ctx;
	struct comm *comm;
	MPI_Comm comm_handle;
	void *tmp;               /* packed data of a rendezvous or buffered send */
	size_t tmp_bytes;
	volatile int done;       /* set by the receiver */
	bool waits_done;
	bool sent;               /* the message is in the ring (not queued) */
	bool in_bsend_buffer;
	bool holds_dt;           /* dtype_retain'ed: released with the request */
	MPI_Status status;
	int error;
	struct request *next;
	MPI_Request handle;
	void *gen;               /* REQ_GEN: grequest.c's state */
};
enum { REQ_GEN = 4 };            /* a generalized request (grequest.c) */

/* An arrived message no receive was waiting for. */
#define UNEXP_INLINE 256
struct unexpected {
	struct msg m;
	void *payload;           /* eager data copied out of the ring: small, or malloc'd */
	struct unexpected *next;
	char small[UNEXP_INLINE];
};

/* Unexpected messages come and go with every early send; keeping their
 * records (and small payloads) off malloc saves musl's mmap churn. */
static struct unexpected *unexp_spare;
static int unexp_nspare;

static struct request *posted_head, *posted_tail;
static struct unexpected *unexp_head, *unexp_tail;
static struct request *pending_head[TORO_MAX_RANKS], *pending_tail[TORO_MAX_RANKS]; /* sends waiting for ring room, per world rank */
static int npending;
static size_t eager_max;
static struct request **table;
static int table_size;
static MPI_Request free_list = -1;
static struct request *free_reqs;
unsigned p2p_delivered;

/* ---- status ---- */

void status_set(MPI_Status *st, int source, int tag, int error, int64_t bytes, bool cancelled)
{
	if (st == MPI_STATUS_IGNORE)
		return;
	st->MPI_SOURCE = source;
	st->MPI_TAG = tag;
	(void)error;
	st->count_lo = (int)(bytes & 0xffffffff);
	st->count_hi_and_cancelled = (int)(((bytes >> 32) << 1) | (cancelled ? 1 : 0));
}

int64_t status_bytes(const MPI_Status *st)
{
	return (int64_t)(uint32_t)st->count_lo | ((int64_t)((uint32_t)st->count_hi_and_cancelled >> 1) << 32);
}

static bool status_cancelled(const MPI_Status *st) { return st->count_hi_and_cancelled & 1; }

/* ---- request handles ---- */

static struct request *req_alloc(void)
{
	struct request *r = free_reqs;
	if (r)
		free_reqs = r->next;
	else if (!(r = malloc(sizeof *r)))
		return NULL;
	memset(r, 0, sizeof *r);
	r->handle = MPI_REQUEST_NULL;
	return r;
}

static MPI_Request req_handle(struct request *r)
{
	if (r->handle != MPI_REQUEST_NULL)
		return r->handle;
	if (free_list < 0) {
		int n = table_size ? table_size * 2 : 64;
		struct request **t = realloc(table, n * sizeof *t);
		if (!t)
			return MPI_REQUEST_NULL;
		for (int i = table_size; i < n; i++)
			t[i] = (struct request *)(intptr_t)(i + 1 < n ? i + 1 : -1);
		free_list = table_size;
		table = t;
		table_size = n;
	}
	int i = free_list;
	free_list = (int)(intptr_t)table[i];
	table[i] = r;
	r->handle = TORO_MAKE_HANDLE(TORO_KIND_REQUEST, i);
	return r->handle;
}

static struct request *req_get(MPI_Request h)
{
	if (TORO_HANDLE_KIND(h) != TORO_KIND_REQUEST || TORO_HANDLE_IS_BUILTIN(h))
		return NULL;
	int i = TORO_HANDLE_INDEX(h);
	if (i >= table_size || (uintptr_t)table[i] < 4096 * 16)
		return NULL;
	return table[i];
}

static void req_release(struct request *r)
{
	if (r->holds_dt) {
		dtype_release(r->dt);
		comm_release(r->comm);
	}
	r->holds_dt = false;
	if (r->handle != MPI_REQUEST_NULL) {
		int i = TORO_HANDLE_INDEX(r->handle);
		table[i] = (struct request *)(intptr_t)free_list;
		free_list = i;
	}
	r->next = free_reqs;
	free_reqs = r;
}

/* ---- the attached buffer of buffered sends (3.6) ---- */

struct bblock {
	size_t off, len;
	struct bblock *next;
};
static char *bsend_buf;
static size_t bsend_size;
static struct bblock *bsend_used; /* sorted by offset */

static void *bsend_alloc(size_t len)
{
	len = (len + 15) & ~(size_t)15;
	size_t off = 0;
	struct bblock **pp = &bsend_used;
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->off - off >= len)
			break;
		off = (*pp)->off + (*pp)->len;
	}
	if (off + len + MPI_BSEND_OVERHEAD > bsend_size)
		return NULL;
	struct bblock *b = malloc(sizeof *b);
	if (!b)
		return NULL;
	*b = (struct bblock){off, len, *pp};
	*pp = b;
	return bsend_buf + off;
}

static void bsend_free(void *p)
{
	for (struct bblock **pp = &bsend_used; *pp; pp = &(*pp)->next) {
		if (bsend_buf + (*pp)->off == p) {
			struct bblock *b = *pp;
			*pp = b->next;
			free(b);
			return;
		}
	}
}

/* ---- sending ---- */

static bool matches(const struct request *r, const struct msg *m)
{
	return r->ctx == m->ctx && (r->peer == MPI_ANY_SOURCE || r->peer == m->src) &&
	       (r->tag == MPI_ANY_TAG || r->tag == m->tag);
}

static size_t packed_bytes(int count, MPI_Datatype dt) { return (size_t)count * dtype_size(dt); }

/* Puts the message of send request r into the ring; false if the ring is full. */
static bool try_send(struct request *r)
{
	int dst = comm_peer_world(r->comm, r->peer);
	struct msg *m = toro->bus_get_buf(dst);
	if (!m)
		return false;
	size_t bytes = packed_bytes(r->count, r->dt);
	*m = (struct msg){.ctx = r->ctx, .src = r->comm->rank, .src_world = toro->rank, .tag = r->tag, .bytes = bytes};
	uint32_t len = sizeof *m;
	if (bytes <= eager_max) {
		m->kind = MSG_EAGER;
		const void *src = r->tmp ? r->tmp : r->buf;
		if (r->tmp || dtype_contiguous(r->dt))
			memcpy(m + 1, (const char *)src + (r->tmp ? 0 : dtype_true_lb(r->dt)), bytes);
		else
			dtype_pack(r->buf, r->count, r->dt, m + 1);
		len += bytes;
		if (r->mode == MODE_SYNC) {
			m->sync = 1;
			m->done = &r->done;
			r->waits_done = true;
		}
	} else {
		m->kind = MSG_RTS;
		m->data = r->tmp ? r->tmp : (const char *)r->buf + dtype_true_lb(r->dt);
		m->done = &r->done;
		r->waits_done = true;
	}
	toro->bus_post(dst, m, len);
	r->sent = true;
	return true;
}

static void pending_push(int dst, struct request *r)
{
	r->next = NULL;
	if (pending_tail[dst])
		pending_tail[dst]->next = r;
	else
		pending_head[dst] = r;
	pending_tail[dst] = r;
	npending++;
}

static struct request *orphans;
static void reap_orphans(void);

static void send_complete_check(struct request *r)
{
	if (r->complete || !r->sent || (r->waits_done && !__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)))
		return;
	r->complete = true;
	if (r->in_bsend_buffer)
		bsend_free(r->tmp);
	else
		free(r->tmp);
	r->tmp = NULL;
	status_set(&r->status, MPI_UNDEFINED, MPI_UNDEFINED, 0, 0, false);
}

static int send_start(struct request *r);
static void fill(struct request *r, int kind, const void *buf, int count, MPI_Datatype dt, int peer, int tag,
		 struct comm *c, int coll, int mode);

/* A buffered send (3.6) completes once its data is in the attached buffer:
 * a hidden request, left to finish on its own, carries the packed copy. */
static int bsend_start(struct request *r, size_t bytes)
{
	struct request *h = req_alloc();
	void *copy = bsend_alloc(bytes);
	if (!h || !copy) {
		if (h)
			req_release(h);
		if (copy)
			bsend_free(copy);
		return MPI_ERR_BUFFER;
	}
	dtype_pack(r->buf, r->count, r->dt, copy);
	fill(h, REQ_SEND, copy, (int)bytes, MPI_BYTE, r->peer, r->tag, r->comm, r->ctx - r->comm->ctx, MODE_STANDARD);
	h->tmp = copy;
	h->in_bsend_buffer = true;
	send_start(h);
	if (h->complete) {
		req_release(h);
	} else {
		h->next = orphans;
		orphans = h;
	}
	r->complete = true;
	return MPI_SUCCESS;
}

/* Starts a send: the data of a rendezvous send of a non-contiguous type
 * is packed first. */
static int send_start(struct request *r)
{
	r->active = true;
	r->complete = false;
	r->done = 0;
	r->waits_done = false;
	r->sent = false;
	if (!r->in_bsend_buffer)
		r->tmp = NULL;
	if (r->peer == MPI_PROC_NULL) {
		r->complete = true;
		status_set(&r->status, MPI_PROC_NULL, MPI_ANY_TAG, 0, 0, false);
		return MPI_SUCCESS;
	}
	size_t bytes = packed_bytes(r->count, r->dt);
	if (r->mode == MODE_BUFFERED)
		return bsend_start(r, bytes);
	if (bytes > eager_max && !dtype_contiguous(r->dt)) {
		r->tmp = malloc(bytes);
		if (!r->tmp)
			return MPI_ERR_NO_MEM;
		dtype_pack(r->buf, r->count, r->dt, r->tmp);
	}
	int dst = comm_peer_world(r->comm, r->peer);
	if (pending_head[dst] || !try_send(r))
		pending_push(dst, r);
	else
		send_complete_check(r);
	return MPI_SUCCESS;
}

static void push_pending(void)
{
	for (int dst = 0; npending && dst < toro->nranks; dst++) {
		while (pending_head[dst] && try_send(pending_head[dst])) {
			struct request *r = pending_head[dst];
			pending_head[dst] = r->next;
			if (!pending_head[dst])
				pending_tail[dst] = NULL;
			npending--;
			send_complete_check(r);
		}
	}
}

/* ---- receiving ---- */

static void recv_deliver(struct request *r, const struct msg *m, const void *payload)
{
	size_t cap = packed_bytes(r->count, r->dt);
	size_t n = m->bytes;
	r->error = MPI_SUCCESS;
	if (n > cap) {
		n = cap;
		r->error = MPI_ERR_TRUNCATE;
	}
	const void *src = m->kind == MSG_EAGER ? payload : m->data;
	if (dtype_contiguous(r->dt))
		memcpy((char *)r->buf + dtype_true_lb(r->dt), src, n);
	else
		dtype_unpack(src, n, r->buf, r->count, r->dt);
	if (m->done) {
		__atomic_store_n(m->done, 1, __ATOMIC_RELEASE);
		toro->notify(m->src_world);
	}
	status_set(&r->status, m->src, m->tag, r->error, n, false);
	r->status.MPI_ERROR = r->error;
	r->complete = true;
	p2p_delivered++;
}

static void unexpected_free(struct unexpected *u)
{
	if (u->payload != u->small)
		free(u->payload);
	if (unexp_nspare < 64) {
		u->next = unexp_spare;
		unexp_spare = u;
		unexp_nspare++;
	} else {
		free(u);
	}
}

static void unexpected_add(const struct msg *m, const void *payload)
{
	struct unexpected *u = unexp_spare;
	if (u) {
		unexp_spare = u->next;
		unexp_nspare--;
	} else {
		u = malloc(sizeof *u);
	}
	size_t n = m->kind == MSG_EAGER ? m->bytes : 0;
	void *copy = !n ? NULL : u && n <= UNEXP_INLINE ? u->small : malloc(n);
	if (!u || (n && !copy))
		toro->abort_job(MPI_ERR_NO_MEM, "MPI error: out of memory for an unexpected message");
	u->m = *m;
	u->payload = copy;
	if (copy)
		memcpy(copy, payload, m->bytes);
	u->next = NULL;
	if (unexp_tail)
		unexp_tail->next = u;
	else
		unexp_head = u;
	unexp_tail = u;
}

static void incoming(const struct msg *m)
{
	struct request **pp = &posted_head, *prev = NULL;
	for (; *pp; prev = *pp, pp = &(*pp)->next) {
		struct request *r = *pp;
		if (!matches(r, m))
			continue;
		*pp = r->next;
		if (posted_tail == r)
			posted_tail = prev;
		recv_deliver(r, m, m + 1);
		return;
	}
	unexpected_add(m, m + 1);
}

/* Reads every message that has arrived and pushes waiting sends. */
static void progress(void)
{
	if (toro->bus_pending()) {
		for (int src = 0; src < toro->nranks; src++) {
			uint32_t len;
			void *buf;
			while ((buf = toro->bus_peek(src, &len))) {
				incoming(buf);
				toro->bus_release(src, buf);
			}
		}
	}
	if (npending)
		push_pending();
	if (orphans)
		reap_orphans();
	if (nbc_nactive)
		nbc_progress();
}

void p2p_progress(void)
{
	progress();
}

static struct unexpected *unexpected_take(struct request *r, bool remove)
{
	struct unexpected **pp = &unexp_head, *prev = NULL;
	for (; *pp; prev = *pp, pp = &(*pp)->next) {
		struct unexpected *u = *pp;
		if (!matches(r, &u->m))
			continue;
		if (remove) {
			*pp = u->next;
			if (unexp_tail == u)
				unexp_tail = prev;
		}
		return u;
	}
	return NULL;
}

static void recv_start(struct request *r)
{
	r->active = true;
	r->complete = false;
	if (r->peer == MPI_PROC_NULL) {
		r->complete = true;
		status_set(&r->status, MPI_PROC_NULL, MPI_ANY_TAG, 0, 0, false);
		return;
	}
	progress();
	struct unexpected *u = unexpected_take(r, true);
	if (u) {
		recv_deliver(r, &u->m, u->payload);
		unexpected_free(u);
		return;
	}
	r->next = NULL;
	if (posted_tail)
		posted_tail->next = r;
	else
		posted_head = r;
	posted_tail = r;
}

/* ---- completion ---- */

static bool req_done(struct request *r)
{
	if (r->kind == REQ_SEND && !r->complete)
		send_complete_check(r);
	return r->complete;
}

struct wait_set {
	struct request **reqs;
	int n;
	int mt; /* another thread may change the schedules: do not walk them */
};

/* The waiting rank halts until something can change: a message arrives,
 * a receiver finishes a rendezvous with one of our sends (it notifies),
 * or a full ring gets room (the receiver's release notifies). */
static bool can_progress(void *arg)
{
	struct wait_set *w = arg;
	if (toro->bus_pending() || npending || (nbc_nactive && (w->mt || nbc_ready())))
		return true;
	for (int i = 0; i < w->n; i++)
		if (w->reqs[i] && ((w->reqs[i]->waits_done && __atomic_load_n(&w->reqs[i]->done, __ATOMIC_ACQUIRE)) ||
				   __atomic_load_n(&w->reqs[i]->complete, __ATOMIC_ACQUIRE)))
			return true;
	return false;
}

static void wait_for_event(struct request **reqs, int n)
{
	struct wait_set w = {reqs, n, mt_suspend()};
	toro->wait_until(can_progress, &w);
	mt_resume(w.mt);
}

static void wait_one(struct request *r)
{
	progress();
	while (!req_done(r)) {
		wait_for_event(&r, 1);
		progress();
	}
}

/* Fills *st and retires the request (a persistent one becomes inactive). */
static int finish(struct request *r, MPI_Request *h, MPI_Status *st)
{
	if (r->kind == REQ_GEN)
		r->error = grequest_done(r->gen, &r->status, true);
	int err = r->kind != REQ_SEND ? r->error : MPI_SUCCESS;
	if (st != MPI_STATUS_IGNORE) {
		int e = st->MPI_ERROR;
		*st = r->status;
		st->MPI_ERROR = e;
	}
	r->active = false;
	if (r->persistent)
		return err;
	if (h)
		*h = MPI_REQUEST_NULL;
	req_release(r);
	return err;
}

static void empty_status(MPI_Status *st)
{
	status_set(st, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_SUCCESS, 0, false);
	if (st != MPI_STATUS_IGNORE)
		st->MPI_ERROR = MPI_SUCCESS;
}

/* A request that is already complete, for the request forms of RMA
 * (MPI_Rput ...), whose operations finish inside the call. */
int p2p_done_request(MPI_Request *req)
{
	struct request *r = req_alloc();
	if (!r || req_handle(r) == MPI_REQUEST_NULL) {
		free(r);
		return MPI_ERR_NO_MEM;
	}
	r->kind = REQ_SEND;
	r->active = r->complete = true;
	empty_status(&r->status);
	*req = r->handle;
	return MPI_SUCCESS;
}

/* ---- argument checks ---- */

static int check_buffer(const char *fn, MPI_Comm comm, const void *buf, int count, MPI_Datatype dt)
{
	if (count < 0)
		return mpi_err(comm, MPI_ERR_COUNT, fn, "negative count %d", count);
	if (!dtype_ok(dt))
		return mpi_err(comm, MPI_ERR_TYPE, fn, "invalid datatype");
	if (!dtype_committed(dt))
		return mpi_err(comm, MPI_ERR_TYPE, fn, "datatype not committed");
	if (!buf && count > 0 && dtype_size(dt) > 0 && dtype_true_lb(dt) == 0)
		return mpi_err(comm, MPI_ERR_BUFFER, fn, "NULL buffer with count %d", count);
	return MPI_SUCCESS;
}

static int check_send(const char *fn, const void *buf, int count, MPI_Datatype dt, int dest, int tag,
		      MPI_Comm comm, struct comm **out)
{
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(comm);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, fn, "invalid communicator");
	int err = check_buffer(fn, comm, buf, count, dt);
	if (err)
		return err;
	if (dest != MPI_PROC_NULL && (dest < 0 || dest >= comm_npeers(c)))
		return mpi_err(comm, MPI_ERR_RANK, fn, "invalid rank %d (communicator of size %d)", dest, comm_npeers(c));
	if (tag < 0 || tag > TORO_TAG_UB)
		return mpi_err(comm, MPI_ERR_TAG, fn, "invalid tag %d", tag);
	*out = c;
	return MPI_SUCCESS;
}

static int check_recv(const char *fn, void *buf, int count, MPI_Datatype dt, int src, int tag,
		      MPI_Comm comm, struct comm **out)
{
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(comm);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, fn, "invalid communicator");
	int err = check_buffer(fn, comm, buf, count, dt);
	if (err)
		return err;
	if (src != MPI_PROC_NULL && src != MPI_ANY_SOURCE && (src < 0 || src >= comm_npeers(c)))
		return mpi_err(comm, MPI_ERR_RANK, fn, "invalid rank %d (communicator of size %d)", src, comm_npeers(c));
	if (tag != MPI_ANY_TAG && (tag < 0 || tag > TORO_TAG_UB))
		return mpi_err(comm, MPI_ERR_TAG, fn, "invalid tag %d", tag);
	*out = c;
	return MPI_SUCCESS;
}

/* ---- building requests ---- */

static void fill(struct request *r, int kind, const void *buf, int count, MPI_Datatype dt, int peer, int tag,
		 struct comm *c, int coll, int mode)
{
	r->kind = kind;
	r->buf = (void *)buf;
	r->count = count;
	r->dt = dt;
	r->peer = peer;
	r->tag = tag;
	r->comm = c;
	r->comm_handle = c->handle;
	r->ctx = c->ctx + coll;
	r->mode = mode;
}

/* For requests that outlive the call that made them: their datatype and
 * communicator stay alive until the request is released. */
static void hold_dt(struct request *r)
{
	dtype_retain(r->dt);
	r->comm->refs++;
	r->holds_dt = true;
}

int p2p_isend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, struct comm *c, int coll, int mode,
	      MPI_Request *req)
{
	struct request *r = req_alloc();
	if (!r)
		return MPI_ERR_NO_MEM;
	fill(r, REQ_SEND, buf, count, dt, dest, tag, c, coll, mode);
	hold_dt(r);
	int err = send_start(r);
	if (err) {
		req_release(r);
		return err;
	}
	*req = req_handle(r);
	return *req == MPI_REQUEST_NULL ? MPI_ERR_NO_MEM : MPI_SUCCESS;
}

int p2p_irecv(void *buf, int count, MPI_Datatype dt, int src, int tag, struct comm *c, int coll, MPI_Request *req)
{
	struct request *r = req_alloc();
	if (!r)
		return MPI_ERR_NO_MEM;
	fill(r, REQ_RECV, buf, count, dt, src, tag, c, coll, MODE_STANDARD);
	hold_dt(r);
	recv_start(r);
	*req = req_handle(r);
	return *req == MPI_REQUEST_NULL ? MPI_ERR_NO_MEM : MPI_SUCCESS;
}

void *p2p_coll_request(struct comm *c, MPI_Request *h)
{
	struct request *r = req_alloc();
	if (!r)
		return NULL;
	fill(r, REQ_COLL, NULL, 0, MPI_BYTE, MPI_PROC_NULL, 0, c, 1, MODE_STANDARD);
	hold_dt(r);
	r->active = true;
	*h = req_handle(r);
	if (*h == MPI_REQUEST_NULL) {
		req_release(r);
		return NULL;
	}
	return r;
}

/* MPI-3.1 5.12: the status of a completed collective is empty. */
void p2p_coll_done(void *req, int err)
{
	struct request *r = req;
	status_set(&r->status, MPI_ANY_SOURCE, MPI_ANY_TAG, err, 0, false);
	r->status.MPI_ERROR = err;
	r->error = err;
	r->complete = true;
}

int p2p_poll(MPI_Request *req, bool *done)
{
	struct request *r = req_get(*req);
	*done = !r || req_done(r);
	return r && *done ? finish(r, req, MPI_STATUS_IGNORE) : MPI_SUCCESS;
}

bool p2p_wakes(MPI_Request req)
{
	struct request *r = req_get(req);
	return r && r->waits_done && __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
}

int p2p_wait(MPI_Request *req, MPI_Status *st)
{
	struct request *r = req_get(*req);
	if (!r)
		return MPI_ERR_REQUEST;
	wait_one(r);
	return finish(r, req, st);
}

int p2p_waitall(int n, MPI_Request *reqs, MPI_Status *sts)
{
	int err = MPI_SUCCESS;
	for (int i = 0; i < n; i++) {
		if (reqs[i] == MPI_REQUEST_NULL)
			continue;
		int e = p2p_wait(&reqs[i], sts == MPI_STATUSES_IGNORE ? MPI_STATUS_IGNORE : &sts[i]);
		if (e && !err)
			err = e;
	}
	return err;
}

/* Blocking send without a request on the eager path. */
static int send_blocking(const void *buf, int count, MPI_Datatype dt, int dest, int tag, struct comm *c, int coll,
			 int mode)
{
	struct request r;
	memset(&r, 0, sizeof r);
	fill(&r, REQ_SEND, buf, count, dt, dest, tag, c, coll, mode);
	r.handle = MPI_REQUEST_NULL;
	int err = send_start(&r);
	if (err)
		return err;
	wait_one(&r);
	return MPI_SUCCESS;
}

static int recv_blocking(void *buf, int count, MPI_Datatype dt, int src, int tag, struct comm *c, int coll,
			 MPI_Status *st)
{
	struct request r;
	memset(&r, 0, sizeof r);
	fill(&r, REQ_RECV, buf, count, dt, src, tag, c, coll, MODE_STANDARD);
	r.handle = MPI_REQUEST_NULL;
	recv_start(&r);
	wait_one(&r);
	if (st != MPI_STATUS_IGNORE) {
		int e = st->MPI_ERROR;
		*st = r.status;
		st->MPI_ERROR = e;
	}
	return r.error;
}

int coll_send(const void *buf, int count, MPI_Datatype dt, int dest, int tag, struct comm *c)
{
	return send_blocking(buf, count, dt, dest, tag, c, 1, MODE_STANDARD);
}

int coll_recv(void *buf, int count, MPI_Datatype dt, int src, int tag, struct comm *c)
{
	return recv_blocking(buf, count, dt, src, tag, c, 1, MPI_STATUS_IGNORE);
}

int coll_sendrecv(const void *sbuf, int scount, MPI_Datatype sdt, int dest, void *rbuf, int rcount,
		  MPI_Datatype rdt, int src, int tag, struct comm *c)
{
	MPI_Request rr;
	int err = p2p_irecv(rbuf, rcount, rdt, src, tag, c, 1, &rr);
	if (err)
		return err;
	err = send_blocking(sbuf, scount, sdt, dest, tag, c, 1, MODE_STANDARD);
	int err2 = p2p_wait(&rr, MPI_STATUS_IGNORE);
	return err ? err : err2;
}

int p2p_init(void)
{
	eager_max = toro->bus_buf_size - sizeof(struct msg);
	return MPI_SUCCESS;
}

/* ---- the MPI functions: blocking ---- */

static int send_call(const char *fn, const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm,
		     int mode)
{
	struct comm *c;
	int err = check_send(fn, buf, count, dt, dest, tag, comm, &c);
	if (err)
		return err;
	err = send_blocking(buf, count, dt, dest, tag, c, 0, mode);
	return err ? mpi_err(comm, err, fn, "%s", err == MPI_ERR_BUFFER ? "the attached buffer is too small" : "send failed") : MPI_SUCCESS;
}

int MPI_Send(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm)
{
	return send_call("MPI_Send", buf, count, dt, dest, tag, comm, MODE_STANDARD);
}

int MPI_Ssend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm)
{
	return send_call("MPI_Ssend", buf, count, dt, dest, tag, comm, MODE_SYNC);
}

int MPI_Rsend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm)
{
	return send_call("MPI_Rsend", buf, count, dt, dest, tag, comm, MODE_READY);
}

int MPI_Bsend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm)
{
	return send_call("MPI_Bsend", buf, count, dt, dest, tag, comm, MODE_BUFFERED);
}

int MPI_Recv(void *buf, int count, MPI_Datatype dt, int src, int tag, MPI_Comm comm, MPI_Status *st)
{
	struct comm *c;
	int err = check_recv("MPI_Recv", buf, count, dt, src, tag, comm, &c);
	if (err)
		return err;
	err = recv_blocking(buf, count, dt, src, tag, c, 0, st);
	if (err == MPI_ERR_TRUNCATE)
		return mpi_err(comm, err, "MPI_Recv", "message longer than the receive buffer (%d elements)", count);
	return err;
}

int MPI_Sendrecv(const void *sbuf, int scount, MPI_Datatype sdt, int dest, int stag, void *rbuf, int rcount,
		 MPI_Datatype rdt, int src, int rtag, MPI_Comm comm, MPI_Status *st)
{
	struct comm *c;
	int err = check_send("MPI_Sendrecv", sbuf, scount, sdt, dest, stag, comm, &c);
	if (!err)
		err = check_recv("MPI_Sendrecv", rbuf, rcount, rdt, src, rtag, comm, &c);
	if (err)
		return err;
	MPI_Request rr;
	err = p2p_irecv(rbuf, rcount, rdt, src, rtag, c, 0, &rr);
	if (!err)
		err = send_blocking(sbuf, scount, sdt, dest, stag, c, 0, MODE_STANDARD);
	int err2 = err ? err : p2p_wait(&rr, st);
	if (err2)
		return mpi_err(comm, err2, "MPI_Sendrecv", "%s", err2 == MPI_ERR_TRUNCATE ? "message truncated" : "failed");
	return MPI_SUCCESS;
}

int MPI_Sendrecv_replace(void *buf, int count, MPI_Datatype dt, int dest, int stag, int src, int rtag,
			 MPI_Comm comm, MPI_Status *st)
{
	struct comm *c;
	int err = check_send("MPI_Sendrecv_replace", buf, count, dt, dest, stag, comm, &c);
	if (!err)
		err = check_recv("MPI_Sendrecv_replace", buf, count, dt, src, rtag, comm, &c);
	if (err)
		return err;
	size_t bytes = packed_bytes(count, dt);
	void *tmp = malloc(bytes ? bytes : 1);
	if (!tmp)
		return mpi_err(comm, MPI_ERR_NO_MEM, "MPI_Sendrecv_replace", "no memory for %zu bytes", bytes);
	dtype_pack(buf, count, dt, tmp);
	MPI_Request rr;
	err = p2p_irecv(buf, count, dt, src, rtag, c, 0, &rr);
	if (!err)
		err = send_blocking(tmp, (int)bytes, MPI_BYTE, dest, stag, c, 0, MODE_STANDARD);
	int err2 = err ? err : p2p_wait(&rr, st);
	free(tmp);
	if (err2)
		return mpi_err(comm, err2, "MPI_Sendrecv_replace", "%s", err2 == MPI_ERR_TRUNCATE ? "message truncated" : "failed");
	return MPI_SUCCESS;
}

/* ---- nonblocking and persistent ---- */

static int isend_call(const char *fn, const void *buf, int count, MPI_Datatype dt, int dest, int tag,
		      MPI_Comm comm, int mode, MPI_Request *req, bool persistent)
{
	struct comm *c;
	int err = check_send(fn, buf, count, dt, dest, tag, comm, &c);
	if (err)
		return err;
	if (!req)
		return mpi_err(comm, MPI_ERR_ARG, fn, "NULL request pointer");
	struct request *r = req_alloc();
	if (!r)
		return mpi_err(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	fill(r, REQ_SEND, buf, count, dt, dest, tag, c, 0, mode);
	hold_dt(r);
	r->persistent = persistent;
	if (!persistent && (err = send_start(r))) {
		req_release(r);
		return mpi_err(comm, err, fn, "%s", err == MPI_ERR_BUFFER ? "the attached buffer is too small" : "send failed");
	}
	*req = req_handle(r);
	return MPI_SUCCESS;
}

int MPI_Isend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Isend", buf, count, dt, dest, tag, comm, MODE_STANDARD, req, false);
}

int MPI_Issend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Issend", buf, count, dt, dest, tag, comm, MODE_SYNC, req, false);
}

int MPI_Irsend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Irsend", buf, count, dt, dest, tag, comm, MODE_READY, req, false);
}

int MPI_Ibsend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Ibsend", buf, count, dt, dest, tag, comm, MODE_BUFFERED, req, false);
}

int MPI_Send_init(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Send_init", buf, count, dt, dest, tag, comm, MODE_STANDARD, req, true);
}

int MPI_Ssend_init(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Ssend_init", buf, count, dt, dest, tag, comm, MODE_SYNC, req, true);
}

int MPI_Rsend_init(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Rsend_init", buf, count, dt, dest, tag, comm, MODE_READY, req, true);
}

int MPI_Bsend_init(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Bsend_init", buf, count, dt, dest, tag, comm, MODE_BUFFERED, req, true);
}

static int irecv_call(const char *fn, void *buf, int count, MPI_Datatype dt, int src, int tag, MPI_Comm comm,
		      MPI_Request *req, bool persistent)
{
	struct comm *c;
	int err = check_recv(fn, buf, count, dt, src, tag, comm, &c);
	if (err)
		return err;
	if (!req)
		return mpi_err(comm, MPI_ERR_ARG, fn, "NULL request pointer");
	struct request *r = req_alloc();
	if (!r)
		return mpi_err(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	fill(r, REQ_RECV, buf, count, dt, src, tag, c, 0, MODE_STANDARD);
	hold_dt(r);
	r->persistent = persistent;
	if (!persistent)
		recv_start(r);
	*req = req_handle(r);
	return MPI_SUCCESS;
}

int MPI_Irecv(void *buf, int count, MPI_Datatype dt, int src, int tag, MPI_Comm comm, MPI_Request *req)
{
	return irecv_call("MPI_Irecv", buf, count, dt, src, tag, comm, req, false);
}

int MPI_Recv_init(void *buf, int count, MPI_Datatype dt, int src, int tag, MPI_Comm comm, MPI_Request *req)
{
	return irecv_call("MPI_Recv_init", buf, count, dt, src, tag, comm, req, true);
}

int MPI_Start(MPI_Request *req)
{
	if (!mpi_ready("MPI_Start"))
		return MPI_ERR_OTHER;
	struct request *r = req ? req_get(*req) : NULL;
	if (!r || !r->persistent)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Start", "not a persistent request");
	if (r->active)
		return mpi_err(r->comm_handle, MPI_ERR_REQUEST, "MPI_Start", "the request is already active");
	if (r->kind == REQ_RECV) {
		recv_start(r);
		return MPI_SUCCESS;
	}
	int err = send_start(r);
	if (err)
		r->active = false;
	return err ? mpi_err(r->comm_handle, err, "MPI_Start", "send failed") : MPI_SUCCESS;
}

int MPI_Startall(int n, MPI_Request reqs[])
{
	if (n < 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_COUNT, "MPI_Startall", "negative count %d", n);
	for (int i = 0; i < n; i++) {
		int err = MPI_Start(&reqs[i]);
		if (err)
			return err;
	}
	return MPI_SUCCESS;
}

/* ---- completion calls ---- */

static int p2p_gen_free(struct request *r, MPI_Request *h);

/* What the error of a completed request was about. */
static const char *err_text(int err)
{
	if (err == MPI_ERR_TRUNCATE)
		return "message truncated";
	return err == MPI_ERR_NO_MEM ? "out of memory" : "the operation failed";
}

/* A handle that a completion call may be given: MPI_REQUEST_NULL, an
 * inactive persistent request (both complete at once, with an empty
 * status), or an active one. */
static int lookup(const char *fn, MPI_Request h, struct request **out)
{
	*out = NULL;
	if (h == MPI_REQUEST_NULL)
		return MPI_SUCCESS;
	struct request *r = req_get(h);
	if (!r)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_REQUEST, fn, "invalid request handle");
	*out = r->active ? r : NULL;
	return MPI_SUCCESS;
}

int MPI_Wait(MPI_Request *req, MPI_Status *st)
{
	if (!mpi_ready("MPI_Wait"))
		return MPI_ERR_OTHER;
	if (!req)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Wait", "NULL request pointer");
	struct request *r;
	int err = lookup("MPI_Wait", *req, &r);
	if (err)
		return err;
	if (!r) {
		empty_status(st);
		return MPI_SUCCESS;
	}
	wait_one(r);
	MPI_Comm comm = r->comm_handle;
	err = finish(r, req, st);
	return err ? mpi_err(comm, err, "MPI_Wait", "%s", err_text(err)) : MPI_SUCCESS;
}

int MPI_Test(MPI_Request *req, int *flag, MPI_Status *st)
{
	if (!mpi_ready("MPI_Test"))
		return MPI_ERR_OTHER;
	if (!req || !flag)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Test", "NULL argument");
	struct request *r;
	int err = lookup("MPI_Test", *req, &r);
	if (err)
		return err;
	*flag = 1;
	if (!r) {
		empty_status(st);
		return MPI_SUCCESS;
	}
	progress();
	if (!req_done(r)) {
		*flag = 0;
		return MPI_SUCCESS;
	}
	MPI_Comm comm = r->comm_handle;
	err = finish(r, req, st);
	return err ? mpi_err(comm, err, "MPI_Test", "%s", err_text(err)) : MPI_SUCCESS;
}

/* Completes every request; per-request errors go to the statuses and the
 * call returns MPI_ERR_IN_STATUS (3.7.5). */
static int complete_some(const char *fn, int n, MPI_Request reqs[], MPI_Status sts[], bool all, bool block,
			 int *flag, int *outcount, int indices[])
{
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (n < 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_COUNT, fn, "negative count %d", n);
	if (n > 0 && !reqs)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "NULL request array");
	struct request *rs[n > 0 ? n : 1];
	int active = 0;
	for (int i = 0; i < n; i++) {
		int err = lookup(fn, reqs[i], &rs[i]);
		if (err)
			return err;
		active += rs[i] != NULL;
	}
	bool ignore = sts == MPI_STATUSES_IGNORE;
	for (;;) {
		progress();
		int done = 0;
		for (int i = 0; i < n; i++)
			done += rs[i] && req_done(rs[i]);
		if (all ? done == active : (done > 0 || active == 0))
			break;
		if (!block) {
			if (flag)
				*flag = 0;
			if (outcount)
				*outcount = 0;
			return MPI_SUCCESS;
		}
		wait_for_event(rs, n);
	}
	if (flag)
		*flag = 1;
	int count = 0, errors = 0;
	MPI_Comm errcomm = MPI_COMM_WORLD;
	for (int i = 0; i < n; i++) {
		if (!rs[i]) {
			if (all && !ignore)
				empty_status(&sts[i]);
			continue;
		}
		if (!req_done(rs[i]))
			continue;
		MPI_Status *st = ignore ? MPI_STATUS_IGNORE : &sts[all ? i : count];
		MPI_Comm comm = rs[i]->comm_handle;
		int err = finish(rs[i], &reqs[i], st);
		if (st != MPI_STATUS_IGNORE)
			st->MPI_ERROR = err;
		if (err) {
			errors++;
			errcomm = comm;
		}
		if (indices)
			indices[count] = i;
		count++;
	}
	if (outcount)
		*outcount = active == 0 ? MPI_UNDEFINED : count;
	return errors ? mpi_err(errcomm, MPI_ERR_IN_STATUS, fn, "%d requests failed", errors) : MPI_SUCCESS;
}

int MPI_Waitall(int n, MPI_Request reqs[], MPI_Status sts[])
{
	return complete_some("MPI_Waitall", n, reqs, sts, true, true, NULL, NULL, NULL);
}

int MPI_Testall(int n, MPI_Request reqs[], int *flag, MPI_Status sts[])
{
	return complete_some("MPI_Testall", n, reqs, sts, true, false, flag, NULL, NULL);
}

int MPI_Waitsome(int n, MPI_Request reqs[], int *outcount, int indices[], MPI_Status sts[])
{
	return complete_some("MPI_Waitsome", n, reqs, sts, false, true, NULL, outcount, indices);
}

int MPI_Testsome(int n, MPI_Request reqs[], int *outcount, int indices[], MPI_Status sts[])
{
	return complete_some("MPI_Testsome", n, reqs, sts, false, false, NULL, outcount, indices);
}

/* Waitany/Testany complete exactly one request (the first done). */
static int complete_any(const char *fn, int n, MPI_Request reqs[], int *index, int *flag, MPI_Status *st, bool block)
{
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (n < 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_COUNT, fn, "negative count %d", n);
	struct request *rs[n > 0 ? n : 1];
	int active = 0;
	for (int i = 0; i < n; i++) {
		int err = lookup(fn, reqs[i], &rs[i]);
		if (err)
			return err;
		active += rs[i] != NULL;
	}
	*index = MPI_UNDEFINED;
	if (flag)
		*flag = 1;
	if (active == 0) {
		empty_status(st);
		return MPI_SUCCESS;
	}
	for (;;) {
		progress();
		for (int i = 0; i < n; i++) {
			if (rs[i] && req_done(rs[i])) {
				*index = i;
				MPI_Comm comm = rs[i]->comm_handle;
				int err = finish(rs[i], &reqs[i], st);
				return err ? mpi_err(comm, err, fn, "%s", err_text(err)) : MPI_SUCCESS;
			}
		}
		if (!block) {
			*flag = 0;
			return MPI_SUCCESS;
		}
		wait_for_event(rs, n);
	}
}

int MPI_Waitany(int n, MPI_Request reqs[], int *index, MPI_Status *st)
{
	return complete_any("MPI_Waitany", n, reqs, index, NULL, st, true);
}

int MPI_Testany(int n, MPI_Request reqs[], int *index, int *flag, MPI_Status *st)
{
	return complete_any("MPI_Testany", n, reqs, index, flag, st, false);
}

int MPI_Request_get_status(MPI_Request req, int *flag, MPI_Status *st)
{
	struct request *r;
	int err = lookup("MPI_Request_get_status", req, &r);
	if (err)
		return err;
	progress();
	*flag = !r || req_done(r);
	if (r && *flag && r->kind == REQ_GEN && (err = grequest_done(r->gen, &r->status, false)))
		return mpi_err(MPI_COMM_WORLD, err, "MPI_Request_get_status", "the query callback failed");
	if (!r)
		empty_status(st);
	else if (*flag && st != MPI_STATUS_IGNORE)
		*st = r->status;
	return MPI_SUCCESS;
}

/* A freed active request completes on its own; its memory is reclaimed
 * when a later progress call sees it done (sends) or at once (receives
 * cannot be freed safely before they match, so they are left to match). */
static void reap_orphans(void)
{
	for (struct request **pp = &orphans; *pp;) {
		struct request *r = *pp;
		if (req_done(r)) {
			*pp = r->next;
			r->handle = MPI_REQUEST_NULL;
			req_release(r);
		} else {
			pp = &r->next;
		}
	}
}


int MPI_Request_free(MPI_Request *req)
{
	if (!req || *req == MPI_REQUEST_NULL)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Request_free", "MPI_REQUEST_NULL");
	struct request *r = req_get(*req);
	if (!r)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Request_free", "invalid request handle");
	if (r->kind == REQ_GEN)
		return p2p_gen_free(r, req);
	int i = TORO_HANDLE_INDEX(r->handle);
	table[i] = (struct request *)(intptr_t)free_list;
	free_list = i;
	r->handle = MPI_REQUEST_NULL;
	*req = MPI_REQUEST_NULL;
	if (!r->active || req_done(r)) {
		req_release(r);
	} else if (r->kind != REQ_RECV) {
		r->next = orphans;
		orphans = r;
		reap_orphans();
	}
	/* an active receive stays in the posted queue and completes unseen */
	return MPI_SUCCESS;
}

/* Only receives still waiting for a message can be cancelled (3.8.4). */
int MPI_Cancel(MPI_Request *req)
{
	struct request *r = req ? req_get(*req) : NULL;
	if (!r)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Cancel", "invalid request handle");
	if (r->kind == REQ_GEN)
		return grequest_cancel(r->gen, r->complete);
	if (r->kind != REQ_RECV || !r->active || r->complete)
		return MPI_SUCCESS;
	for (struct request **pp = &posted_head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp != r)
			continue;
		*pp = r->next;
		if (posted_tail == r)
			posted_tail = prev;
		r->complete = true;
		r->error = MPI_SUCCESS;
		status_set(&r->status, r->peer, r->tag, 0, 0, true);
		break;
	}
	return MPI_SUCCESS;
}

int MPI_Test_cancelled(const MPI_Status *st, int *flag)
{
	if (!st || st == MPI_STATUS_IGNORE || !flag)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Test_cancelled", "NULL argument");
	*flag = status_cancelled(st);
	return MPI_SUCCESS;
}

int MPI_Status_set_cancelled(MPI_Status *st, int flag)
{
	if (!st || st == MPI_STATUS_IGNORE)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Status_set_cancelled", "NULL status");
	st->count_hi_and_cancelled = (st->count_hi_and_cancelled & ~1) | (flag ? 1 : 0);
	return MPI_SUCCESS;
}

/* ---- probing ---- */

static int probe(const char *fn, int src, int tag, MPI_Comm comm, int *flag, MPI_Status *st, bool block)
{
	struct comm *c;
	int dummy = 0;
	int err = check_recv(fn, &dummy, 0, MPI_BYTE, src, tag, comm, &c);
	if (err)
		return err;
	if (src == MPI_PROC_NULL) {
		if (flag)
			*flag = 1;
		status_set(st, MPI_PROC_NULL, MPI_ANY_TAG, 0, 0, false);
		return MPI_SUCCESS;
	}
	struct request key;
	memset(&key, 0, sizeof key);
	fill(&key, REQ_RECV, NULL, 0, MPI_BYTE, src, tag, c, 0, MODE_STANDARD);
	for (;;) {
		progress();
		struct unexpected *u = unexpected_take(&key, false);
		if (u) {
			if (flag)
				*flag = 1;
			status_set(st, u->m.src, u->m.tag, 0, u->m.bytes, false);
			return MPI_SUCCESS;
		}
		if (!block) {
			*flag = 0;
			return MPI_SUCCESS;
		}
		wait_for_event(NULL, 0);
	}
}

int MPI_Probe(int src, int tag, MPI_Comm comm, MPI_Status *st)
{
	return probe("MPI_Probe", src, tag, comm, NULL, st, true);
}

int MPI_Iprobe(int src, int tag, MPI_Comm comm, int *flag, MPI_Status *st)
{
	if (!flag)
		return mpi_err(comm, MPI_ERR_ARG, "MPI_Iprobe", "NULL flag");
	return probe("MPI_Iprobe", src, tag, comm, flag, st, false);
}

/* ---- matched probes: the hooks of mprobe.c ---- */

/* 3.8.2: the first unexpected message that a receive (src, tag) on c
 * would match, taken out of matching so that no other receive gets it;
 * NULL when none has arrived. *st gets its source, tag and size. */
void *p2p_mprobe(struct comm *c, int src, int tag, MPI_Status *st)
{
	struct request key;
	memset(&key, 0, sizeof key);
	fill(&key, REQ_RECV, NULL, 0, MPI_BYTE, src, tag, c, 0, MODE_STANDARD);
	progress();
	struct unexpected *u = unexpected_take(&key, true);
	if (u)
		status_set(st, u->m.src, u->m.tag, 0, u->m.bytes, false);
	return u;
}

void p2p_wait_event(void)
{
	wait_for_event(NULL, 0);
}

/* Receives a message p2p_mprobe took into a request that is complete
 * already (the data is here or in the sender's memory). */
int p2p_mrecv(void *msg, void *buf, int count, MPI_Datatype dt, struct comm *c, MPI_Request *req)
{
	struct unexpected *u = msg;
	struct request *r = req_alloc();
	if (!r)
		return MPI_ERR_NO_MEM;
	fill(r, REQ_RECV, buf, count, dt, u->m.src, u->m.tag, c, 0, MODE_STANDARD);
	hold_dt(r);
	r->active = true;
	recv_deliver(r, &u->m, u->payload);
	unexpected_free(u);
	*req = req_handle(r);
	return *req == MPI_REQUEST_NULL ? MPI_ERR_NO_MEM : MPI_SUCCESS;
}

/* ---- buffered mode ---- */

int MPI_Buffer_attach(void *buf, int size)
{
	if (size < 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Buffer_attach", "negative size %d", size);
	if (bsend_buf)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_BUFFER, "MPI_Buffer_attach", "a buffer is already attached");
	if (!buf && size > 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_BUFFER, "MPI_Buffer_attach", "NULL buffer");
	bsend_buf = buf;
	bsend_size = size;
	return MPI_SUCCESS;
}

/* Waits until every buffered message has left the buffer (3.6.1). */
int MPI_Buffer_detach(void *buf_addr, int *size)
{
	if (!buf_addr || !size)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Buffer_detach", "NULL argument");
	while (bsend_used) {
		progress();
		reap_orphans();
		if (bsend_used)
			wait_for_event(NULL, 0);
	}
	*(void **)buf_addr = bsend_buf;
	*size = (int)bsend_size;
	bsend_buf = NULL;
	bsend_size = 0;
	return MPI_SUCCESS;
}

/* ---- generalized requests (12.2; the callbacks are grequest.c's) ---- */

int p2p_gen_request(void *state, MPI_Request *req)
{
	struct request *r = req_alloc();
	if (!r || req_handle(r) == MPI_REQUEST_NULL) {
		free(r);
		return MPI_ERR_NO_MEM;
	}
	r->kind = REQ_GEN;
	r->active = true;
	r->gen = state;
	r->comm_handle = MPI_COMM_WORLD;
	empty_status(&r->status);
	*req = r->handle;
	return MPI_SUCCESS;
}

int p2p_gen_complete(MPI_Request h)
{
	struct request *r = req_get(h);
	if (!r || r->kind != REQ_GEN || r->complete)
		return MPI_ERR_REQUEST;
	__atomic_store_n(&r->complete, true, __ATOMIC_RELEASE);
	toro->notify(toro->rank);
	if (!r->freed)
		return MPI_SUCCESS;
	int err = grequest_done(r->gen, NULL, true);
	req_release(r);
	return err;
}

/* MPI_Request_free of a generalized request: freed at once when it is
 * complete, else when MPI_Grequest_complete is called (12.2); its handle
 * stays valid for that call. */
static int p2p_gen_free(struct request *r, MPI_Request *h)
{
	*h = MPI_REQUEST_NULL;
	if (!r->complete) {
		r->freed = true;
		return MPI_SUCCESS;
	}
	int err = grequest_done(r->gen, NULL, true);
	req_release(r);
	return err ? mpi_err(MPI_COMM_WORLD, err, "MPI_Request_free", "the free callback failed") : MPI_SUCCESS;
}
