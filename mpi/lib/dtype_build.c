/* Datatypes: building the flattened list (datatype.h) and the
 * constructors of MPI-3.1 4.1.2, resized (4.1.7) and dup (4.1.10). */
#include "check.h"
#include "datatype.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>



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

bool dt_build_start(struct build *b)
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
void dt_add_copies(struct build *b, const struct dtype *c, MPI_Aint disp, size_t n, MPI_Aint stride)
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
struct dtype *dt_build_end(struct build *b, bool pad)
{
	struct dtype *t = b->t;

	if (b->oom) {
		dt_obj_free(t);
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
bool dt_env_alloc(struct dtype *t, int comb, int ni, int na, int nt)
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

void dt_env_kids(struct dtype *t, int nt)
{
	for (int k = 0; k < nt; k++) {
		t->kids[k] = dt_get(t->types[k]);
		if (!t->kids[k]->bi)
			t->kids[k]->irefs++;
	}
	t->nt = nt;
}

/* ---- argument checks ---- */

int dt_nomem(const char *fn) { return ERR(MPI_ERR_NO_MEM, "out of memory"); }

/* The old type of a constructor, which need not be committed. */
int dt_get_old(const char *fn, MPI_Datatype dt, struct dtype **t)
{
	*t = dt_lookup(dt);
	if (!*t)
		return ERR(MPI_ERR_TYPE, dt == MPI_DATATYPE_NULL ? "MPI_DATATYPE_NULL as old type"
							    : "invalid old datatype");
	return MPI_SUCCESS;
}

/* Common start of a constructor with one old type. */
int dt_ctor_begin(const char *fn, int count, MPI_Datatype old, MPI_Datatype *newtype,
		      struct dtype **o)
{
	int rc;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if ((rc = check_count(NULL, fn, "", count)) || (rc = dt_get_old(fn, old, o)))
		return rc;
	return check_arg(NULL, fn, newtype, "newtype");
}

int dt_check_blocklens(const char *fn, int count, const int *bl)
{
	if (count > 0 && !bl)
		return ERR(MPI_ERR_ARG, "array_of_blocklengths is NULL");
	for (int i = 0; i < count; i++)
		if (bl[i] < 0)
			return ERR(MPI_ERR_ARG, "negative block length %d at index %d", bl[i], i);
	return MPI_SUCCESS;
}

/* Gives the finished type t its handle; frees it on failure. */
int dt_finish(const char *fn, struct dtype *t, MPI_Datatype *newtype)
{
	if (!t)
		return dt_nomem(fn);
	if (!dt_publish(t, newtype)) {
		dt_kids_release(t);
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	return MPI_SUCCESS;
}

/* ---- constructors (4.1.2) ---- */

int MPI_Type_contiguous(int count, MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_contiguous";
	struct dtype *o;
	struct build b;
	int rc = dt_ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc)
		return rc;
	if (!dt_build_start(&b))
		return dt_nomem(fn);
	dt_add_copies(&b, o, 0, (size_t)count, ext(o));
	struct dtype *t = dt_build_end(&b, false);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_CONTIGUOUS, 1, 0, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	t->ints[0] = count;
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	return dt_finish(fn, t, newtype);
}

/* count blocks of bl old elements, block i at i * stride bytes. */
static struct dtype *make_hvector(int count, int bl, MPI_Aint stride, struct dtype *o)
{
	struct build b;
	if (!dt_build_start(&b))
		return NULL;
	for (int i = 0; i < count && !b.oom; i++)
		dt_add_copies(&b, o, (MPI_Aint)i * stride, (size_t)bl, ext(o));
	return dt_build_end(&b, false);
}

int MPI_Type_vector(int count, int blocklength, int stride, MPI_Datatype oldtype,
		    MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_vector";
	struct dtype *o;
	int rc = dt_ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc)
		return rc;
	if (blocklength < 0)
		return ERR(MPI_ERR_ARG, "negative block length %d", blocklength);
	struct dtype *t = make_hvector(count, blocklength, (MPI_Aint)stride * ext(o), o);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_VECTOR, 3, 0, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	t->ints[0] = count;
	t->ints[1] = blocklength;
	t->ints[2] = stride;
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	return dt_finish(fn, t, newtype);
}

static int hvector(const char *fn, int count, int blocklength, MPI_Aint stride,
		   MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	struct dtype *o;
	int rc = dt_ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc)
		return rc;
	if (blocklength < 0)
		return ERR(MPI_ERR_ARG, "negative block length %d", blocklength);
	struct dtype *t = make_hvector(count, blocklength, stride, o);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_HVECTOR, 2, 1, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	t->ints[0] = count;
	t->ints[1] = blocklength;
	t->aints[0] = stride;
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	return dt_finish(fn, t, newtype);
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
	if (!dt_build_start(&b))
		return NULL;
	for (int i = 0; i < count && !b.oom; i++) {
		MPI_Aint d = disp ? disp[i] : (MPI_Aint)idisp[i] * ext(o);
		dt_add_copies(&b, o, d, (size_t)(bl ? bl[i] : blen), ext(o));
	}
	return dt_build_end(&b, false);
}

int MPI_Type_indexed(int count, const int array_of_blocklengths[],
		     const int array_of_displacements[], MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_indexed";
	struct dtype *o;
	int rc = dt_ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc || (rc = dt_check_blocklens(fn, count, array_of_blocklengths)))
		return rc;
	if (count > 0 && !array_of_displacements)
		return ERR(MPI_ERR_ARG, "array_of_displacements is NULL");
	struct dtype *t = make_indexed(count, array_of_blocklengths, 0, NULL,
				       array_of_displacements, o);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_INDEXED, 2 * count + 1, 0, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	t->ints[0] = count;
	for (int i = 0; i < count; i++) {
		t->ints[1 + i] = array_of_blocklengths[i];
		t->ints[1 + count + i] = array_of_displacements[i];
	}
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	return dt_finish(fn, t, newtype);
}

static int hindexed(const char *fn, int count, const int *bl, const MPI_Aint *disp,
		    MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	struct dtype *o;
	int rc = dt_ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc || (rc = dt_check_blocklens(fn, count, bl)))
		return rc;
	if (count > 0 && !disp)
		return ERR(MPI_ERR_ARG, "array_of_displacements is NULL");
	struct dtype *t = make_indexed(count, bl, 0, disp, NULL, o);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_HINDEXED, count + 1, count, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	t->ints[0] = count;
	for (int i = 0; i < count; i++) {
		t->ints[1 + i] = bl[i];
		t->aints[i] = disp[i];
	}
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	return dt_finish(fn, t, newtype);
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
	int rc = dt_ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc)
		return rc;
	if (blocklength < 0)
		return ERR(MPI_ERR_ARG, "negative block length %d", blocklength);
	if (count > 0 && !array_of_displacements)
		return ERR(MPI_ERR_ARG, "array_of_displacements is NULL");
	struct dtype *t = make_indexed(count, NULL, blocklength, NULL, array_of_displacements, o);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_INDEXED_BLOCK, count + 2, 0, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	t->ints[0] = count;
	t->ints[1] = blocklength;
	for (int i = 0; i < count; i++)
		t->ints[2 + i] = array_of_displacements[i];
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	return dt_finish(fn, t, newtype);
}

int MPI_Type_create_hindexed_block(int count, int blocklength,
				   const MPI_Aint array_of_displacements[], MPI_Datatype oldtype,
				   MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_hindexed_block";
	struct dtype *o;
	int rc = dt_ctor_begin(fn, count, oldtype, newtype, &o);
	if (rc)
		return rc;
	if (blocklength < 0)
		return ERR(MPI_ERR_ARG, "negative block length %d", blocklength);
	if (count > 0 && !array_of_displacements)
		return ERR(MPI_ERR_ARG, "array_of_displacements is NULL");
	struct dtype *t = make_indexed(count, NULL, blocklength, array_of_displacements, NULL, o);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_HINDEXED_BLOCK, 2, count, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	t->ints[0] = count;
	t->ints[1] = blocklength;
	for (int i = 0; i < count; i++)
		t->aints[i] = array_of_displacements[i];
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	return dt_finish(fn, t, newtype);
}

static int type_struct(const char *fn, int count, const int *bl, const MPI_Aint *disp,
		       const MPI_Datatype *types, MPI_Datatype *newtype)
{
	struct build b;
	int rc;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if ((rc = check_count(NULL, fn, "", count)) || (rc = dt_check_blocklens(fn, count, bl)) ||
	    (rc = check_arg(NULL, fn, newtype, "newtype")))
		return rc;
	if (count > 0 && (!disp || !types))
		return ERR(MPI_ERR_ARG, "%s is NULL",
			   disp ? "array_of_types" : "array_of_displacements");
	for (int i = 0; i < count; i++)
		if (!dt_lookup(types[i]))
			return ERR(MPI_ERR_TYPE, "invalid datatype at index %d", i);
	if (!dt_build_start(&b))
		return dt_nomem(fn);
	for (int i = 0; i < count && !b.oom; i++) {
		struct dtype *c = dt_lookup(types[i]);
		dt_add_copies(&b, c, disp[i], (size_t)bl[i], ext(c));
	}
	struct dtype *t = dt_build_end(&b, true);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_STRUCT, count + 1, count, count)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	t->ints[0] = count;
	for (int i = 0; i < count; i++) {
		t->ints[1 + i] = bl[i];
		t->aints[i] = disp[i];
		t->types[i] = types[i];
	}
	dt_env_kids(t, count);
	return dt_finish(fn, t, newtype);
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
	if (!dt_build_start(&b))
		return NULL;
	dt_add_copies(&b, o, 0, 1, 0);
	struct dtype *t = dt_build_end(&b, false);
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
	int rc = dt_ctor_begin(fn, 0, oldtype, newtype, &o);
	if (rc)
		return rc;
	struct dtype *t = make_resized(o, lb, extent);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_RESIZED, 0, 2, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	t->aints[0] = lb;
	t->aints[1] = extent;
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	return dt_finish(fn, t, newtype);
}

int MPI_Type_dup(MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_dup";
	struct dtype *o;
	int rc = dt_ctor_begin(fn, 0, oldtype, newtype, &o);
	if (rc)
		return rc;
	struct build b;
	if (!dt_build_start(&b))
		return dt_nomem(fn);
	dt_add_copies(&b, o, 0, 1, 0);
	struct dtype *t = dt_build_end(&b, false);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_DUP, 0, 0, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	/* exactly the same properties, committed state included (4.1.10) */
	t->lb = o->lb;
	t->ub = o->ub;
	t->has_lb = o->has_lb;
	t->has_ub = o->has_ub;
	t->align = o->align;
	t->committed = o->committed;
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	if ((rc = dt_finish(fn, t, newtype)))
		return rc;
	if ((rc = attrs_copy(ATTR_TYPE, o->handle, o->attrs, &t->attrs))) {
		attrs_clear(ATTR_TYPE, t->handle, &t->attrs);
		t->urefs = 0;
		dt_unref(t);
		*newtype = MPI_DATATYPE_NULL;
		return mpi_err(MPI_COMM_WORLD, rc, fn, "attribute copy callback failed");
	}
	return MPI_SUCCESS;
}
