/* Datatypes: queries (size, extent, name, envelope and contents,
 * match_size), addresses, Fortran handles and the counts in a status
 * (MPI-3.1 3.2.5, 4.1.5, 4.1.8, 4.1.11, 4.1.13, 12.3). */
#include "check.h"
#include "datatype.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- queries ---- */

static int query_begin(const char *fn, MPI_Datatype dt, struct dtype **t, const void *out)
{
	*t = NULL;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!(*t = dt_lookup(dt)))
		return ERR(MPI_ERR_TYPE, dt == MPI_DATATYPE_NULL ? "MPI_DATATYPE_NULL"
								 : "invalid datatype");
	return check_arg(NULL, fn, out, "output argument");
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
		dt_addref(t->kids[k]);
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
	if (!(*t = dt_lookup(dt)))
		return ERR(MPI_ERR_TYPE, "invalid datatype");
	return check_arg(NULL, fn, out, "output argument");
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
