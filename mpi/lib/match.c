/* The protocols of point to point on VirtIOBus, matching and progress
 * (MPI-3.1 3.4-3.5).
 *
 * Every message starts with a struct msg. Eager: the data follows the
 * header in the ring, and a message of at most one bus slot is a single
 * slot and descriptor. Rendezvous: the header carries the address of the
 * sender's (packed) data; the matching receiver copies straight from it,
 * then sets the sender's `done` flag and wakes it (one address space: no
 * reply message). A synchronous eager send also waits for `done`, set at
 * matching. README "Eager and rendezvous" gives the switch point.
 *
 * Matching: posted receives in posting order and unexpected messages in
 * arrival order, both kept per context id (hashed), so a receive scans
 * only its communicator's queue. A receive first takes a matching
 * unexpected message, else posts itself and then reads the rings: a
 * message still in a ring is copied once, from the ring to the user's
 * buffer. Rings are FIFO per pair of ranks, so messages never overtake.
 *
 * Progress reads only the rings of senders whose bit the bus's pending
 * word has shown, from a rotating start, a bounded number per sender. */
#include <stdlib.h>
#include <string.h>
#include "p2p.h"
#include "thread.h"

#define NQ 64                    /* hash buckets of the per-context queues */
#define DRAIN_MAX 64             /* messages taken from one sender per pass */
#define UNEXP_INLINE 256

struct unexpected {
	struct msg m;
	void *payload;           /* eager data copied out of the ring: small, or malloc'd */
	struct unexpected *next;
	char small[UNEXP_INLINE];
};

struct rqueue { struct request *head, *tail; };
struct uqueue { struct unexpected *head, *tail; };

static struct rqueue posted[NQ];
static struct uqueue unexp[NQ];
/* Unexpected messages come and go with every early send; keeping their
 * records (and small payloads) off malloc saves musl's mmap churn. */
static struct unexpected *unexp_spare;
static int unexp_nspare;
static struct rqueue waiting[TORO_MAX_RANKS]; /* sends waiting for ring room, per world rank */
static int nwaiting;
static struct request *orphans;
static uint64_t unread;          /* senders whose rings may hold messages */
static unsigned rotor;
size_t eager_max;
static size_t eager_most;        /* the longest data one ring message can carry */
unsigned p2p_delivered;

static inline unsigned qi(int ctx) { return (unsigned)ctx % NQ; }

static inline bool matches(int ctx, int src, int tag, const struct msg *m)
{
	return ctx == m->ctx && (src == MPI_ANY_SOURCE || src == m->src) && (tag == MPI_ANY_TAG || tag == m->tag);
}

/* ---- sending ---- */

static void put_eager(struct msg *m, const struct request *r)
{
	if (r->tmp)
		memcpy(m + 1, r->tmp, r->bytes);
	else if (r->contig)
		memcpy(m + 1, (const char *)r->buf + r->lb, r->bytes);
	else
		dtype_pack(r->buf, r->count, r->dt, m + 1);
}

/* Puts the message of send request r into the ring; false if the ring is full. */
static bool try_send(struct request *r)
{
	int dst = comm_peer_world(r->comm, r->peer);
	/* A buffered send's copy leaves the attached buffer as soon as it is
	 * in the ring, so it goes eagerly whenever it fits. */
	bool eager = r->bytes <= eager_max || (r->in_bsend_buffer && r->bytes <= eager_most);
	uint32_t len = sizeof(struct msg) + (eager ? r->bytes : 0);
	struct msg *m = toro->bus_get_buf(dst, len);
	if (!m)
		return false;
	*m = (struct msg){.ctx = r->ctx, .src = r->comm->rank, .src_world = toro->rank, .tag = r->tag, .bytes = r->bytes};
	if (eager) {
		m->kind = MSG_EAGER;
		put_eager(m, r);
		if (r->mode == MODE_SYNC) {
			m->sync = 1;
			m->done = &r->done;
			r->waits_done = true;
		}
	} else {
		m->kind = MSG_RTS;
		m->data = r->tmp ? r->tmp : (const char *)r->buf + r->lb;
		m->done = &r->done;
		r->waits_done = true;
	}
	toro->bus_post(dst, m, len);
	r->sent = true;
	return true;
}

bool send_eager_now(const void *buf, size_t bytes, int dst, int tag, int src, int ctx)
{
	if (waiting[dst].head)
		return false;
	uint32_t len = sizeof(struct msg) + bytes;
	struct msg *m = toro->bus_get_buf(dst, len);
	if (!m)
		return false;
	*m = (struct msg){.kind = MSG_EAGER, .ctx = ctx, .src = src, .src_world = toro->rank, .tag = tag,
			  .bytes = bytes};
	memcpy(m + 1, buf, bytes);
	toro->bus_post(dst, m, len);
	return true;
}

static void rq_push(struct rqueue *q, struct request *r)
{
	r->next = NULL;
	if (q->tail)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
}

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

/* Starts a send: the data of a rendezvous send of a non-contiguous type
 * is packed first. */
int send_start(struct request *r)
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
	if (r->mode == MODE_BUFFERED)
		return bsend_start(r);
	if (r->bytes > eager_max && !r->contig) {
		r->tmp = malloc(r->bytes);
		if (!r->tmp)
			return MPI_ERR_NO_MEM;
		dtype_pack(r->buf, r->count, r->dt, r->tmp);
	}
	int dst = comm_peer_world(r->comm, r->peer);
	if (waiting[dst].head || !try_send(r)) {
		rq_push(&waiting[dst], r);
		nwaiting++;
	} else {
		send_complete_check(r);
	}
	return MPI_SUCCESS;
}

static void push_waiting(void)
{
	for (int dst = 0; nwaiting && dst < toro->nranks; dst++) {
		struct rqueue *q = &waiting[dst];
		while (q->head && try_send(q->head)) {
			struct request *r = q->head;
			q->head = r->next;
			if (!q->head)
				q->tail = NULL;
			nwaiting--;
			send_complete_check(r);
		}
	}
}

/* ---- receiving ---- */

static void deliver(struct request *r, const struct msg *m, const void *payload)
{
	size_t n = m->bytes;
	r->error = MPI_SUCCESS;
	if (n > r->bytes) {
		n = r->bytes;
		r->error = MPI_ERR_TRUNCATE;
	}
	const void *src = m->kind == MSG_EAGER ? payload : m->data;
	if (r->contig)
		memcpy((char *)r->buf + r->lb, src, n);
	else
		dtype_unpack(src, n, r->buf, r->count, r->dt);
	if (m->done) {
		__atomic_store_n(m->done, 1, __ATOMIC_RELEASE);
		toro->notify(m->src_world);
	}
	status_set(&r->status, m->src, m->tag, r->error, n, false);
	r->status.MPI_ERROR = r->error;
	__atomic_store_n(&r->complete, true, __ATOMIC_RELEASE);
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

static void unexpected_add(const struct msg *m)
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
		memcpy(copy, m + 1, n);
	u->next = NULL;
	struct uqueue *q = &unexp[qi(m->ctx)];
	if (q->tail)
		q->tail->next = u;
	else
		q->head = u;
	q->tail = u;
}

/* A message read in place in the ring: into the first matching posted
 * receive's buffer, or copied out as unexpected. */
static void incoming(const struct msg *m)
{
	struct rqueue *q = &posted[qi(m->ctx)];
	for (struct request **pp = &q->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
		struct request *r = *pp;
		if (!matches(r->ctx, r->peer, r->tag, m))
			continue;
		*pp = r->next;
		if (q->tail == r)
			q->tail = prev;
		deliver(r, m, m + 1);
		return;
	}
	unexpected_add(m);
}

static bool drain(int src)
{
	uint32_t len;
	void *buf;
	for (int i = 0; i < DRAIN_MAX; i++) {
		if (!(buf = toro->bus_peek(src, &len)))
			return true;
		incoming(buf);
		toro->bus_release(src, buf);
	}
	return false;
}

static void read_rings(void)
{
	unread |= toro->bus_take_pending();
	uint64_t left = unread;
	while (left) {
		uint64_t high = rotor < 64 ? left & (~0ull << rotor) : 0;
		int src = __builtin_ctzll(high ? high : left);
		left &= ~(1ull << src);
		if (drain(src))
			unread &= ~(1ull << src);
		rotor = src + 1;
	}
}

/* Reads what has arrived, pushes waiting sends, reaps freed requests and
 * advances nonblocking collectives. */
void p2p_progress(void)
{
	if (unread || toro->bus_pending())
		read_rings();
	if (nwaiting)
		push_waiting();
	if (orphans)
		reap_orphans();
	if (nbc_nactive)
		nbc_progress();
}

static struct unexpected *unexpected_take(int ctx, int src, int tag, bool take)
{
	struct uqueue *q = &unexp[qi(ctx)];
	for (struct unexpected **pp = &q->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
		struct unexpected *u = *pp;
		if (!matches(ctx, src, tag, &u->m))
			continue;
		if (take) {
			*pp = u->next;
			if (q->tail == u)
				q->tail = prev;
		}
		return u;
	}
	return NULL;
}

struct unexpected *unexpected_find(int ctx, int src, int tag, bool take)
{
	p2p_progress();
	return unexpected_take(ctx, src, tag, take);
}

void unexpected_status(const struct unexpected *u, MPI_Status *st)
{
	status_set(st, u->m.src, u->m.tag, 0, u->m.bytes, false);
}

void unexpected_deliver(struct request *r, struct unexpected *u)
{
	deliver(r, &u->m, u->payload);
	unexpected_free(u);
}

/* Unexpected messages first (they arrived before anything still in a
 * ring), then the receive is posted and the rings are read. */
void recv_start(struct request *r)
{
	r->active = true;
	r->complete = false;
	if (r->peer == MPI_PROC_NULL) {
		r->complete = true;
		status_set(&r->status, MPI_PROC_NULL, MPI_ANY_TAG, 0, 0, false);
		return;
	}
	struct unexpected *u = unexpected_take(r->ctx, r->peer, r->tag, true);
	if (u) {
		unexpected_deliver(r, u);
		return;
	}
	rq_push(&posted[qi(r->ctx)], r);
	p2p_progress();
}

bool match_cancel(struct request *r)
{
	struct rqueue *q = &posted[qi(r->ctx)];
	for (struct request **pp = &q->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp != r)
			continue;
		*pp = r->next;
		if (q->tail == r)
			q->tail = prev;
		return true;
	}
	return false;
}

/* ---- completion and waiting ---- */

bool req_done(struct request *r)
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

static bool changed(struct request *r)
{
	return (r->waits_done && __atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) ||
	       __atomic_load_n(&r->complete, __ATOMIC_ACQUIRE);
}

/* The waiting rank halts until something can change: a message arrives,
 * a receiver finishes a rendezvous with one of our sends (it notifies),
 * or a full ring gets room (the receiver's release notifies). */
static bool can_progress(void *arg)
{
	struct wait_set *w = arg;
	if (unread || toro->bus_pending() || nwaiting || (nbc_nactive && (w->mt || nbc_ready())))
		return true;
	for (int i = 0; i < w->n; i++)
		if (w->reqs[i] && changed(w->reqs[i]))
			return true;
	for (struct request *o = orphans; o; o = o->next)   /* Buffer_detach waits for these */
		if (changed(o))
			return true;
	return false;
}

void wait_for_event(struct request **reqs, int n)
{
	struct wait_set w = {reqs, n, mt_suspend()};
	toro->wait_until(can_progress, &w);
	mt_resume(w.mt);
}

void wait_one(struct request *r)
{
	if (req_done(r))
		return;
	p2p_progress();
	while (!req_done(r)) {
		wait_for_event(&r, 1);
		p2p_progress();
	}
}

/* ---- requests freed while active ---- */

void orphan_add(struct request *r)
{
	r->next = orphans;
	orphans = r;
}

void reap_orphans(void)
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

/* ---- the eager limit ---- */

/* Under QEMU's TCG a copy costs more than the rendezvous handshake for
 * all but one-slot messages (README "Eager and rendezvous"); on hardware
 * copies are cheap and the handshake's cache-line round trips dominate. */
#define EAGER_TCG (TORO_BUS_SLOT - sizeof(struct msg))
#define EAGER_HW 4096

static bool under_tcg(void)
{
	unsigned a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000), "c"(0));
	return !memcmp(&b, "TCGT", 4) && !memcmp(&c, "CGTC", 4) && !memcmp(&d, "GTCG", 4);
}

int p2p_init(void)
{
	size_t most = eager_most = toro->bus_max_len - sizeof(struct msg);
	eager_max = under_tcg() ? EAGER_TCG : EAGER_HW;
	const char *env = getenv("TORO_EAGER_LIMIT");
	if (env && *env) {
		char *end;
		unsigned long v = strtoul(env, &end, 0);
		if (*end || env[0] == '-')
			return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Init",
				       "TORO_EAGER_LIMIT=%s is not a number of bytes", env);
		eager_max = v;
	}
	if (eager_max > most)
		eager_max = most;
	return MPI_SUCCESS;
}
