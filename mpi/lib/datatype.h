/* The representation of a datatype, shared by datatype.c and the
 * dtype_*.c files (what the rest of the library uses is impl.h's dtype_*).
 *
 * A type is kept flattened: a list of runs of bytes relative to the
 * element's address, in type-map order, plus its bounds. A run is `n`
 * blocks of `len` bytes, the k-th at off + k * stride, so a vector of
 * doubles is one run whatever its count. Adjacent blocks are merged as the
 * list is built. The constructor and its arguments are kept as well, with
 * references to the old types, for MPI_Type_get_contents and for the
 * walks that need the basic elements (Get_elements, external32). */
#pragma once
#include "impl.h"

/* ---- the representation ---- */

struct blk {
	MPI_Aint off;          /* of the first block, from the element's address */
	size_t len;            /* bytes of each block */
	size_t n;              /* blocks */
	MPI_Aint stride;       /* from one block to the next (n > 1) */
};

/* A basic component of a builtin: `reps` values of nsize bytes in memory,
 * xsize bytes each in external32, converted as `kind`. */
enum { XB = 1, XI, XU, XF, XL };   /* bytes, signed, unsigned, IEEE float, x87 long double */
struct comp {
	unsigned char kind, nsize, xsize, reps;
};
struct bdesc {
	MPI_Datatype h;
	const char *name;
	unsigned char align, extent;
	struct comp c[2];      /* pair types have two basic elements */
};

struct dtype {
	MPI_Datatype handle;   /* 0 for a temporary type that has none */
	int urefs;             /* user handles: creation, each Type_get_contents result */
	int irefs;             /* types built from it, dtype_retain */
	bool committed;
	size_t size;           /* data bytes of one element */
	size_t xsize;          /* the same in external32 */
	MPI_Count nbasic;      /* basic elements in one element */
	MPI_Datatype basic;    /* the predefined type of them all, or MPI_DATATYPE_NULL */
	MPI_Aint lb, ub;       /* extent = ub - lb */
	MPI_Aint tlb, tub;     /* true bounds (4.1.8) */
	bool has_lb, has_ub;   /* explicit MPI_LB / MPI_UB markers (sticky, 4.1.7) */
	int align;             /* largest alignment of its basic types (4.1.6) */
	size_t nblk, cap;
	struct blk *blk;
	int comb, ni, na, nt;  /* the constructor and its arguments (4.1.13) */
	int *ints;
	MPI_Aint *aints;
	MPI_Datatype *types;
	struct dtype **kids;   /* the objects of types[] */
	const struct bdesc *bi; /* builtins only */
	char name[MPI_MAX_OBJECT_NAME];
	void *attrs;           /* attr.c's list */
};

static inline size_t comp_bytes(const struct comp *c) { return (size_t)c->nsize * c->reps; }
static inline MPI_Aint ext(const struct dtype *t) { return t->ub - t->lb; }
static inline MPI_Aint amin(MPI_Aint a, MPI_Aint b) { return a < b ? a : b; }
static inline MPI_Aint amax(MPI_Aint a, MPI_Aint b) { return a > b ? a : b; }

/* Errors of the datatype calls go to MPI_COMM_WORLD's handler; fn is the
 * calling function's name. */
#define ERR(cls, ...) mpi_err(MPI_COMM_WORLD, (cls), fn, __VA_ARGS__)

/* ---- datatype.c: the handle table ---- */
struct dtype *dt_get(MPI_Datatype dt);    /* any type still alive, freed or not; NULL if none */
struct dtype *dt_lookup(MPI_Datatype dt); /* a type the user may name: not freed */
void dt_obj_free(struct dtype *t);        /* frees a derived type's memory (NULL, builtin: nothing) */
void dt_kids_release(struct dtype *t);    /* drops its references to the old types */
void dt_unref(struct dtype *t);           /* a reference went: an unreferenced type waits in its slot */
bool dt_publish(struct dtype *t, MPI_Datatype *out); /* a handle, one user reference; false: no memory */
void dt_addref(struct dtype *t);          /* a new user reference (Type_get_contents) */

/* ---- dtype_build.c: flattening ---- */
struct build {
	struct dtype *t;
	bool oom;
	bool data;             /* some copy had data */
	MPI_Aint mlb, mub;     /* bounds from markers */
	MPI_Aint plb, pub;     /* bounds from copies without markers */
	MPI_Datatype basic;    /* 0: none seen yet */
	MPI_Datatype zbasic;   /* the same over copies of count zero */
	bool mixed;
};

bool dt_build_start(struct build *b);     /* an empty type in b->t; false: no memory */
/* Adds n copies of c, the k-th at displacement disp + k * stride. */
void dt_add_copies(struct build *b, const struct dtype *c, MPI_Aint disp, size_t n, MPI_Aint stride);
/* Sets the bounds (a struct's padded when pad); NULL when out of memory. */
struct dtype *dt_build_end(struct build *b, bool pad);
/* Records the constructor (fill ints, aints, types, then dt_env_kids). */
bool dt_env_alloc(struct dtype *t, int comb, int ni, int na, int nt);
void dt_env_kids(struct dtype *t, int nt);
/* Gives the finished type t its handle; frees it on failure. */
int dt_finish(const char *fn, struct dtype *t, MPI_Datatype *newtype);
/* Argument checks of the datatype calls (MPI_SUCCESS or the error). */
int dt_nomem(const char *fn);
int dt_get_old(const char *fn, MPI_Datatype dt, struct dtype **t);
int dt_ctor_begin(const char *fn, int count, MPI_Datatype old, MPI_Datatype *newtype, struct dtype **o);
int dt_check_blocklens(const char *fn, int count, const int *bl);

/* ---- dtype_pack.c ---- */
/* count elements of t at buf to (pack) or from the stream s, at most
 * `left` bytes of it. */
void dt_walk(void *buf, size_t count, const struct dtype *t, char *s, size_t left, bool pack);

