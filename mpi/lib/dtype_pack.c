/* Datatypes: the pack engine (dtype_pack/dtype_unpack of impl.h), MPI_Pack
 * and MPI_Unpack (4.2), and the "external32" representation (13.5.2). */
#include "check.h"
#include "datatype.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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
void dt_walk(void *buf, size_t count, const struct dtype *t, char *s, size_t left, bool pack)
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
	struct dtype *t = dt_get(dt);
	if (t)
		dt_walk((void *)buf, count, t, packed, SIZE_MAX, true);
}

void dtype_unpack(const void *packed, size_t bytes, void *buf, size_t count, MPI_Datatype dt)
{
	struct dtype *t = dt_get(dt);
	if (t)
		dt_walk(buf, count, t, (char *)packed, bytes, false);
}

/* ---- Pack and Unpack (4.2) ---- */

/* Checks of Pack/Unpack: a committed type and a count; errors go to comm
 * once it is known to be valid. */
static int pack_check(const char *fn, MPI_Comm comm, int count, MPI_Datatype dt,
		      const void *position, struct dtype **t)
{
	*t = NULL;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	struct comm *c;
	int rc;
	if ((rc = check_comm(comm, fn, &c)) || (rc = check_type(c, fn, "", count, dt)) ||
	    (rc = check_arg(c, fn, position, "position")))
		return rc;
	*t = dt_lookup(dt);
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
	dt_walk((void *)inbuf, (size_t)incount, t, (char *)outbuf + *position, need, true);
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
	dt_walk(outbuf, (size_t)outcount, t, (char *)inbuf + *position, need, false);
	*position += (int)need;
	return MPI_SUCCESS;
}

int MPI_Pack_size(int incount, MPI_Datatype datatype, MPI_Comm comm, int *size)
{
	static const char fn[] = "MPI_Pack_size";
	struct dtype *t;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	struct comm *c;
	int rc;
	if ((rc = check_comm(comm, fn, &c)) || (rc = check_count(c, fn, "", incount)))
		return rc;
	if (!(t = dt_lookup(datatype)))   /* committed or not */
		return mpi_err(comm, MPI_ERR_TYPE, fn, "invalid datatype");
	if ((rc = check_arg(c, fn, size, "size")))
		return rc;
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
	if ((rc = datarep_check(fn, datarep)) || (rc = check_type(NULL, fn, "", count, dt)) ||
	    (rc = check_arg(NULL, fn, position, "position")))
		return rc;
	*t = dt_lookup(dt);
	return MPI_SUCCESS;
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
		return dt_nomem(fn);
	const unsigned char *in = tmp;
	unsigned char *o = (unsigned char *)outbuf + *position;
	dt_walk((void *)inbuf, (size_t)incount, t, (char *)tmp, SIZE_MAX, true);
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
		return dt_nomem(fn);
	const unsigned char *in = (const unsigned char *)inbuf + *position;
	unsigned char *o = tmp;
	xwalk(t, &in, &o, (size_t)outcount, false);
	dt_walk(outbuf, (size_t)outcount, t, (char *)tmp, SIZE_MAX, false);
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
	if ((rc = datarep_check(fn, datarep)) || (rc = check_count(NULL, fn, "", incount)))
		return rc;
	if (!(t = dt_lookup(datatype)))
		return ERR(MPI_ERR_TYPE, "invalid datatype");
	if ((rc = check_arg(NULL, fn, size, "size")))
		return rc;
	*size = (MPI_Aint)((size_t)incount * t->xsize);
	return MPI_SUCCESS;
}
