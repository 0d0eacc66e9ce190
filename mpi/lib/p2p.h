/* Point to point's own interface, shared by its files:
 *   request.c  request handles, completion (Wait/Test/...), Request_free,
 *              generalized requests, the requests nbc.c and RMA use
 *   match.c    the protocols on VirtIOBus, matching, progress, waiting
 *   bsend.c    buffered mode and its attached buffer
 *   p2p.c      the send, receive and probe calls, the coll_* helpers
 * (impl.h has what the rest of the library calls.) */
#pragma once
#include "impl.h"

enum { MSG_EAGER = 1, MSG_RTS = 2 };
enum { REQ_SEND = 1, REQ_RECV = 2, REQ_COLL = 3, REQ_GEN = 4 }; /* COLL: nbc.c's; GEN: grequest.c's */
enum { MODE_STANDARD = 0, MODE_SYNC = 1, MODE_READY = 2, MODE_BUFFERED = 3 };

/* The header of every message on the bus; an eager message's data
 * follows it. */
struct msg {
	uint8_t kind;
	uint8_t sync;            /* the sender waits for *done at matching */
	int32_t ctx;
	int32_t src;             /* sender's rank in the communicator */
	int32_t src_world;       /* to wake the sender */
	int32_t tag;
	uint64_t bytes;          /* packed size of the data */
	const void *data;        /* rendezvous: the sender's (packed) data */
	volatile int *done;      /* rendezvous and sync: set to 1 by the receiver */
};

struct request {
	int kind;
	bool active;             /* started and not completed */
	bool complete;
	bool persistent;
	bool freed;              /* generalized: MPI_Request_free while active */
	bool contig;             /* dt's data is count * size bytes at buf + lb */
	int mode;
	void *buf;
	int count;
	MPI_Datatype dt;
	size_t bytes;            /* packed size: count * size of dt */
	MPI_Aint lb;             /* dt's true lower bound */
	int peer, tag, ctx;
	struct comm *comm;
	MPI_Comm comm_handle;
	void *tmp;               /* packed data of a rendezvous or buffered send */
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

/* ---- request.c ---- */
struct request *req_alloc(void);           /* zeroed, no handle yet; NULL: no memory */
MPI_Request req_handle(struct request *r); /* MPI_REQUEST_NULL: no memory */
struct request *req_get(MPI_Request h);    /* NULL: not a live request */
void req_release(struct request *r);       /* handle and memory go */
void req_unhandle(struct request *r);      /* the handle goes, the request stays */
void empty_status(MPI_Status *st);
/* For requests that outlive the call that made them: their datatype and
 * communicator stay alive until the request is released. */
static inline void req_hold(struct request *r)
{
	dtype_retain(r->dt);
	r->comm->refs++;
	r->holds_dt = true;
}

/* Fills a request from the arguments of a call; coll = 1 for the
 * collective context. dt must be valid. */
static inline void req_fill(struct request *r, int kind, const void *buf, int count, MPI_Datatype dt, int peer,
			    int tag, struct comm *c, int coll, int mode)
{
	struct dtype_view v;
	dtype_view(dt, &v);
	r->kind = kind;
	r->buf = (void *)buf;
	r->count = count;
	r->dt = dt;
	r->bytes = (size_t)count * v.size;
	r->lb = v.true_lb;
	r->contig = v.contig;
	r->peer = peer;
	r->tag = tag;
	r->comm = c;
	r->comm_handle = c->handle;
	r->ctx = c->ctx + coll;
	r->mode = mode;
	r->handle = MPI_REQUEST_NULL;
}

/* ---- match.c ---- */
int send_start(struct request *r);         /* MPI_SUCCESS or the error class */
void recv_start(struct request *r);
bool req_done(struct request *r);          /* complete (checks a send's done flag) */
void wait_one(struct request *r);
void wait_for_event(struct request **reqs, int n);
bool match_cancel(struct request *r);      /* takes a posted receive out; false: not posted */
void orphan_add(struct request *r);        /* freed while active: released when done */
void reap_orphans(void);
/* The first arrived message a receive (ctx, src, tag) would match, taken
 * out of matching when `take`; NULL if none. */
struct unexpected;
struct unexpected *unexpected_find(int ctx, int src, int tag, bool take);
void unexpected_status(const struct unexpected *u, MPI_Status *st);
void unexpected_deliver(struct request *r, struct unexpected *u);
/* Sends with this rank's cheapest path: a contiguous eager message
 * straight into the ring when nothing is queued before it. true: sent. */
bool send_eager_now(const void *buf, size_t bytes, int dst_world, int tag, int src, int ctx);
extern size_t eager_max;

/* ---- bsend.c ---- */
int bsend_start(struct request *r);        /* completes r; a hidden request carries the copy */
void bsend_free(void *p);
