/* Collectives through the single address space (DESIGN section 6).
 *
 * Every rank of a Toro job can address every other rank's memory, so a
 * collective needs no messages: each rank publishes pointers to its
 * buffers, the ranks copy or reduce straight from each other's buffers
 * (one copy), then say they are done reading, and a rank returns only
 * when nobody reads its buffers any more.
 *
 * Per communicator, comm rank 0 mallocs a control block (one 64-byte line
 * per rank) and hands its address to the others with a message on the
 * first collective; each rank writes only its own line. Operations are
 * numbered (the same on every rank, as collectives are called in the
 * same order, MPI-3.1 5.12); a line's stamps say up to which operation
 * its pointers are valid (post), its first phase is done (mid), and it
 * has finished reading the others' buffers (done).
 *
 * coll.c uses these on intracommunicators of two or more ranks unless
 * TORO_SHM_COLL=0 was in the environment at MPI_Init. Each shm_X returns
 * an error class, or SHM_NONE when the message path must do the call (the
 * same answer on every rank).
 *
 * Files: coll_shm.c the control block, stamps and waiting;
 * coll_shm_move.c barrier, bcast, gather, scatter, allgather, alltoall;
 * coll_shm_red.c reduce and allreduce. */
#pragma once
#include "coll.h"

_Static_assert(TORO_MAX_RANKS < 0xfff, "coll_shm.c's waits field names a rank in 12 bits");

#define SHM_NONE (-1)

void shm_coll_init(void);              /* MPI_Init: reads TORO_SHM_COLL */
bool shm_coll_on(const struct comm *c);
void shm_coll_free(struct comm *c);    /* comm_release: lets go of c's block */

int shm_barrier(struct comm *c);
int shm_bcast(void *buf, int count, MPI_Datatype dt, int root, struct comm *c);
int shm_reduce(const void *sbuf, void *rbuf, int count, MPI_Datatype dt, MPI_Op op,
	       int root, struct comm *c);
int shm_allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype dt, MPI_Op op,
		  struct comm *c);
/* Gather(v): sbuf MPI_IN_PLACE at the root; rb matters at the root only. */
int shm_gather(const void *sbuf, int scount, MPI_Datatype st, const struct blocks *rb,
	       int root, struct comm *c);
/* Scatter(v): rbuf MPI_IN_PLACE at the root; sb matters at the root only
 * (v: MPI_Scatterv). */
int shm_scatter(const struct blocks *sb, bool v, void *rbuf, int rcount, MPI_Datatype rt,
		int root, struct comm *c);
/* Allgather(v): sbuf MPI_IN_PLACE: this rank's block of rb is the input. */
int shm_allgather(const void *sbuf, int scount, MPI_Datatype st, const struct blocks *rb,
		  struct comm *c);
/* Alltoall(v,w): sb NULL for MPI_IN_PLACE (the data is taken from rb). */
int shm_alltoall(const struct blocks *sb, const struct blocks *rb, struct comm *c);

/* ---- for coll_shm_move.c and coll_shm_red.c ---- */
enum { SHM_POST, SHM_MID, SHM_DONE };

/* Small data goes through slots: each rank has two in the block, one
 * for odd and one for even operations. It copies its data in and may
 * return as soon as it posted; before it writes that slot again it waits
 * until the ranks that read it last are done with that operation
 * (shm_claim). Larger data is read from the owner's own buffer, so the
 * owner waits for its readers' done stamps. Both sides of a transfer
 * decide from the byte count, which they agree on. A reader's done stamp
 * wakes the ranks it read from (they may wait for it). */
#define SHM_SLOT 2048

struct shm_line {                      /* written by its own rank only */
	uint64_t stamp[3];             /* SHM_POST, SHM_MID, SHM_DONE */
	const void *ptr, *ptr2;        /* what the operation publishes */
	size_t len;                    /* bytes at ptr, where it is data */
	uint32_t waits;                /* 1 + s | r << 4: may halt for r's stamp s */
	uint64_t wait_k;               /* ... to reach this (coll_shm.c) */
} __attribute__((aligned(64)));

/* A piece of contiguous data for one rank (scatter, alltoall). */
struct shm_piece {
	const void *p;
	size_t len;
};

struct shm_use {                       /* the last operation that wrote a slot */
	uint64_t k;
	int readers;                   /* the rank that read it, -1: all */
};

struct shm_op {                        /* one operation on one rank */
	struct comm *c;
	struct shm_use *use;           /* of this rank's two slots */
	struct shm_line *line;         /* the block's lines, by comm rank */
	char *slots;                   /* the block's slots */
	struct shm_piece *tab;         /* this rank's table of c->size pieces */
	uint64_t k;                    /* the operation's number */
	int me, size;
};

/* Starts the next operation on c (sets up the block on first use):
 * MPI_SUCCESS, SHM_NONE (no block: use messages) or an error class. */
int shm_start(struct comm *c, struct shm_op *o);
/* This rank's pointers for the operation, then its post stamp; to = the
 * rank that waits for it, or -1 for all. */
void shm_publish(struct shm_op *o, const void *ptr, const void *ptr2, size_t len, int to);
/* Sets this rank's stamp s (SHM_MID, SHM_DONE) and wakes `to` (-1: all,
 * -2: nobody). */
void shm_mark(struct shm_op *o, int s, int to);
/* Waits until rank r's stamp s reaches the operation (r = -1: every
 * other rank's), keeping point to point moving meanwhile. */
void shm_wait(struct shm_op *o, int s, int r);
/* Every operation ends with this on every rank: its done stamp, waking
 * `from`, the rank it read data from (-1: all, -2: none). */
void shm_finish(struct shm_op *o, int from);
/* Rank r's slot for this operation (SHM_SLOT bytes, 64-byte aligned). */
char *shm_slot(const struct shm_op *o, int r);
/* Before this rank writes its slot for `readers` (a rank, -1: all but
 * itself, -2: none): waits until the last readers are done with it. */
void shm_claim(struct shm_op *o, int readers);
static inline const struct shm_line *shm_line(const struct shm_op *o, int r) { return &o->line[r]; }

/* The data of count elements of dt at buf as contiguous bytes: buf
 * itself for a contiguous type, else a packed copy in *tmp (to free; NULL
 * and *rc = MPI_ERR_NO_MEM when out of memory). */
const void *shm_bytes(const void *buf, int count, MPI_Datatype dt, void **tmp, int *rc);
/* Copies len bytes of contiguous data at src into count elements of dt
 * at buf; MPI_ERR_TRUNCATE when they do not fit. */
int shm_unbytes(const void *src, size_t len, void *buf, int count, MPI_Datatype dt);
/* Packs count elements of dt at buf into dst (contiguous bytes). */
void shm_pack(const void *buf, int count, MPI_Datatype dt, void *dst);
