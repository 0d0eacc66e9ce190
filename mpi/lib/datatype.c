/* Datatypes (MPI-3.1 chapter 4): handles and the predefined types; commit
 * and free; the internal interface of impl.h (dtype_size, ...). The
 * representation is datatype.h's; the other datatype files are
 *   dtype_build.c  flattening and the constructors of 4.1.2, Type_dup
 *   dtype_array.c  subarray and darray (4.1.3, 4.1.4)
 *   dtype_pack.c   the pack engine, Pack/Unpack (4.2), external32 (13.5.2)
 *   dtype_query.c  queries, addresses, Get_count/Get_elements
 * Their attributes are attr.c's.
 *
 * Handles: builtins carry their index and size (mpi.h); derived types are
 * TORO_MAKE_HANDLE(TORO_KIND_DATATYPE, slot). A freed type whose slot is
 * still referenced (by a type built from it, or dtype_retain) stays alive;
 * an unreferenced one stays in its slot until the slot is reused, oldest
 * freed slot first and only once ZOMBIES slots wait, so an operation
 * already started with it still finds it (MPI-3.1 4.1.9). */
#include "datatype.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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
struct dtype *dt_get(MPI_Datatype dt)
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
struct dtype *dt_lookup(MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	return t && t->urefs > 0 ? t : NULL;
}

void dt_obj_free(struct dtype *t)
{
	if (!t || t->bi)
		return;
	free(t->blk);
	free(t->ints);
	free(t->aints);
	free(t->types);
	free(t->kids);
	attrs_free(&t->attrs);
	free(t);
}

void dt_unref(struct dtype *t);

void dt_kids_release(struct dtype *t)
{
	for (int k = 0; k < t->nt; k++)
		if (!t->kids[k]->bi) {
			t->kids[k]->irefs--;
			dt_unref(t->kids[k]);
		}
	t->nt = 0;
}

/* Called when a reference goes: an unreferenced type waits in its slot. */
void dt_unref(struct dtype *t)
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
			dt_kids_release(t);
			dt_obj_free(t);
			return i;
		}
	}
	return -1;
}

/* Gives t a handle (one user reference). False when out of memory. */
bool dt_publish(struct dtype *t, MPI_Datatype *out)
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
void dt_addref(struct dtype *t)
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
	struct dtype *t = dt_get(dt);
	if (t && !t->bi) {
		t->irefs++;
		revive(t);
	}
}

void dtype_release(MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	if (t && !t->bi && t->irefs > 0) {
		t->irefs--;
		dt_unref(t);
	}
}

/* ---- commit, free, dup ---- */

int MPI_Type_commit(MPI_Datatype *datatype)
{
	static const char fn[] = "MPI_Type_commit";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!datatype)
		return ERR(MPI_ERR_ARG, "datatype is NULL");
	struct dtype *t = dt_lookup(*datatype);
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
	struct dtype *t = dt_lookup(*datatype);
	if (!t)
		return ERR(MPI_ERR_TYPE, "invalid datatype");
	if (t->bi)
		return ERR(MPI_ERR_TYPE, "predefined datatype %s cannot be freed", t->name);
	int rc = t->urefs == 1 ? attrs_clear(ATTR_TYPE, t->handle, &t->attrs) : MPI_SUCCESS;
	t->urefs--;
	*datatype = MPI_DATATYPE_NULL;
	dt_unref(t);
	if (rc)
		return mpi_err(MPI_COMM_WORLD, rc, fn, "attribute delete callback failed");
	return MPI_SUCCESS;
}

/* ---- the internal interface ---- */

bool dtype_ok(MPI_Datatype dt) { return dt_lookup(dt) != NULL; }

void **dtype_attrs(MPI_Datatype dt)
{
	struct dtype *t = dt_lookup(dt);
	return t ? &t->attrs : NULL;
}

bool dtype_committed(MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	return t && t->committed;
}

size_t dtype_size(MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	return t ? t->size : 0;
}

MPI_Aint dtype_extent(MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	return t ? ext(t) : 0;
}

MPI_Aint dtype_lb(MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	return t ? t->lb : 0;
}

MPI_Aint dtype_true_lb(MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	return t ? t->tlb : 0;
}

MPI_Aint dtype_true_extent(MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	return t ? t->tub - t->tlb : 0;
}

static bool contiguous(const struct dtype *t)
{
	if (!t->size)
		return ext(t) == 0 && t->lb == 0;
	return t->nblk == 1 && t->blk[0].n == 1 && t->blk[0].off == 0 &&
	       t->blk[0].len == t->size && t->lb == 0 && ext(t) == (MPI_Aint)t->size;
}

void dtype_view(MPI_Datatype dt, struct dtype_view *v)
{
	struct dtype *t = dt_get(dt);
	if (!t) {
		*v = (struct dtype_view){0, 0, true, false};
		return;
	}
	*v = (struct dtype_view){t->size, t->tlb, contiguous(t), t->committed};
}

bool dtype_contiguous(MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	return t && contiguous(t);
}

MPI_Datatype dtype_basic(MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	return t ? t->basic : MPI_DATATYPE_NULL;
}
