/* Datatypes (MPI-3.1 chapter 4): constructors, queries, Pack/Unpack (and
 * "external32"), Get_count/Get_elements, type names and attributes.
 *
 * A type is kept flattened: a list of runs of bytes relative to the
 * element's address, in type-map order, plus its bounds. A run is `n`
 * blocks of `len` bytes, the k-th at off + k * stride, so a vector of
 * doubles is one run whatever its count. Adjacent blocks are merged as the
 * list is built. The constructor and its arguments are kept as well, with
 * references to the old types, for MPI_Type_get_contents and for the
 * walks that need the basic elements (Get_elements, external32).
 *
 * Handles: builtins carry their index and size (mpi.h); derived types are
 * TORO_MAKE_HANDLE(TORO_KIND_DATATYPE, slot). A freed type whose slot is
 * still referenced (by a type built from it, or dtype_retain) stays alive;
 * an unreferenced one stays in its slot until the slot is reused, oldest
 * freed slot first and only once ZOMBIES slots wait, so an operation
 * already started with it still finds it (MPI-3.1 4.1.9). */
#include "impl.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- the representation ---- */

struct blk {
	MPI_Aint off;          /* of the first block, from the element's address */
	size_t len;            /* bytes of each block */
	size_t n;              /* blocks */
	MPI_Aint stride;       /* from one block to the next (n > 1) */
};

struct attr {
	int key;
	void *val;
	struct attr *next;
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
	struct attr *attrs;
};

/* ---- builtins ---- */

#define B(h, al, ext, ...) [(h) & TORO_BUILTIN_INDEX_MASK] = {h, #h, al, ext, {__VA_ARGS__}}
static const struct bdesc bdesc[TORO_BUILTIN_DATATYPE_COUNT] = {
	B(MPI_CHAR, 1, 1, {XB, 1, 1, 1}),
	B(MPI_SIGNED_CHAR, 1, 1, {XI, 1, 1, 1}),
	B(MPI_UNSIGNED_CHAR, 1, 1, {XU, 1, 1, 1}),
	B(MPI_BYTE, 1, 1, {XB, 1, 1, 1}),
	B(MPI_WCHAR, 4, 4, {XU, 4, 2, 1}),          /* external32 sizes: MPI-3.1 table 13.2 */
	B(MPI_SHORT, 2, 2, {XI, 2, 2, 1}),
	B(MPI_UNSIGNED_SHORT, 2, 2, {XU, 2, 2, 1}),
	B(MPI_INT, 4, 4, {XI, 4, 4, 1}),
	B(MPI_UNSIGNED, 4, 4, {XU, 4, 4, 1}),
	B(MPI_LONG, 8, 8, {XI, 8, 4, 1}),
	B(MPI_UNSIGNED_LONG, 8, 8, {XU, 8, 4, 1}),
	B(MPI_LONG_LONG_INT, 8, 8, {XI, 8, 8, 1}),
	B(MPI_UNSIGNED_LONG_LONG, 8, 8, {XU, 8, 8, 1}),
	B(MPI_FLOAT, 4, 4, {XF, 4, 4, 1}),
	B(MPI_DOUBLE, 8, 8, {XF, 8, 8, 1}),
	B(MPI_LONG_DOUBLE, 16, 16, {XL, 16, 16, 1}),
	B(MPI_PACKED, 1, 1, {XB, 1, 1, 1}),
	B(MPI_LB, 1, 0, {0, 0, 0, 0}),
	B(MPI_UB, 1, 0, {0, 0, 0, 0}),
	B(MPI_FLOAT_INT, 4, 8, {XF, 4, 4, 1}, {XI, 4, 4, 1}),
	B(MPI_DOUBLE_INT, 8, 16, {XF, 8, 8, 1}, {XI, 4, 4, 1}),
	B(MPI_LONG_INT, 8, 16, {XI, 8, 4, 1}, {XI, 4, 4, 1}),
	B(MPI_SHORT_INT, 4, 8, {XI, 2, 2, 1}, {XI, 4, 4, 1}),
	B(MPI_2INT, 4, 8, {XI, 4, 4, 1}, {XI, 4, 4, 1}),
	B(MPI_LONG_DOUBLE_INT, 16, 32, {XL, 16, 16, 1}, {XI, 4, 4, 1}),
	B(MPI_C_BOOL, 1, 1, {XB, 1, 1, 1}),
	B(MPI_INT8_T, 1, 1, {XI, 1, 1, 1}),
	B(MPI_INT16_T, 2, 2, {XI, 2, 2, 1}),
	B(MPI_INT32_T, 4, 4, {XI, 4, 4, 1}),
	B(MPI_INT64_T, 8, 8, {XI, 8, 8, 1}),
	B(MPI_UINT8_T, 1, 1, {XU, 1, 1, 1}),
	B(MPI_UINT16_T, 2, 2, {XU, 2, 2, 1}),
	B(MPI_UINT32_T, 4, 4, {XU, 4, 4, 1}),
	B(MPI_UINT64_T, 8, 8, {XU, 8, 8, 1}),
	B(MPI_C_FLOAT_COMPLEX, 4, 8, {XF, 4, 4, 2}),
	B(MPI_C_DOUBLE_COMPLEX, 8, 16, {XF, 8, 8, 2}),
	B(MPI_C_LONG_DOUBLE_COMPLEX, 16, 32, {XL, 16, 16, 2}),
	B(MPI_AINT, 8, 8, {XI, 8, 8, 1}),
	B(MPI_OFFSET, 8, 8, {XI, 8, 8, 1}),
	B(MPI_COUNT, 8, 8, {XI, 8, 8, 1}),
	B(MPI_CHARACTER, 1, 1, {XB, 1, 1, 1}),
	B(MPI_LOGICAL, 4, 4, {XI, 4, 4, 1}),
	B(MPI_INTEGER, 4, 4, {XI, 4, 4, 1}),
	B(MPI_REAL, 4, 4, {XF, 4, 4, 1}),
	B(MPI_DOUBLE_PRECISION, 8, 8, {XF, 8, 8, 1}),
	B(MPI_COMPLEX, 4, 8, {XF, 4, 4, 2}),
	B(MPI_DOUBLE_COMPLEX, 8, 16, {XF, 8, 8, 2}),
	B(MPI_2INTEGER, 4, 8, {XI, 4, 4, 1}, {XI, 4, 4, 1}),
	B(MPI_2REAL, 4, 8, {XF, 4, 4, 1}, {XF, 4, 4, 1}),
	B(MPI_2DOUBLE_PRECISION, 8, 16, {XF, 8, 8, 1}, {XF, 8, 8, 1}),
	B(MPI_2COMPLEX, 4, 16, {XF, 4, 4, 2}, {XF, 4, 4, 2}),
	B(MPI_2DOUBLE_COMPLEX, 8, 32, {XF, 8, 8, 2}, {XF, 8, 8, 2}),
	B(MPI_INTEGER1, 1, 1, {XI, 1, 1, 1}),
	B(MPI_INTEGER2, 2, 2, {XI, 2, 2, 1}),
	B(MPI_INTEGER4, 4, 4, {XI, 4, 4, 1}),
	B(MPI_INTEGER8, 8, 8, {XI, 8, 8, 1}),
	B(MPI_INTEGER16, 16, 16, {XI, 16, 16, 1}),
	B(MPI_REAL2, 2, 2, {XF, 2, 2, 1}),
	B(MPI_REAL4, 4, 4, {XF, 4, 4, 1}),
	B(MPI_REAL8, 8, 8, {XF, 8, 8, 1}),
	B(MPI_REAL16, 16, 16, {XF, 16, 16, 1}),     /* IEEE binary128, as Fortran's REAL(16) */
	B(MPI_COMPLEX4, 2, 4, {XF, 2, 2, 2}),
	B(MPI_COMPLEX8, 4, 8, {XF, 4, 4, 2}),
	B(MPI_COMPLEX16, 8, 16, {XF, 8, 8, 2}),
	B(MPI_COMPLEX32, 16, 32, {XF, 16, 16, 2}),
	B(MPI_CXX_BOOL, 1, 1, {XB, 1, 1, 1}),
	B(MPI_CXX_FLOAT_COMPLEX, 4, 8, {XF, 4, 4, 2}),
	B(MPI_CXX_DOUBLE_COMPLEX, 8, 16, {XF, 8, 8, 2}),
	B(MPI_CXX_LONG_DOUBLE_COMPLEX, 16, 32, {XL, 16, 16, 2}),
};
#undef B

static struct dtype btab[TORO_BUILTIN_DATATYPE_COUNT];
static struct blk bblk[TORO_BUILTIN_DATATYPE_COUNT][2];
static bool binit;

static size_t comp_bytes(const struct comp *c) { return (size_t)c->nsize * c->reps; }

static void init_builtin(int i)
{
	const struct bdesc *d = &bdesc[i];
	struct dtype *t = &btab[i];
	size_t len0 = comp_bytes(&d->c[0]), len1 = comp_bytes(&d->c[1]);

	t->handle = d->h;
	t->bi = d;
	t->urefs = 1;
	t->committed = true;
	t->size = len0 + len1;
	t->xsize = (size_t)d->c[0].xsize * d->c[0].reps + (size_t)d->c[1].xsize * d->c[1].reps;
	t->nbasic = (d->c[0].kind != 0) + (d->c[1].kind != 0);
	t->basic = t->size ? d->h : MPI_DATATYPE_NULL;
	t->ub = d->extent;
	t->align = d->align;
	t->has_lb = d->h == MPI_LB;
	t->has_ub = d->h == MPI_UB;
	t->comb = MPI_COMBINER_NAMED;
	t->blk = bblk[i];
	strcpy(t->name, d->name);
	if (len0)
		t->blk[t->nblk++] = (struct blk){0, len0, 1, 0};
	if (len1) {
		/* the second member is aligned to its own size, as in the C struct */
		size_t off = (len0 + d->c[1].nsize - 1) / d->c[1].nsize * d->c[1].nsize;
		if (off == len0)
			t->blk[0].len += len1;
		else
			t->blk[t->nblk++] = (struct blk){(MPI_Aint)off, len1, 1, 0};
		t->tub = (MPI_Aint)(off + len1);
	} else {
		t->tub = (MPI_Aint)len0;
	}
}

static void init_builtins(void)
{
	for (int i = 1; i < TORO_BUILTIN_DATATYPE_COUNT; i++)
		init_builtin(i);
	binit = true;
}

/* ---- the handle table ---- */

enum { ZOMBIES = 64 };         /* freed slots that wait before reuse */
enum { S_DEAD = 1, S_QUEUED = 2 };

static struct dtype **tab;     /* slot -> type; NULL when empty */
static unsigned char *sst;     /* slot state: S_DEAD (freed, unreferenced), S_QUEUED */
static int ntab, captab;
static int *fifo;              /* queued slots, oldest first (a ring of captab) */
static int fhead, fcount;

/* Any type the library may still use: live, or freed but still alive. */
static struct dtype *tget(MPI_Datatype dt)
{
	if (TORO_HANDLE_KIND(dt) != TORO_KIND_DATATYPE)
		return NULL;
	if (TORO_HANDLE_IS_BUILTIN(dt)) {
		int i = dt & TORO_BUILTIN_INDEX_MASK;
		if (!binit)
			init_builtins();
		if (i == 0 || i >= TORO_BUILTIN_DATATYPE_COUNT || btab[i].handle != dt)
			return NULL;
		return &btab[i];
	}
	int i = dt & TORO_HANDLE_INDEX_MASK;
	if (i >= ntab || !tab[i] || tab[i]->handle != dt)
		return NULL;
	return tab[i];
}

/* A type the user may name: not freed. */
static struct dtype *lookup(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	return t && t->urefs > 0 ? t : NULL;
}

static void obj_free(struct dtype *t)
{
	if (!t || t->bi)
		return;
	free(t->blk);
	free(t->ints);
	free(t->aints);
	free(t->types);
	free(t->kids);
	free(t);
}

static void unref(struct dtype *t);

static void kids_release(struct dtype *t)
{
	for (int k = 0; k < t->nt; k++)
		if (!t->kids[k]->bi) {
			t->kids[k]->irefs--;
			unref(t->kids[k]);
		}
	t->nt = 0;
}

/* Called when a reference goes: an unreferenced type waits in its slot. */
static void unref(struct dtype *t)
{
	if (t->bi || t->urefs > 0 || t->irefs > 0 || !t->handle)
		return;
	int i = t->handle & TORO_HANDLE_INDEX_MASK;
	sst[i] |= S_DEAD;
	if (!(sst[i] & S_QUEUED)) {
		sst[i] |= S_QUEUED;
		fifo[(fhead + fcount++) % captab] = i;
	}
}

static void revive(struct dtype *t)
{
	if (!t->bi)
		sst[t->handle & TORO_HANDLE_INDEX_MASK] &= ~S_DEAD;
}

static bool tab_grow(void)
{
	int cap = captab ? 2 * captab : 64;
	if (cap > (int)TORO_HANDLE_INDEX_MASK + 1)
		return false;
	struct dtype **nt = realloc(tab, cap * sizeof *nt);
	if (!nt)
		return false;
	tab = nt;
	unsigned char *ns = realloc(sst, cap);
	if (!ns)
		return false;
	sst = ns;
	int *nf = malloc(cap * sizeof *nf);
	if (!nf)
		return false;
	for (int k = 0; k < fcount; k++)
		nf[k] = fifo[(fhead + k) % captab];
	free(fifo);
	fifo = nf;
	fhead = 0;
	captab = cap;
	return true;
}

/* Empties the oldest freed slot for reuse; -1 if there is none. */
static int pop_dead(void)
{
	while (fcount) {
		int i = fifo[fhead];
		fhead = (fhead + 1) % captab;
		fcount--;
		sst[i] &= ~S_QUEUED;
		if (sst[i] & S_DEAD) {
			struct dtype *t = tab[i];
			tab[i] = NULL;
			sst[i] = 0;
			kids_release(t);
			obj_free(t);
			return i;
		}
	}
	return -1;
}

/* Gives t a handle (one user reference). False when out of memory. */
static bool publish(struct dtype *t, MPI_Datatype *out)
{
	int i = fcount > ZOMBIES ? pop_dead() : -1;
	if (i < 0)
		i = ntab < captab || tab_grow() ? ntab++ : pop_dead();
	if (i < 0)
		return false;
	tab[i] = t;
	sst[i] = 0;
	t->handle = TORO_MAKE_HANDLE(TORO_KIND_DATATYPE, i);
	t->urefs = 1;
	*out = t->handle;
	return true;
}

/* A new user reference to an existing type (Type_get_contents). */
static void addref(struct dtype *t)
{
	if (t->bi)
		return;
	t->urefs++;
	revive(t);
}

/* Keep a type alive while an operation uses it, even if the user frees
 * it meanwhile. Not in impl.h yet (see the report); p2p could use them. */
void dtype_retain(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	if (t && !t->bi) {
		t->irefs++;
		revive(t);
	}
}

void dtype_release(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	if (t && !t->bi && t->irefs > 0) {
		t->irefs--;
		unref(t);
	}
}

/* ---- building the flattened list ---- */

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

static MPI_Aint ext(const struct dtype *t) { return t->ub - t->lb; }

static MPI_Aint amin(MPI_Aint a, MPI_Aint b) { return a < b ? a : b; }
static MPI_Aint amax(MPI_Aint a, MPI_Aint b) { return a > b ? a : b; }

static void blk_push(struct build *b, struct blk k)
{
	struct dtype *t = b->t;
	if (t->nblk == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4;
		struct blk *nb = realloc(t->blk, cap * sizeof *nb);
		if (!nb) {
			b->oom = true;
			return;
		}
		t->blk = nb;
		t->cap = cap;
	}
	t->blk[t->nblk++] = k;
}

/* Appends n blocks of len bytes at off + k * stride, merging them into the
 * last run when they continue it. */
static void blk_add(struct build *b, MPI_Aint off, size_t len, size_t n, MPI_Aint stride)
{
	if (!len || !n)
		return;
	if (n > 1 && stride == (MPI_Aint)len) {
		len *= n;
		n = 1;
	}
	if (n == 1)
		stride = 0;
	if (b->t->nblk) {
		struct blk *l = &b->t->blk[b->t->nblk - 1];
		if (l->n == 1 && n == 1 && off == l->off + (MPI_Aint)l->len) {
			l->len += len;
			return;
		}
		MPI_Aint s = l->n > 1 ? l->stride : off - l->off;
		if (l->len == len && (n == 1 || stride == s) &&
		    off == l->off + (MPI_Aint)l->n * s) {
			l->stride = s;
			l->n += n;
			return;
		}
	}
	blk_push(b, (struct blk){off, len, n, stride});
}

static bool build_start(struct build *b)
{
	*b = (struct build){0};
	b->t = calloc(1, sizeof *b->t);
	if (!b->t)
		return false;
	b->t->basic = MPI_DATATYPE_NULL;
	b->t->align = 1;
	return true;
}

/* Bounds of copies of c lying from lo to hi: markers, data, true bounds. */
static void copy_bounds(struct build *b, const struct dtype *c, MPI_Aint lo, MPI_Aint hi)
{
	struct dtype *t = b->t;
	if (c->has_lb) {
		b->mlb = t->has_lb ? amin(b->mlb, lo + c->lb) : lo + c->lb;
		t->has_lb = true;
	}
	if (c->has_ub) {
		b->mub = t->has_ub ? amax(b->mub, hi + c->ub) : hi + c->ub;
		t->has_ub = true;
	}
	if (c->size) {
		b->plb = b->data ? amin(b->plb, lo + c->lb) : lo + c->lb;
		b->pub = b->data ? amax(b->pub, hi + c->ub) : hi + c->ub;
		t->tlb = b->data ? amin(t->tlb, lo + c->tlb) : lo + c->tlb;
		t->tub = b->data ? amax(t->tub, hi + c->tub) : hi + c->tub;
		b->data = true;
		if (c->align > t->align)
			t->align = c->align;
	}
}

/* Adds n copies of c, the k-th at displacement disp + k * stride. */
static void add_copies(struct build *b, const struct dtype *c, MPI_Aint disp, size_t n, MPI_Aint stride)
{
	struct dtype *t = b->t;

	if (c->basic == MPI_DATATYPE_NULL)
		b->mixed |= c->size > 0;
	else if (!n)
		b->zbasic = c->basic;
	else if (!b->basic)
		b->basic = c->basic;
	else if (c->basic != b->basic)
		b->mixed = true;
	if (!n)
		return;
	MPI_Aint last = disp + (MPI_Aint)(n - 1) * stride;
	copy_bounds(b, c, amin(disp, last), amax(disp, last));
	t->size += n * c->size;
	t->xsize += n * c->xsize;
	t->nbasic += (MPI_Count)n * c->nbasic;
	if (c->nblk == 1 && c->blk[0].n == 1) {
		blk_add(b, disp + c->blk[0].off, c->blk[0].len, n, stride);
		return;
	}
	for (size_t k = 0; k < n && !b->oom; k++)
		for (size_t j = 0; j < c->nblk; j++) {
			const struct blk *e = &c->blk[j];
			blk_add(b, disp + (MPI_Aint)k * stride + e->off, e->len, e->n, e->stride);
		}
}

/* Sets the bounds (4.1.6, 4.1.7). A marker bound wins over the data; a
 * struct without an explicit upper bound is padded so that its extent is
 * a multiple of the largest alignment of its members (the epsilon of
 * 4.1.6), as struct arrays in C are. Returns the type (NULL: no memory). */
static struct dtype *build_end(struct build *b, bool pad)
{
	struct dtype *t = b->t;

	if (b->oom) {
		obj_free(t);
		return NULL;
	}
	t->lb = t->has_lb ? b->mlb : b->data ? b->plb : 0;
	t->ub = t->has_ub ? b->mub : b->data ? b->pub : 0;
	if (pad && !t->has_ub && t->align > 1 && t->ub > t->lb) {
		MPI_Aint r = (t->ub - t->lb) % t->align;
		if (r)
			t->ub += t->align - r;
	}
	t->basic = b->mixed ? MPI_DATATYPE_NULL : b->basic ? b->basic
			  : b->zbasic ? b->zbasic : MPI_DATATYPE_NULL;
	return t;
}

/* Records the constructor; the caller fills ints, aints and types, then
 * calls env_kids. False when out of memory. */
static bool env_alloc(struct dtype *t, int comb, int ni, int na, int nt)
{
	t->comb = comb;
	t->ni = ni;
	t->na = na;
	t->nt = 0;
	t->ints = malloc((ni ? ni : 1) * sizeof *t->ints);
	t->aints = malloc((na ? na : 1) * sizeof *t->aints);
	t->types = malloc((nt ? nt : 1) * sizeof *t->types);
	t->kids = malloc((nt ? nt : 1) * sizeof *t->kids);
	return t->ints && t->aints && t->types && t->kids;
}

static void env_kids(struct dtype *t, int nt)
{
	for (int k = 0; k < nt; k++) {
		t->kids[k] = tget(t->types[k]);
		if (!t->kids[k]->bi)
			t->kids[k]->irefs++;
	}
	t->nt = nt;
}

/* ---- argument checks ---- */

#define ERR(cls, ...) mpi_err(MPI_COMM_WORLD, (cls), fn, __VA_ARGS__)

static int nomem(const char *fn) { return ERR(MPI_ERR_NO_MEM, "out of memory"); }

/* The old type of a constructor, which need not be committed. */
static int get_old(const char *fn, MPI_Datatype dt, struct dtype **t)
{
	*t = lookup(dt);
	if (!*t)
		return ERR(MPI_ERR_TYPE, dt == MPI_DATATYPE_NULL ? "MPI_DATATYPE_NULL as old type"
							    : "invalid old datatype");
	return MPI_SUCCESS;
}

static int check_count(const char *fn, int count)
{
	return count < 0 ? ERR(MPI_ERR_COUNT, "negative count %d", count) : MPI_SUCCESS;
}

static int check_ptr(const char *fn, const void *p, const char *what)
{
	return p ? MPI_SUCCESS : ERR(MPI_ERR_ARG, "%s is NULL", what);
}

/* Common start of a constructor with one old type. */
static int ctor_begin(const char *fn, int count, MPI_Datatype old, MPI_Datatype *newtype,
		      struct dtype **o)
{
	int rc;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if ((rc = check_count(fn, count)) || (rc = get_old(fn, old, o)))
		return rc;
	return check_ptr(fn, newtype, "newtype");
}

static int check_blocklens(const char *fn, int count, const int *bl)
{
	if (count > 0 && !bl)
		return ERR(MPI_ERR_ARG, "array_of_blocklengths is NULL");
	for (int i = 0; i < count; i++)
		if (bl[i] < 0)
			return ERR(MPI_ERR_ARG, "negative block length %d at index %d", bl[i], i);
	return MPI_SUCCESS;
}

/* Gives the finished type t its handle; frees it on failure. */
static int finish(const char *fn, struct dtype *t, MPI_Datatype *newtype)
{
	if (!t)
		return nomem(fn);
	if (!publish(t, newtype)) {
		kids_release(t);
		obj_free(t);
		return nomem(fn);
	}
	return MPI_SUCCESS;
}

/* ---- constructors (4.1.2) ---- */

int MPI_Type_contiguous(int count, MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_contiguous";
	struct dtype *o;
	struct build b;
	int rc = ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc)
		return rc;
	if (!build_start(&b))
		return nomem(fn);
	add_copies(&b, o, 0, (size_t)count, ext(o));
	struct dtype *t = build_end(&b, false);
	if (!t || !env_alloc(t, MPI_COMBINER_CONTIGUOUS, 1, 0, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	t->ints[0] = count;
	t->types[0] = oldtype;
	env_kids(t, 1);
	return finish(fn, t, newtype);
}

/* count blocks of bl old elements, block i at i * stride bytes. */
static struct dtype *make_hvector(int count, int bl, MPI_Aint stride, struct dtype *o)
{
	struct build b;
	if (!build_start(&b))
		return NULL;
	for (int i = 0; i < count && !b.oom; i++)
		add_copies(&b, o, (MPI_Aint)i * stride, (size_t)bl, ext(o));
	return build_end(&b, false);
}

int MPI_Type_vector(int count, int blocklength, int stride, MPI_Datatype oldtype,
		    MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_vector";
	struct dtype *o;
	int rc = ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc)
		return rc;
	if (blocklength < 0)
		return ERR(MPI_ERR_ARG, "negative block length %d", blocklength);
	struct dtype *t = make_hvector(count, blocklength, (MPI_Aint)stride * ext(o), o);
	if (!t || !env_alloc(t, MPI_COMBINER_VECTOR, 3, 0, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	t->ints[0] = count;
	t->ints[1] = blocklength;
	t->ints[2] = stride;
	t->types[0] = oldtype;
	env_kids(t, 1);
	return finish(fn, t, newtype);
}

static int hvector(const char *fn, int count, int blocklength, MPI_Aint stride,
		   MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	struct dtype *o;
	int rc = ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc)
		return rc;
	if (blocklength < 0)
		return ERR(MPI_ERR_ARG, "negative block length %d", blocklength);
	struct dtype *t = make_hvector(count, blocklength, stride, o);
	if (!t || !env_alloc(t, MPI_COMBINER_HVECTOR, 2, 1, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	t->ints[0] = count;
	t->ints[1] = blocklength;
	t->aints[0] = stride;
	t->types[0] = oldtype;
	env_kids(t, 1);
	return finish(fn, t, newtype);
}

int MPI_Type_create_hvector(int count, int blocklength, MPI_Aint stride, MPI_Datatype oldtype,
			    MPI_Datatype *newtype)
{
	return hvector("MPI_Type_create_hvector", count, blocklength, stride, oldtype, newtype);
}

int MPI_Type_hvector(int count, int blocklength, MPI_Aint stride, MPI_Datatype oldtype,
		     MPI_Datatype *newtype)
{
	return hvector("MPI_Type_hvector", count, blocklength, stride, oldtype, newtype);
}

/* Block i: bl[i] (or blen when bl is NULL) old elements at byte
 * displacement disp[i] (MPI_Aint) or idisp[i] * extent (int). */
static struct dtype *make_indexed(int count, const int *bl, int blen, const MPI_Aint *disp,
				  const int *idisp, struct dtype *o)
{
	struct build b;
	if (!build_start(&b))
		return NULL;
	for (int i = 0; i < count && !b.oom; i++) {
		MPI_Aint d = disp ? disp[i] : (MPI_Aint)idisp[i] * ext(o);
		add_copies(&b, o, d, (size_t)(bl ? bl[i] : blen), ext(o));
	}
	return build_end(&b, false);
}

int MPI_Type_indexed(int count, const int array_of_blocklengths[],
		     const int array_of_displacements[], MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_indexed";
	struct dtype *o;
	int rc = ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc || (rc = check_blocklens(fn, count, array_of_blocklengths)))
		return rc;
	if (count > 0 && !array_of_displacements)
		return ERR(MPI_ERR_ARG, "array_of_displacements is NULL");
	struct dtype *t = make_indexed(count, array_of_blocklengths, 0, NULL,
				       array_of_displacements, o);
	if (!t || !env_alloc(t, MPI_COMBINER_INDEXED, 2 * count + 1, 0, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	t->ints[0] = count;
	for (int i = 0; i < count; i++) {
		t->ints[1 + i] = array_of_blocklengths[i];
		t->ints[1 + count + i] = array_of_displacements[i];
	}
	t->types[0] = oldtype;
	env_kids(t, 1);
	return finish(fn, t, newtype);
}

static int hindexed(const char *fn, int count, const int *bl, const MPI_Aint *disp,
		    MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	struct dtype *o;
	int rc = ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc || (rc = check_blocklens(fn, count, bl)))
		return rc;
	if (count > 0 && !disp)
		return ERR(MPI_ERR_ARG, "array_of_displacements is NULL");
	struct dtype *t = make_indexed(count, bl, 0, disp, NULL, o);
	if (!t || !env_alloc(t, MPI_COMBINER_HINDEXED, count + 1, count, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	t->ints[0] = count;
	for (int i = 0; i < count; i++) {
		t->ints[1 + i] = bl[i];
		t->aints[i] = disp[i];
	}
	t->types[0] = oldtype;
	env_kids(t, 1);
	return finish(fn, t, newtype);
}

int MPI_Type_create_hindexed(int count, const int array_of_blocklengths[],
			     const MPI_Aint array_of_displacements[], MPI_Datatype oldtype,
			     MPI_Datatype *newtype)
{
	return hindexed("MPI_Type_create_hindexed", count, array_of_blocklengths,
			array_of_displacements, oldtype, newtype);
}

int MPI_Type_hindexed(int count, int array_of_blocklengths[], MPI_Aint array_of_displacements[],
		      MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	return hindexed("MPI_Type_hindexed", count, array_of_blocklengths,
			array_of_displacements, oldtype, newtype);
}

int MPI_Type_create_indexed_block(int count, int blocklength, const int array_of_displacements[],
				  MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_indexed_block";
	struct dtype *o;
	int rc = ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc)
		return rc;
	if (blocklength < 0)
		return ERR(MPI_ERR_ARG, "negative block length %d", blocklength);
	if (count > 0 && !array_of_displacements)
		return ERR(MPI_ERR_ARG, "array_of_displacements is NULL");
	struct dtype *t = make_indexed(count, NULL, blocklength, NULL, array_of_displacements, o);
	if (!t || !env_alloc(t, MPI_COMBINER_INDEXED_BLOCK, count + 2, 0, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	t->ints[0] = count;
	t->ints[1] = blocklength;
	for (int i = 0; i < count; i++)
		t->ints[2 + i] = array_of_displacements[i];
	t->types[0] = oldtype;
	env_kids(t, 1);
	return finish(fn, t, newtype);
}

int MPI_Type_create_hindexed_block(int count, int blocklength,
				   const MPI_Aint array_of_displacements[], MPI_Datatype oldtype,
				   MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_hindexed_block";
	struct dtype *o;
	int rc = ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc)
		return rc;
	if (blocklength < 0)
		return ERR(MPI_ERR_ARG, "negative block length %d", blocklength);
	if (count > 0 && !array_of_displacements)
		return ERR(MPI_ERR_ARG, "array_of_displacements is NULL");
	struct dtype *t = make_indexed(count, NULL, blocklength, array_of_displacements, NULL, o);
	if (!t || !env_alloc(t, MPI_COMBINER_HINDEXED_BLOCK, 2, count, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	t->ints[0] = count;
	t->ints[1] = blocklength;
	for (int i = 0; i < count; i++)
		t->aints[i] = array_of_displacements[i];
	t->types[0] = oldtype;
	env_kids(t, 1);
	return finish(fn, t, newtype);
}

static int type_struct(const char *fn, int count, const int *bl, const MPI_Aint *disp,
		       const MPI_Datatype *types, MPI_Datatype *newtype)
{
	struct build b;
	int rc;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if ((rc = check_count(fn, count)) || (rc = check_blocklens(fn, count, bl)) ||
	    (rc = check_ptr(fn, newtype, "newtype")))
		return rc;
	if (count > 0 && (!disp || !types))
		return ERR(MPI_ERR_ARG, "%s is NULL",
			   disp ? "array_of_types" : "array_of_displacements");
	for (int i = 0; i < count; i++)
		if (!lookup(types[i]))
			return ERR(MPI_ERR_TYPE, "invalid datatype at index %d", i);
	if (!build_start(&b))
		return nomem(fn);
	for (int i = 0; i < count && !b.oom; i++) {
		struct dtype *c = lookup(types[i]);
		add_copies(&b, c, disp[i], (size_t)bl[i], ext(c));
	}
	struct dtype *t = build_end(&b, true);
	if (!t || !env_alloc(t, MPI_COMBINER_STRUCT, count + 1, count, count)) {
		obj_free(t);
		return nomem(fn);
	}
	t->ints[0] = count;
	for (int i = 0; i < count; i++) {
		t->ints[1 + i] = bl[i];
		t->aints[i] = disp[i];
		t->types[i] = types[i];
	}
	env_kids(t, count);
	return finish(fn, t, newtype);
}

int MPI_Type_create_struct(int count, const int array_of_blocklengths[],
			   const MPI_Aint array_of_displacements[],
			   const MPI_Datatype array_of_types[], MPI_Datatype *newtype)
{
	return type_struct("MPI_Type_create_struct", count, array_of_blocklengths,
			   array_of_displacements, array_of_types, newtype);
}

int MPI_Type_struct(int count, int array_of_blocklengths[], MPI_Aint array_of_displacements[],
		    MPI_Datatype array_of_types[], MPI_Datatype *newtype)
{
	return type_struct("MPI_Type_struct", count, array_of_blocklengths,
			   array_of_displacements, array_of_types, newtype);
}

/* A copy of o's layout with new bounds set as explicit markers (4.1.7). */
static struct dtype *make_resized(const struct dtype *o, MPI_Aint lb, MPI_Aint extent)
{
	struct build b;
	if (!build_start(&b))
		return NULL;
	add_copies(&b, o, 0, 1, 0);
	struct dtype *t = build_end(&b, false);
	if (t) {
		t->has_lb = t->has_ub = true;
		t->lb = lb;
		t->ub = lb + extent;
	}
	return t;
}

int MPI_Type_create_resized(MPI_Datatype oldtype, MPI_Aint lb, MPI_Aint extent,
			    MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_resized";
	struct dtype *o;
	int rc = ctor_begin(fn, 0, oldtype, newtype, &o);
	if (rc)
		return rc;
	struct dtype *t = make_resized(o, lb, extent);
	if (!t || !env_alloc(t, MPI_COMBINER_RESIZED, 0, 2, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	t->aints[0] = lb;
	t->aints[1] = extent;
	t->types[0] = oldtype;
	env_kids(t, 1);
	return finish(fn, t, newtype);
}

/* ---- subarray and darray (4.1.3, 4.1.4) ---- */

/* One dimension of an array of gsize elements of type c: the runs
 * (start[j], len[j]) of elements, as a type of lower bound 0 and extent
 * gsize * extent(c). Frees c when it is a temporary (no handle). */
static struct dtype *make_dim(struct dtype *c, int gsize, int nrun, const int *start,
			      const int *len)
{
	struct build b;
	struct dtype *t = NULL;
	if (build_start(&b)) {
		for (int j = 0; j < nrun && !b.oom; j++)
			add_copies(&b, c, (MPI_Aint)start[j] * ext(c), (size_t)len[j], ext(c));
		t = build_end(&b, false);
	}
	if (t) {
		t->has_lb = t->has_ub = true;
		t->lb = 0;
		t->ub = (MPI_Aint)gsize * ext(c);
	}
	if (!c->handle)
		obj_free(c);
	return t;
}

static int check_order(const char *fn, int order)
{
	if (order != MPI_ORDER_C && order != MPI_ORDER_FORTRAN)
		return ERR(MPI_ERR_ARG, "invalid order %d", order);
	return MPI_SUCCESS;
}

static int subarray_check(const char *fn, int ndims, const int *sizes, const int *subsizes,
			  const int *starts)
{
	if (ndims <= 0)
		return ERR(MPI_ERR_ARG, "ndims %d is not positive", ndims);
	if (!sizes || !subsizes || !starts)
		return ERR(MPI_ERR_ARG, "NULL array argument");
	for (int i = 0; i < ndims; i++) {
		if (sizes[i] < 1)
			return ERR(MPI_ERR_ARG, "array_of_sizes[%d] = %d < 1", i, sizes[i]);
		if (subsizes[i] < 1 || subsizes[i] > sizes[i])
			return ERR(MPI_ERR_ARG, "array_of_subsizes[%d] = %d out of 1..%d", i,
				   subsizes[i], sizes[i]);
		if (starts[i] < 0 || starts[i] > sizes[i] - subsizes[i])
			return ERR(MPI_ERR_ARG, "array_of_starts[%d] = %d out of 0..%d", i,
				   starts[i], sizes[i] - subsizes[i]);
	}
	return MPI_SUCCESS;
}

int MPI_Type_create_subarray(int ndims, const int array_of_sizes[], const int array_of_subsizes[],
			     const int array_of_starts[], int order, MPI_Datatype oldtype,
			     MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_subarray";
	struct dtype *o;
	int rc = ctor_begin(fn, 0, oldtype, newtype, &o);
	if (rc || (rc = subarray_check(fn, ndims, array_of_sizes, array_of_subsizes,
				       array_of_starts)) || (rc = check_order(fn, order)))
		return rc;
	/* the fastest dimension is the last in C order, the first in Fortran's */
	struct dtype *t = o;
	for (int k = 0; k < ndims && t; k++) {
		int d = order == MPI_ORDER_C ? ndims - 1 - k : k;
		t = make_dim(t, array_of_sizes[d], 1, &array_of_starts[d], &array_of_subsizes[d]);
	}
	if (!t || !env_alloc(t, MPI_COMBINER_SUBARRAY, 3 * ndims + 2, 0, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	t->ints[0] = ndims;
	for (int i = 0; i < ndims; i++) {
		t->ints[1 + i] = array_of_sizes[i];
		t->ints[1 + ndims + i] = array_of_subsizes[i];
		t->ints[1 + 2 * ndims + i] = array_of_starts[i];
	}
	t->ints[1 + 3 * ndims] = order;
	t->types[0] = oldtype;
	env_kids(t, 1);
	return finish(fn, t, newtype);
}

/* The runs of dimension d owned by process coordinate r (4.1.4): blocks of
 * darg elements dealt round-robin to psize processes; block distribution
 * is the cyclic one with darg = ceil(gsize / psize). */
static struct dtype *darray_dim(struct dtype *c, int gsize, int distrib, int darg, int psize, int r)
{
	if (distrib == MPI_DISTRIBUTE_NONE) {
		int zero = 0;
		return make_dim(c, gsize, 1, &zero, &gsize);
	}
	if (darg == MPI_DISTRIBUTE_DFLT_DARG)
		darg = distrib == MPI_DISTRIBUTE_BLOCK ? (gsize + psize - 1) / psize : 1;
	int nrun = 0;
	for (long s = (long)r * darg; s < gsize; s += (long)psize * darg)
		nrun++;
	int *start = malloc((nrun ? nrun : 1) * sizeof *start);
	int *len = malloc((nrun ? nrun : 1) * sizeof *len);
	struct dtype *t = NULL;
	if (start && len) {
		int j = 0;
		for (long s = (long)r * darg; s < gsize; s += (long)psize * darg, j++) {
			start[j] = (int)s;
			len[j] = gsize - s < darg ? (int)(gsize - s) : darg;
		}
		t = make_dim(c, gsize, nrun, start, len);
		c = NULL;
	}
	if (c && !c->handle)
		obj_free(c);
	free(start);
	free(len);
	return t;
}

static int darray_check(const char *fn, int size, int rank, int ndims, const int *gsizes,
			const int *distribs, const int *dargs, const int *psizes)
{
	if (size <= 0 || rank < 0 || rank >= size)
		return ERR(MPI_ERR_ARG, "rank %d not in a group of size %d", rank, size);
	if (ndims <= 0)
		return ERR(MPI_ERR_ARG, "ndims %d is not positive", ndims);
	if (!gsizes || !distribs || !dargs || !psizes)
		return ERR(MPI_ERR_ARG, "NULL array argument");
	long procs = 1;
	for (int i = 0; i < ndims; i++) {
		if (gsizes[i] < 1 || psizes[i] < 1)
			return ERR(MPI_ERR_ARG, "dimension %d: gsize %d, psize %d", i, gsizes[i],
				   psizes[i]);
		if (distribs[i] != MPI_DISTRIBUTE_BLOCK && distribs[i] != MPI_DISTRIBUTE_CYCLIC &&
		    distribs[i] != MPI_DISTRIBUTE_NONE)
			return ERR(MPI_ERR_ARG, "invalid distribution %d", distribs[i]);
		if (dargs[i] != MPI_DISTRIBUTE_DFLT_DARG && dargs[i] < 1)
			return ERR(MPI_ERR_ARG, "invalid darg %d", dargs[i]);
		if (distribs[i] == MPI_DISTRIBUTE_BLOCK && dargs[i] != MPI_DISTRIBUTE_DFLT_DARG &&
		    (long)dargs[i] * psizes[i] < gsizes[i])
			return ERR(MPI_ERR_ARG, "block size %d * %d processes < %d elements",
				   dargs[i], psizes[i], gsizes[i]);
		if (distribs[i] == MPI_DISTRIBUTE_NONE && psizes[i] != 1)
			return ERR(MPI_ERR_ARG, "MPI_DISTRIBUTE_NONE with %d processes", psizes[i]);
		procs *= psizes[i];
		if (procs > size)
			break;
	}
	if (procs != size)
		return ERR(MPI_ERR_ARG, "the process grid does not have %d processes", size);
	return MPI_SUCCESS;
}

int MPI_Type_create_darray(int size, int rank, int ndims, const int array_of_gsizes[],
			   const int array_of_distribs[], const int array_of_dargs[],
			   const int array_of_psizes[], int order, MPI_Datatype oldtype,
			   MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_darray";
	struct dtype *o;
	int rc = ctor_begin(fn, 0, oldtype, newtype, &o);
	if (rc || (rc = darray_check(fn, size, rank, ndims, array_of_gsizes, array_of_distribs,
				     array_of_dargs, array_of_psizes)) ||
	    (rc = check_order(fn, order)))
		return rc;
	/* process coordinates: row-major in the grid, whatever the order */
	int *coord = malloc(ndims * sizeof *coord);
	if (!coord)
		return nomem(fn);
	for (int i = ndims - 1, r = rank; i >= 0; i--) {
		coord[i] = r % array_of_psizes[i];
		r /= array_of_psizes[i];
	}
	struct dtype *t = o;
	for (int k = 0; k < ndims && t; k++) {
		int d = order == MPI_ORDER_C ? ndims - 1 - k : k;
		t = darray_dim(t, array_of_gsizes[d], array_of_distribs[d], array_of_dargs[d],
			       array_of_psizes[d], coord[d]);
	}
	free(coord);
	if (!t || !env_alloc(t, MPI_COMBINER_DARRAY, 4 * ndims + 4, 0, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	int *v = t->ints;
	v[0] = size;
	v[1] = rank;
	v[2] = ndims;
	for (int i = 0; i < ndims; i++) {
		v[3 + i] = array_of_gsizes[i];
		v[3 + ndims + i] = array_of_distribs[i];
		v[3 + 2 * ndims + i] = array_of_dargs[i];
		v[3 + 3 * ndims + i] = array_of_psizes[i];
	}
	v[3 + 4 * ndims] = order;
	t->types[0] = oldtype;
	env_kids(t, 1);
	return finish(fn, t, newtype);
}

/* ---- attributes on types (6.7.4) ---- */

/* Type keyvals use indices from KEY_BASE up, apart from comm.c's. */
enum { KEY_BASE = 0x1000000 };
struct tkey {
	MPI_Type_copy_attr_function *copy;
	MPI_Type_delete_attr_function *del;
	void *extra;
	bool live;
};
static struct tkey *keys;
static int nkeys;

static struct tkey *key_get(int keyval)
{
	if (TORO_HANDLE_KIND(keyval) != TORO_KIND_KEYVAL || TORO_HANDLE_IS_BUILTIN(keyval))
		return NULL;
	int i = (keyval & TORO_HANDLE_INDEX_MASK) - KEY_BASE;
	return i >= 0 && i < nkeys && keys[i].live ? &keys[i] : NULL;
}

static struct attr **attr_find(struct dtype *t, int key)
{
	struct attr **p = &t->attrs;
	while (*p && (*p)->key != key)
		p = &(*p)->next;
	return p;
}

/* Deletes one attribute, calling its delete callback. */
static int attr_del(struct dtype *t, struct attr **p)
{
	struct attr *a = *p;
	int i = (a->key & TORO_HANDLE_INDEX_MASK) - KEY_BASE;
	int rc = MPI_SUCCESS;
	if (keys[i].del)
		rc = keys[i].del(t->handle, a->key, a->val, keys[i].extra);
	*p = a->next;
	free(a);
	return rc;
}

int MPI_TYPE_NULL_COPY_FN(MPI_Datatype oldtype, int type_keyval, void *extra_state,
			  void *attribute_val_in, void *attribute_val_out, int *flag)
	__attribute__((weak));
int MPI_TYPE_NULL_COPY_FN(MPI_Datatype oldtype, int type_keyval, void *extra_state,
			  void *attribute_val_in, void *attribute_val_out, int *flag)
{
	(void)oldtype, (void)type_keyval, (void)extra_state, (void)attribute_val_in;
	(void)attribute_val_out;
	*flag = 0;
	return MPI_SUCCESS;
}

int MPI_TYPE_DUP_FN(MPI_Datatype oldtype, int type_keyval, void *extra_state,
		    void *attribute_val_in, void *attribute_val_out, int *flag)
	__attribute__((weak));
int MPI_TYPE_DUP_FN(MPI_Datatype oldtype, int type_keyval, void *extra_state,
		    void *attribute_val_in, void *attribute_val_out, int *flag)
{
	(void)oldtype, (void)type_keyval, (void)extra_state;
	*(void **)attribute_val_out = attribute_val_in;
	*flag = 1;
	return MPI_SUCCESS;
}

int MPI_TYPE_NULL_DELETE_FN(MPI_Datatype datatype, int type_keyval, void *attribute_val,
			    void *extra_state) __attribute__((weak));
int MPI_TYPE_NULL_DELETE_FN(MPI_Datatype datatype, int type_keyval, void *attribute_val,
			    void *extra_state)
{
	(void)datatype, (void)type_keyval, (void)attribute_val, (void)extra_state;
	return MPI_SUCCESS;
}

int MPI_Type_create_keyval(MPI_Type_copy_attr_function *type_copy_attr_fn,
			   MPI_Type_delete_attr_function *type_delete_attr_fn, int *type_keyval,
			   void *extra_state)
{
	static const char fn[] = "MPI_Type_create_keyval";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!type_keyval)
		return ERR(MPI_ERR_ARG, "type_keyval is NULL");
	if (nkeys + KEY_BASE > (int)TORO_HANDLE_INDEX_MASK)
		return ERR(MPI_ERR_KEYVAL, "too many keyvals");
	struct tkey *nk = realloc(keys, (nkeys + 1) * sizeof *nk);
	if (!nk)
		return nomem(fn);
	keys = nk;
	keys[nkeys] = (struct tkey){type_copy_attr_fn, type_delete_attr_fn, extra_state, true};
	*type_keyval = TORO_MAKE_HANDLE(TORO_KIND_KEYVAL, KEY_BASE + nkeys);
	nkeys++;
	return MPI_SUCCESS;
}

/* The keyval stays known to the attributes that use it (their delete
 * callbacks still run); only new uses of it are refused. */
int MPI_Type_free_keyval(int *type_keyval)
{
	static const char fn[] = "MPI_Type_free_keyval";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!type_keyval || !key_get(*type_keyval))
		return ERR(MPI_ERR_KEYVAL, "invalid type keyval");
	key_get(*type_keyval)->live = false;
	*type_keyval = MPI_KEYVAL_INVALID;
	return MPI_SUCCESS;
}

static int attr_begin(const char *fn, MPI_Datatype dt, int keyval, struct dtype **t)
{
	*t = NULL;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!(*t = lookup(dt)))
		return ERR(MPI_ERR_TYPE, "invalid datatype");
	if (!key_get(keyval))
		return ERR(MPI_ERR_KEYVAL, "invalid type keyval");
	return MPI_SUCCESS;
}

int MPI_Type_set_attr(MPI_Datatype datatype, int type_keyval, void *attribute_val)
{
	static const char fn[] = "MPI_Type_set_attr";
	struct dtype *t;
	int rc = attr_begin(fn, datatype, type_keyval, &t);
	if (rc)
		return rc;
	struct attr **p = attr_find(t, type_keyval);
	if (*p && (rc = attr_del(t, p)))
		return mpi_err(MPI_COMM_WORLD, rc, fn, "delete callback failed");
	struct attr *a = malloc(sizeof *a);
	if (!a)
		return nomem(fn);
	*a = (struct attr){type_keyval, attribute_val, t->attrs};
	t->attrs = a;
	return MPI_SUCCESS;
}

int MPI_Type_get_attr(MPI_Datatype datatype, int type_keyval, void *attribute_val, int *flag)
{
	static const char fn[] = "MPI_Type_get_attr";
	struct dtype *t;
	int rc = attr_begin(fn, datatype, type_keyval, &t);
	if (rc)
		return rc;
	if (!attribute_val || !flag)
		return ERR(MPI_ERR_ARG, "NULL output argument");
	struct attr *a = *attr_find(t, type_keyval);
	*flag = a != NULL;
	if (a)
		*(void **)attribute_val = a->val;
	return MPI_SUCCESS;
}

int MPI_Type_delete_attr(MPI_Datatype datatype, int type_keyval)
{
	static const char fn[] = "MPI_Type_delete_attr";
	struct dtype *t;
	int rc = attr_begin(fn, datatype, type_keyval, &t);
	if (rc)
		return rc;
	struct attr **p = attr_find(t, type_keyval);
	if (*p && (rc = attr_del(t, p)))
		return mpi_err(MPI_COMM_WORLD, rc, fn, "delete callback failed");
	return MPI_SUCCESS;
}

/* Copies the attributes of o to t through their copy callbacks (Type_dup). */
static int attrs_copy(const struct dtype *o, struct dtype *t)
{
	for (const struct attr *a = o->attrs; a; a = a->next) {
		struct tkey *k = &keys[(a->key & TORO_HANDLE_INDEX_MASK) - KEY_BASE];
		void *val = NULL;
		int flag = 0, rc;
		if (!k->live || !k->copy)
			continue;
		rc = k->copy(o->handle, a->key, k->extra, a->val, &val, &flag);
		if (rc)
			return rc;
		if (flag) {
			struct attr *n = malloc(sizeof *n);
			if (!n)
				return MPI_ERR_NO_MEM;
			*n = (struct attr){a->key, val, t->attrs};
			t->attrs = n;
		}
	}
	return MPI_SUCCESS;
}

static int attrs_clear(struct dtype *t)
{
	int rc = MPI_SUCCESS;
	while (t->attrs) {
		int r = attr_del(t, &t->attrs);
		if (r && !rc)
			rc = r;
	}
	return rc;
}

/* ---- commit, free, dup ---- */

int MPI_Type_commit(MPI_Datatype *datatype)
{
	static const char fn[] = "MPI_Type_commit";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!datatype)
		return ERR(MPI_ERR_ARG, "datatype is NULL");
	struct dtype *t = lookup(*datatype);
	if (!t)
		return ERR(MPI_ERR_TYPE, "invalid datatype");
	t->committed = true;
	return MPI_SUCCESS;
}

int MPI_Type_free(MPI_Datatype *datatype)
{
	static const char fn[] = "MPI_Type_free";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!datatype)
		return ERR(MPI_ERR_ARG, "datatype is NULL");
	struct dtype *t = lookup(*datatype);
	if (!t)
		return ERR(MPI_ERR_TYPE, "invalid datatype");
	if (t->bi)
		return ERR(MPI_ERR_TYPE, "predefined datatype %s cannot be freed", t->name);
	int rc = t->urefs == 1 ? attrs_clear(t) : MPI_SUCCESS;
	t->urefs--;
	*datatype = MPI_DATATYPE_NULL;
	unref(t);
	if (rc)
		return mpi_err(MPI_COMM_WORLD, rc, fn, "attribute delete callback failed");
	return MPI_SUCCESS;
}

int MPI_Type_dup(MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_dup";
	struct dtype *o;
	int rc = ctor_begin(fn, 0, oldtype, newtype, &o);
	if (rc)
		return rc;
	struct build b;
	if (!build_start(&b))
		return nomem(fn);
	add_copies(&b, o, 0, 1, 0);
	struct dtype *t = build_end(&b, false);
	if (!t || !env_alloc(t, MPI_COMBINER_DUP, 0, 0, 1)) {
		obj_free(t);
		return nomem(fn);
	}
	/* exactly the same properties, committed state included (4.1.10) */
	t->lb = o->lb;
	t->ub = o->ub;
	t->has_lb = o->has_lb;
	t->has_ub = o->has_ub;
	t->align = o->align;
	t->committed = o->committed;
	t->types[0] = oldtype;
	env_kids(t, 1);
	if ((rc = finish(fn, t, newtype)))
		return rc;
	if ((rc = attrs_copy(o, t))) {
		attrs_clear(t);
		t->urefs = 0;
		unref(t);
		*newtype = MPI_DATATYPE_NULL;
		return mpi_err(MPI_COMM_WORLD, rc, fn, "attribute copy callback failed");
	}
	return MPI_SUCCESS;
}

/* ---- queries ---- */

static int query_begin(const char *fn, MPI_Datatype dt, struct dtype **t, const void *out)
{
	*t = NULL;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!(*t = lookup(dt)))
		return ERR(MPI_ERR_TYPE, dt == MPI_DATATYPE_NULL ? "MPI_DATATYPE_NULL"
								 : "invalid datatype");
	return check_ptr(fn, out, "output argument");
}

int MPI_Type_size(MPI_Datatype datatype, int *size)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_size", datatype, &t, size);
	if (rc)
		return rc;
	*size = t->size > INT_MAX ? MPI_UNDEFINED : (int)t->size;
	return MPI_SUCCESS;
}

int MPI_Type_size_x(MPI_Datatype datatype, MPI_Count *size)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_size_x", datatype, &t, size);
	if (rc)
		return rc;
	*size = (MPI_Count)t->size;
	return MPI_SUCCESS;
}

int MPI_Type_get_extent(MPI_Datatype datatype, MPI_Aint *lb, MPI_Aint *extent)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_get_extent", datatype, &t, lb && extent ? lb : NULL);
	if (rc)
		return rc;
	*lb = t->lb;
	*extent = ext(t);
	return MPI_SUCCESS;
}

int MPI_Type_get_extent_x(MPI_Datatype datatype, MPI_Count *lb, MPI_Count *extent)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_get_extent_x", datatype, &t, lb && extent ? lb : NULL);
	if (rc)
		return rc;
	*lb = t->lb;
	*extent = ext(t);
	return MPI_SUCCESS;
}

int MPI_Type_get_true_extent(MPI_Datatype datatype, MPI_Aint *true_lb, MPI_Aint *true_extent)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_get_true_extent", datatype, &t,
			     true_lb && true_extent ? true_lb : NULL);
	if (rc)
		return rc;
	*true_lb = t->tlb;
	*true_extent = t->tub - t->tlb;
	return MPI_SUCCESS;
}

int MPI_Type_get_true_extent_x(MPI_Datatype datatype, MPI_Count *true_lb, MPI_Count *true_extent)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_get_true_extent_x", datatype, &t,
			     true_lb && true_extent ? true_lb : NULL);
	if (rc)
		return rc;
	*true_lb = t->tlb;
	*true_extent = t->tub - t->tlb;
	return MPI_SUCCESS;
}

int MPI_Type_extent(MPI_Datatype datatype, MPI_Aint *extent)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_extent", datatype, &t, extent);
	if (rc)
		return rc;
	*extent = ext(t);
	return MPI_SUCCESS;
}

int MPI_Type_lb(MPI_Datatype datatype, MPI_Aint *displacement)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_lb", datatype, &t, displacement);
	if (rc)
		return rc;
	*displacement = t->lb;
	return MPI_SUCCESS;
}

int MPI_Type_ub(MPI_Datatype datatype, MPI_Aint *displacement)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_ub", datatype, &t, displacement);
	if (rc)
		return rc;
	*displacement = t->ub;
	return MPI_SUCCESS;
}

int MPI_Type_get_name(MPI_Datatype datatype, char *type_name, int *resultlen)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_get_name", datatype, &t,
			     type_name && resultlen ? type_name : NULL);
	if (rc)
		return rc;
	strcpy(type_name, t->name);
	*resultlen = (int)strlen(t->name);
	return MPI_SUCCESS;
}

int MPI_Type_set_name(MPI_Datatype datatype, const char *type_name)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_set_name", datatype, &t, type_name);
	if (rc)
		return rc;
	/* longer names are truncated (6.8) */
	strncpy(t->name, type_name, MPI_MAX_OBJECT_NAME - 1);
	t->name[MPI_MAX_OBJECT_NAME - 1] = '\0';
	return MPI_SUCCESS;
}

int MPI_Type_get_envelope(MPI_Datatype datatype, int *num_integers, int *num_addresses,
			  int *num_datatypes, int *combiner)
{
	struct dtype *t;
	int rc = query_begin("MPI_Type_get_envelope", datatype, &t,
			     num_integers && num_addresses && num_datatypes && combiner ? combiner
											: NULL);
	if (rc)
		return rc;
	*num_integers = t->ni;
	*num_addresses = t->na;
	*num_datatypes = t->nt;
	*combiner = t->comb;
	return MPI_SUCCESS;
}

/* Derived types returned are new references the user frees (4.1.13). */
int MPI_Type_get_contents(MPI_Datatype datatype, int max_integers, int max_addresses,
			  int max_datatypes, int array_of_integers[],
			  MPI_Aint array_of_addresses[], MPI_Datatype array_of_datatypes[])
{
	static const char fn[] = "MPI_Type_get_contents";
	struct dtype *t;
	int rc = query_begin(fn, datatype, &t, "");
	if (rc)
		return rc;
	if (t->bi)
		return ERR(MPI_ERR_TYPE, "%s is a named predefined datatype", t->name);
	if (max_integers < t->ni || max_addresses < t->na || max_datatypes < t->nt)
		return ERR(MPI_ERR_ARG, "arrays too small: need %d, %d and %d entries", t->ni,
			   t->na, t->nt);
	if ((t->ni && !array_of_integers) || (t->na && !array_of_addresses) ||
	    (t->nt && !array_of_datatypes))
		return ERR(MPI_ERR_ARG, "NULL array argument");
	if (t->ni)
		memcpy(array_of_integers, t->ints, t->ni * sizeof *t->ints);
	if (t->na)
		memcpy(array_of_addresses, t->aints, t->na * sizeof *t->aints);
	for (int k = 0; k < t->nt; k++) {
		addref(t->kids[k]);
		array_of_datatypes[k] = t->types[k];
	}
	return MPI_SUCCESS;
}

/* MPI-3.1 17.1.9: a named type of the given class and size. */
int MPI_Type_match_size(int typeclass, int size, MPI_Datatype *datatype)
{
	static const char fn[] = "MPI_Type_match_size";
	static const MPI_Datatype ints[] = {MPI_INTEGER1, MPI_INTEGER2, MPI_INTEGER4,
					    MPI_INTEGER8, MPI_INTEGER16};
	static const MPI_Datatype reals[] = {MPI_REAL4, MPI_REAL8, MPI_LONG_DOUBLE};
	static const MPI_Datatype cplx[] = {MPI_COMPLEX8, MPI_COMPLEX16, MPI_C_LONG_DOUBLE_COMPLEX};
	const MPI_Datatype *v;
	int n;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!datatype)
		return ERR(MPI_ERR_ARG, "datatype is NULL");
	switch (typeclass) {
	case MPI_TYPECLASS_INTEGER: v = ints; n = 5; break;
	case MPI_TYPECLASS_REAL: v = reals; n = 3; break;
	case MPI_TYPECLASS_COMPLEX: v = cplx; n = 3; break;
	default: return ERR(MPI_ERR_ARG, "invalid typeclass %d", typeclass);
	}
	for (int i = 0; i < n; i++)
		if (TORO_BUILTIN_TYPE_SIZE(v[i]) == size) {
			*datatype = v[i];
			return MPI_SUCCESS;
		}
	return ERR(MPI_ERR_ARG, "no type of class %d has size %d", typeclass, size);
}

/* ---- addresses (4.1.5, 4.1.12) ---- */

int MPI_Get_address(const void *location, MPI_Aint *address)
{
	static const char fn[] = "MPI_Get_address";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!address)
		return ERR(MPI_ERR_ARG, "address is NULL");
	*address = (MPI_Aint)(uintptr_t)location;
	return MPI_SUCCESS;
}

int MPI_Address(void *location, MPI_Aint *address)
{
	static const char fn[] = "MPI_Address";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!address)
		return ERR(MPI_ERR_ARG, "address is NULL");
	*address = (MPI_Aint)(uintptr_t)location;
	return MPI_SUCCESS;
}

/* Wrapping arithmetic on addresses, without signed overflow. */
MPI_Aint MPI_Aint_add(MPI_Aint base, MPI_Aint disp)
{
	return (MPI_Aint)((uintptr_t)base + (uintptr_t)disp);
}

MPI_Aint MPI_Aint_diff(MPI_Aint addr1, MPI_Aint addr2)
{
	return (MPI_Aint)((uintptr_t)addr1 - (uintptr_t)addr2);
}

/* Fortran handles are the C handles (17.2.4). */
MPI_Fint MPI_Type_c2f(MPI_Datatype datatype) { return (MPI_Fint)datatype; }
MPI_Datatype MPI_Type_f2c(MPI_Fint datatype) { return (MPI_Datatype)datatype; }

/* ---- the internal interface ---- */

bool dtype_ok(MPI_Datatype dt) { return lookup(dt) != NULL; }

bool dtype_committed(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	return t && t->committed;
}

size_t dtype_size(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	return t ? t->size : 0;
}

MPI_Aint dtype_extent(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	return t ? ext(t) : 0;
}

MPI_Aint dtype_lb(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	return t ? t->lb : 0;
}

MPI_Aint dtype_true_lb(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	return t ? t->tlb : 0;
}

MPI_Aint dtype_true_extent(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	return t ? t->tub - t->tlb : 0;
}

static bool contiguous(const struct dtype *t)
{
	if (!t->size)
		return ext(t) == 0 && t->lb == 0;
	return t->nblk == 1 && t->blk[0].n == 1 && t->blk[0].off == 0 &&
	       t->blk[0].len == t->size && t->lb == 0 && ext(t) == (MPI_Aint)t->size;
}

bool dtype_contiguous(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	return t && contiguous(t);
}

MPI_Datatype dtype_basic(MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	return t ? t->basic : MPI_DATATYPE_NULL;
}

/* buf + off, also for MPI_BOTTOM (NULL) with absolute addresses. */
static char *at(void *buf, MPI_Aint off) { return (char *)((uintptr_t)buf + (uintptr_t)off); }

static void copy(void *d, const void *s, size_t n)
{
	switch (n) {   /* fixed sizes become plain moves */
	case 4: memcpy(d, s, 4); break;
	case 8: memcpy(d, s, 8); break;
	case 16: memcpy(d, s, 16); break;
	default: memcpy(d, s, n);
	}
}

/* One run of blocks at base, to (pack) or from the stream *s, at most
 * `left` bytes of it. Returns the bytes left. */
static size_t walk_run(char *base, const struct blk *b, char **s, size_t left, bool pack)
{
	for (size_t k = 0; k < b->n && left; k++) {
		char *m = at(base, b->off + (MPI_Aint)k * b->stride);
		size_t len = b->len < left ? b->len : left;
		if (pack)
			copy(*s, m, len);
		else
			copy(m, *s, len);
		*s += len;
		left -= len;
	}
	return left;
}

/* count elements of t at buf to (pack) or from the stream s. Element i is
 * at buf + i * extent (4.1.7); its data runs are in type-map order. */
static void walk(void *buf, size_t count, const struct dtype *t, char *s, size_t left, bool pack)
{
	if (!t->size)
		return;
	if (t->nblk == 1 && t->blk[0].n == 1 && (MPI_Aint)t->blk[0].len == ext(t)) {
		size_t len = count * t->size < left ? count * t->size : left;
		char *m = at(buf, t->blk[0].off);
		if (len)
			memcpy(pack ? s : m, pack ? m : s, len);
		return;
	}
	for (size_t i = 0; i < count && left; i++) {
		char *base = at(buf, (MPI_Aint)i * ext(t));
		for (size_t j = 0; j < t->nblk && left; j++)
			left = walk_run(base, &t->blk[j], &s, left, pack);
	}
}

void dtype_pack(const void *buf, size_t count, MPI_Datatype dt, void *packed)
{
	struct dtype *t = tget(dt);
	if (t)
		walk((void *)buf, count, t, packed, SIZE_MAX, true);
}

void dtype_unpack(const void *packed, size_t bytes, void *buf, size_t count, MPI_Datatype dt)
{
	struct dtype *t = tget(dt);
	if (t)
		walk(buf, count, t, (char *)packed, bytes, false);
}

/* ---- Pack and Unpack (4.2) ---- */

static int comm_check(const char *fn, MPI_Comm comm)
{
	return comm_get(comm) ? MPI_SUCCESS : ERR(MPI_ERR_COMM, "invalid communicator");
}

/* Checks of Pack/Unpack: a committed type and a count; errors go to comm
 * once it is known to be valid. */
static int pack_check(const char *fn, MPI_Comm comm, int count, MPI_Datatype dt,
		      const void *position, struct dtype **t)
{
	*t = NULL;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	int rc = comm_check(fn, comm);
	if (rc)
		return rc;
	if (count < 0)
		return mpi_err(comm, MPI_ERR_COUNT, fn, "negative count %d", count);
	if (!(*t = lookup(dt)))
		return mpi_err(comm, MPI_ERR_TYPE, fn, "invalid datatype");
	if (!(*t)->committed)
		return mpi_err(comm, MPI_ERR_TYPE, fn, "datatype not committed");
	if (!position)
		return mpi_err(comm, MPI_ERR_ARG, fn, "position is NULL");
	return MPI_SUCCESS;
}

int MPI_Pack(const void *inbuf, int incount, MPI_Datatype datatype, void *outbuf, int outsize,
	     int *position, MPI_Comm comm)
{
	static const char fn[] = "MPI_Pack";
	struct dtype *t;
	int rc = pack_check(fn, comm, incount, datatype, position, &t);
	if (rc)
		return rc;
	size_t need = (size_t)incount * t->size;
	if (*position < 0 || outsize < *position || need > (size_t)(outsize - *position))
		return mpi_err(comm, MPI_ERR_TRUNCATE, fn,
			       "%zu bytes do not fit at position %d of a buffer of %d", need,
			       *position, outsize);
	walk((void *)inbuf, (size_t)incount, t, (char *)outbuf + *position, need, true);
	*position += (int)need;
	return MPI_SUCCESS;
}

int MPI_Unpack(const void *inbuf, int insize, int *position, void *outbuf, int outcount,
	       MPI_Datatype datatype, MPI_Comm comm)
{
	static const char fn[] = "MPI_Unpack";
	struct dtype *t;
	int rc = pack_check(fn, comm, outcount, datatype, position, &t);
	if (rc)
		return rc;
	size_t need = (size_t)outcount * t->size;
	if (*position < 0 || insize < *position || need > (size_t)(insize - *position))
		return mpi_err(comm, MPI_ERR_TRUNCATE, fn,
			       "%zu bytes wanted at position %d of a buffer of %d", need,
			       *position, insize);
	walk(outbuf, (size_t)outcount, t, (char *)inbuf + *position, need, false);
	*position += (int)need;
	return MPI_SUCCESS;
}

int MPI_Pack_size(int incount, MPI_Datatype datatype, MPI_Comm comm, int *size)
{
	static const char fn[] = "MPI_Pack_size";
	struct dtype *t;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	int rc = comm_check(fn, comm);
	if (rc)
		return rc;
	if (incount < 0)
		return mpi_err(comm, MPI_ERR_COUNT, fn, "negative count %d", incount);
	if (!(t = lookup(datatype)))
		return mpi_err(comm, MPI_ERR_TYPE, fn, "invalid datatype");
	if (!size)
		return mpi_err(comm, MPI_ERR_ARG, fn, "size is NULL");
	size_t need = (size_t)incount * t->size;
	if (need > INT_MAX)
		return mpi_err(comm, MPI_ERR_COUNT, fn, "%zu bytes do not fit in an int", need);
	*size = (int)need;
	return MPI_SUCCESS;
}

/* ---- external32 (13.5.2): big-endian, fixed sizes ---- */

/* One value from native (little-endian, n bytes) to external32 (x bytes,
 * big-endian); longs are cut to 4 bytes and wchar_t to 2 (table 13.2). */
static void x_out(const struct comp *c, const unsigned char *in, unsigned char *out)
{
	if (c->kind == XB) {
		memcpy(out, in, c->nsize);
	} else if (c->kind == XL) {
		/* x87 80-bit to IEEE binary128: same sign, exponent and bias;
		 * the explicit integer bit goes, the fraction moves up. */
		uint64_t m, hi, lo;
		uint16_t se;
		memcpy(&m, in, 8);
		memcpy(&se, in + 8, 2);
		m &= ~(1ull << 63);
		hi = (uint64_t)se << 48 | m >> 15;
		lo = m << 49;
		for (int i = 0; i < 8; i++) {
			out[i] = (unsigned char)(hi >> (56 - 8 * i));
			out[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
		}
	} else {
		for (int i = 0; i < c->xsize; i++)
			out[i] = in[c->xsize - 1 - i];
	}
}

static void x_in(const struct comp *c, const unsigned char *in, unsigned char *out)
{
	if (c->kind == XB) {
		memcpy(out, in, c->nsize);
	} else if (c->kind == XL) {
		uint64_t hi = 0, lo = 0, m;
		for (int i = 0; i < 8; i++) {
			hi = hi << 8 | in[i];
			lo = lo << 8 | in[8 + i];
		}
		uint16_t se = (uint16_t)(hi >> 48);
		m = (hi << 15 | lo >> 49) & ~(1ull << 63);
		if (se & 0x7fff)
			m |= 1ull << 63;   /* normal numbers, infinities, NaNs */
		memset(out, 0, 16);
		memcpy(out, &m, 8);
		memcpy(out + 8, &se, 2);
	} else {
		unsigned char fill = c->kind == XI && (in[0] & 0x80) ? 0xff : 0;
		for (int i = 0; i < c->nsize; i++)
			out[i] = i < c->xsize ? in[c->xsize - 1 - i] : fill;
	}
}

/* n elements of t from one packed stream to the other: native to
 * external32 (out) or back, following the basic elements in type-map
 * order through the constructors. */
static void xwalk(const struct dtype *t, const unsigned char **in, unsigned char **o, size_t n,
		  bool out)
{
	if (t->bi) {
		for (size_t e = 0; e < n; e++)
			for (int k = 0; k < 2; k++) {
				const struct comp *c = &t->bi->c[k];
				for (int r = 0; c->kind && r < c->reps; r++) {
					(out ? x_out : x_in)(c, *in, *o);
					*in += out ? c->nsize : c->xsize;
					*o += out ? c->xsize : c->nsize;
				}
			}
		return;
	}
	if (t->comb == MPI_COMBINER_STRUCT) {
		for (size_t e = 0; e < n; e++)
			for (int i = 0; i < t->ints[0]; i++)
				xwalk(t->kids[i], in, o, (size_t)t->ints[1 + i], out);
		return;
	}
	/* the other constructors repeat one old type */
	const struct dtype *k = t->kids[0];
	if (k->size)
		xwalk(k, in, o, n * (t->size / k->size), out);
}

static int datarep_check(const char *fn, const char *datarep)
{
	if (!datarep)
		return ERR(MPI_ERR_ARG, "datarep is NULL");
	if (strcmp(datarep, "external32"))
		return ERR(MPI_ERR_UNSUPPORTED_DATAREP, "data representation \"%s\"", datarep);
	return MPI_SUCCESS;
}

static int xpack_check(const char *fn, const char *datarep, int count, MPI_Datatype dt,
		       const void *position, struct dtype **t)
{
	*t = NULL;
	int rc;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if ((rc = datarep_check(fn, datarep)) || (rc = check_count(fn, count)))
		return rc;
	if (!(*t = lookup(dt)))
		return ERR(MPI_ERR_TYPE, "invalid datatype");
	if (!(*t)->committed)
		return ERR(MPI_ERR_TYPE, "datatype not committed");
	return check_ptr(fn, position, "position");
}

int MPI_Pack_external(const char datarep[], const void *inbuf, int incount,
		      MPI_Datatype datatype, void *outbuf, MPI_Aint outsize, MPI_Aint *position)
{
	static const char fn[] = "MPI_Pack_external";
	struct dtype *t;
	int rc = xpack_check(fn, datarep, incount, datatype, position, &t);
	if (rc)
		return rc;
	size_t need = (size_t)incount * t->xsize;
	if (*position < 0 || outsize < *position || need > (size_t)(outsize - *position))
		return ERR(MPI_ERR_TRUNCATE, "%zu bytes do not fit at position %ld of %ld", need,
			   (long)*position, (long)outsize);
	unsigned char *tmp = malloc(incount * t->size + 1);
	if (!tmp)
		return nomem(fn);
	const unsigned char *in = tmp;
	unsigned char *o = (unsigned char *)outbuf + *position;
	walk((void *)inbuf, (size_t)incount, t, (char *)tmp, SIZE_MAX, true);
	xwalk(t, &in, &o, (size_t)incount, true);
	free(tmp);
	*position += (MPI_Aint)need;
	return MPI_SUCCESS;
}

int MPI_Unpack_external(const char datarep[], const void *inbuf, MPI_Aint insize,
			MPI_Aint *position, void *outbuf, int outcount, MPI_Datatype datatype)
{
	static const char fn[] = "MPI_Unpack_external";
	struct dtype *t;
	int rc = xpack_check(fn, datarep, outcount, datatype, position, &t);
	if (rc)
		return rc;
	size_t need = (size_t)outcount * t->xsize;
	if (*position < 0 || insize < *position || need > (size_t)(insize - *position))
		return ERR(MPI_ERR_TRUNCATE, "%zu bytes wanted at position %ld of %ld", need,
			   (long)*position, (long)insize);
	unsigned char *tmp = malloc(outcount * t->size + 1);
	if (!tmp)
		return nomem(fn);
	const unsigned char *in = (const unsigned char *)inbuf + *position;
	unsigned char *o = tmp;
	xwalk(t, &in, &o, (size_t)outcount, false);
	walk(outbuf, (size_t)outcount, t, (char *)tmp, SIZE_MAX, false);
	free(tmp);
	*position += (MPI_Aint)need;
	return MPI_SUCCESS;
}

int MPI_Pack_external_size(const char datarep[], int incount, MPI_Datatype datatype,
			   MPI_Aint *size)
{
	static const char fn[] = "MPI_Pack_external_size";
	struct dtype *t;
	int rc;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if ((rc = datarep_check(fn, datarep)) || (rc = check_count(fn, incount)))
		return rc;
	if (!(t = lookup(datatype)))
		return ERR(MPI_ERR_TYPE, "invalid datatype");
	if ((rc = check_ptr(fn, size, "size")))
		return rc;
	*size = (MPI_Aint)((size_t)incount * t->xsize);
	return MPI_SUCCESS;
}

/* ---- counts in a status (3.2.5, 4.1.11, 12.3) ---- */

/* Basic elements among the first `bytes` (< size) bytes of an element's
 * packed data: the complete ones only. */
static MPI_Count elems_in(const struct dtype *t, size_t bytes)
{
	if (bytes >= t->size)
		return t->nbasic;
	if (t->bi)
		return t->nbasic == 2 && bytes >= comp_bytes(&t->bi->c[0]);
	if (t->comb == MPI_COMBINER_STRUCT) {
		MPI_Count n = 0;
		for (int i = 0; i < t->ints[0]; i++) {
			const struct dtype *c = t->kids[i];
			size_t blk = (size_t)t->ints[1 + i] * c->size;
			if (bytes < blk)
				return n + (MPI_Count)(bytes / c->size) * c->nbasic +
				       elems_in(c, bytes % c->size);
			n += (MPI_Count)t->ints[1 + i] * c->nbasic;
			bytes -= blk;
		}
		return n;
	}
	const struct dtype *c = t->kids[0];
	return (MPI_Count)(bytes / c->size) * c->nbasic + elems_in(c, bytes % c->size);
}

/* The inverse: bytes of packed data that hold the first k (< nbasic)
 * basic elements of an element. */
static size_t elem_bytes(const struct dtype *t, MPI_Count k)
{
	if (k >= t->nbasic)
		return t->size;
	if (t->bi)
		return k ? comp_bytes(&t->bi->c[0]) : 0;
	if (t->comb == MPI_COMBINER_STRUCT) {
		size_t bytes = 0;
		for (int i = 0; i < t->ints[0]; i++) {
			const struct dtype *c = t->kids[i];
			MPI_Count blk = (MPI_Count)t->ints[1 + i] * c->nbasic;
			if (k < blk)
				return bytes + (size_t)(k / c->nbasic) * c->size +
				       elem_bytes(c, k % c->nbasic);
			bytes += (size_t)t->ints[1 + i] * c->size;
			k -= blk;
		}
		return bytes;
	}
	const struct dtype *c = t->kids[0];
	return (size_t)(k / c->nbasic) * c->size + elem_bytes(c, k % c->nbasic);
}

static int status_check(const char *fn, const MPI_Status *st, MPI_Datatype dt, const void *out,
			struct dtype **t)
{
	*t = NULL;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!st || st == MPI_STATUS_IGNORE)
		return ERR(MPI_ERR_ARG, "invalid status");
	if (!(*t = lookup(dt)))
		return ERR(MPI_ERR_TYPE, "invalid datatype");
	return check_ptr(fn, out, "output argument");
}

int MPI_Get_count(const MPI_Status *status, MPI_Datatype datatype, int *count)
{
	struct dtype *t;
	int rc = status_check("MPI_Get_count", status, datatype, count, &t);
	if (rc)
		return rc;
	int64_t bytes = status_bytes(status);
	if (!t->size)
		*count = 0;     /* 3.2.5: a type of size zero gives a count of zero */
	else if (bytes % t->size || bytes / t->size > INT_MAX)
		*count = MPI_UNDEFINED;
	else
		*count = (int)(bytes / t->size);
	return MPI_SUCCESS;
}

/* Basic elements in a status; MPI_UNDEFINED when the data ends inside one. */
static MPI_Count status_elems(const MPI_Status *st, const struct dtype *t)
{
	size_t bytes = (size_t)status_bytes(st);
	if (!t->size)
		return 0;
	size_t rem = bytes % t->size;
	MPI_Count n = (MPI_Count)(bytes / t->size) * t->nbasic + elems_in(t, rem);
	if (elem_bytes(t, n % t->nbasic) != rem)
		return MPI_UNDEFINED;
	return n;
}

int MPI_Get_elements(const MPI_Status *status, MPI_Datatype datatype, int *count)
{
	struct dtype *t;
	int rc = status_check("MPI_Get_elements", status, datatype, count, &t);
	if (rc)
		return rc;
	MPI_Count n = status_elems(status, t);
	*count = n > INT_MAX ? MPI_UNDEFINED : (int)n;
	return MPI_SUCCESS;
}

int MPI_Get_elements_x(const MPI_Status *status, MPI_Datatype datatype, MPI_Count *count)
{
	struct dtype *t;
	int rc = status_check("MPI_Get_elements_x", status, datatype, count, &t);
	if (rc)
		return rc;
	*count = status_elems(status, t);
	return MPI_SUCCESS;
}

static int set_elements(const char *fn, MPI_Status *st, MPI_Datatype dt, MPI_Count count)
{
	struct dtype *t;
	int rc = status_check(fn, st, dt, "", &t);
	if (rc)
		return rc;
	if (count < 0)
		return ERR(MPI_ERR_COUNT, "negative count %lld", (long long)count);
	if (!t->nbasic && count)
		return ERR(MPI_ERR_COUNT, "count %lld of a type without data", (long long)count);
	int64_t bytes = 0;
	if (t->nbasic)
		bytes = (int64_t)((size_t)(count / t->nbasic) * t->size +
				  elem_bytes(t, count % t->nbasic));
	/* keep the cancelled flag: bit 0 of count_hi_and_cancelled (mpi.h) */
	status_set(st, st->MPI_SOURCE, st->MPI_TAG, st->MPI_ERROR, bytes,
		   st->count_hi_and_cancelled & 1);
	return MPI_SUCCESS;
}

int MPI_Status_set_elements(MPI_Status *status, MPI_Datatype datatype, int count)
{
	return set_elements("MPI_Status_set_elements", status, datatype, count);
}

int MPI_Status_set_elements_x(MPI_Status *status, MPI_Datatype datatype, MPI_Count count)
{
	return set_elements("MPI_Status_set_elements_x", status, datatype, count);
}
