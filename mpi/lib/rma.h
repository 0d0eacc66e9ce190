/* One-sided communication (MPI-3.1 chapter 11): the internal interface of
 * win.c, rma_ops.c, rma_sync.c and rma_direct.c.
 *
 * All ranks of a Toro microVM share one address space, so a window is
 * plain memory: every rank publishes a struct win_rank (its base, size,
 * displacement unit, lock word and synchronisation counters) and keeps
 * the pointers of all of them. An operation on a target goes through the
 * target's path (struct rma_path); inside one microVM that is
 * rma_direct: loads and stores to the target's memory, with no message
 * and no progress needed from the target. A target in another microVM
 * (the scale-out issue) gets another path behind the same interface.
 *
 * Files:
 *   win.c        window objects: creation flavours, free, shared_query,
 *                attach/detach
 *   win_attr.c   window names, info, group, error handlers (attributes: attr.c)
 *   rma_ops.c    Put, Get, Accumulate, Get_accumulate, Fetch_and_op,
 *                Compare_and_swap and the request forms: checks, epochs
 *   rma_sync.c   Win_fence, PSCW, Win_lock/unlock(_all), flush, sync
 *   rma_direct.c the same-address-space path
 */
#pragma once
#include "impl.h"

#define WIN_MAX_REGIONS 64         /* Win_attach regions per rank */
#define WIN_MAX_REGIONS_TEXT "64"

struct win_region {
	uintptr_t base;
	MPI_Aint size;
};

/* What a rank publishes to the others; the others read and write it. */
struct win_rank {
	void *base;
	MPI_Aint size;
	int disp_unit;
	volatile int lock;            /* 0 free, -1 exclusive, n > 0: n shared holders */
	volatile int acc_lock;        /* serialises accumulate-class ops on this target */
	volatile int completes;       /* PSCW: Win_complete calls seen by this target */
	volatile int regions_lock;    /* dynamic windows: guards nregions/regions */
	int nregions;
	struct win_region regions[WIN_MAX_REGIONS];
	volatile int posted[];        /* PSCW: posted[o] > 0: this rank may access o */
};

/* How an origin reaches one target. Every function does the whole
 * operation before it returns (completion at origin and target), with
 * the target's data at `addr` (already range checked) typed tcount x tdt;
 * origin data is (obuf, ocount, odt), results go to (rbuf, rcount, rdt).
 * They return MPI_SUCCESS or an error class. */
struct rma_path {
	int (*put)(struct win_rank *t, void *addr, const void *obuf, int ocount, MPI_Datatype odt,
		   int tcount, MPI_Datatype tdt);
	int (*get)(struct win_rank *t, const void *addr, void *obuf, int ocount, MPI_Datatype odt,
		   int tcount, MPI_Datatype tdt);
	/* result (if rbuf) = old target; target = origin op target (atomic per
	 * element with respect to every other accumulate on the target) */
	int (*accumulate)(struct win_rank *t, void *addr, const void *obuf, int ocount, MPI_Datatype odt,
			  void *rbuf, int rcount, MPI_Datatype rdt, int tcount, MPI_Datatype tdt, MPI_Op op);
	/* result = old target; target = origin if old == compare */
	int (*compare_and_swap)(struct win_rank *t, void *addr, const void *obuf, const void *cbuf,
				void *rbuf, MPI_Datatype dt);
	void (*flush)(struct win_rank *t);
};
extern const struct rma_path rma_direct;

enum { EPOCH_NONE, EPOCH_FENCE };

struct win {
	MPI_Win handle;
	MPI_Comm comm;               /* a private duplicate of the creator's communicator */
	int rank, size;
	int flavor, model;
	struct win_rank *mine;
	struct win_rank **peer;      /* every rank's win_rank, by rank in comm */
	const struct rma_path **path;
	void *owned;                 /* memory this rank allocated for the window */
	bool shared_block;           /* Win_allocate_shared: one block, freed by rank 0 */
	MPI_Errhandler errh;
	MPI_Info info;
	char name[MPI_MAX_OBJECT_NAME];
	void *attrs;                 /* attr.c's attribute list */
	/* the origin's epochs (rma_sync.c) */
	int fence;                   /* EPOCH_NONE or EPOCH_FENCE */
	bool lock_all, lock_all_nocheck;
	int *locked;                 /* per target: 0, MPI_LOCK_SHARED or MPI_LOCK_EXCLUSIVE */
	bool *started;               /* per target: in the access group of Win_start */
	bool access;                 /* a Win_start epoch is open */
	int nexposed;                /* origins of the open Win_post (-1: none) */
};

struct win *win_get(MPI_Win h);     /* NULL for invalid or freed handles */
/* The window of an MPI call: MPI initialized and win valid, else NULL
 * with the error (already reported) in *rc. */
struct win *win_arg(MPI_Win win, const char *func, int *rc);
/* Reports an error through the window's handler (MPI_WIN_NULL: world's). */
int win_err(struct win *w, int errclass, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The target's data at displacement disp if its bytes lo .. hi (relative
 * to it) are inside the target's window; NULL if not (win.c). */
void *win_target_addr(struct win *w, int target, MPI_Aint disp, MPI_Aint lo, MPI_Aint hi);
/* Checks that this origin may access target now; MPI_SUCCESS or
 * MPI_ERR_RMA_SYNC (rma_sync.c). */
int rma_epoch_check(struct win *w, int target);
void rma_sync_init(struct win *w);  /* rma_sync.c: epoch state of a new window */
void rma_sync_free(struct win *w);

void rma_spin_lock(volatile int *l);
void rma_spin_unlock(volatile int *l);
/* attr.c: calls the delete functions of the window's attributes
 * (MPI_Win_free); MPI_SUCCESS or the first failing function's code. */
int win_attrs_delete(struct win *w);
