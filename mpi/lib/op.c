/* Reduction operations (MPI-3.1 5.9): the predefined ones on the types the
 * standard allows them on (5.9.2, 5.9.4), MPI_REPLACE and MPI_NO_OP
 * (11.3.4), and user operations (5.9.5).
 *
 * A predefined op runs a loop over the C type of the datatype's basic
 * elements. A derived datatype whose basic elements are all of one
 * predefined type is reduced element by element: directly when its data
 * is contiguous, else through packed copies of both buffers. */
#include "impl.h"
#include <stdlib.h>
#include <string.h>

/* ---- which types each op is defined on (5.9.2) ---- */

/* The C type a basic element is reduced as. */
enum {
	C_NONE, C_I8, C_U8, C_I16, C_U16, C_I32, C_U32, C_I64, C_U64, C_I128,
	C_F32, C_F64, C_F80, C_CF32, C_CF64, C_CF80,
	C_FLOAT_INT, C_DOUBLE_INT, C_LONG_INT, C_SHORT_INT, C_2INT, C_LONG_DOUBLE_INT,
	C_2FLOAT, C_2DOUBLE, C_COUNT
};

/* The groups of 5.9.2 (G_MULTI: MPI_AINT, MPI_OFFSET, MPI_COUNT), and
 * G_PAIR for the MINLOC/MAXLOC types of 5.9.4. */
enum { G_NONE, G_CINT, G_FINT, G_MULTI, G_FLOAT, G_COMPLEX, G_LOGICAL, G_BYTE, G_PAIR };

struct tinfo {
	unsigned char ctype, group;
};

/* 5.9.2 lists MPI_CHAR and MPI_WCHAR under no op, but Open MPI and MPICH
 * reduce them as the C integers char (signed on x86-64) and wchar_t (a
 * 32-bit int), and the OSU Micro-Benchmarks 7.x reduce MPI_CHAR with
 * MPI_SUM: Toro accepts them with the integer ops too. MPI_CHARACTER
 * (Fortran) takes only MPI_REPLACE and MPI_NO_OP. MPI_C_BOOL and
 * MPI_LOGICAL are reduced as integers, but only the logical ops are
 * allowed. */
#define T(h, c, g) [(h) & TORO_BUILTIN_INDEX_MASK] = {c, g}
static const struct tinfo tinfo[TORO_BUILTIN_DATATYPE_COUNT] = {
	T(MPI_CHAR, C_I8, G_CINT),
	T(MPI_WCHAR, C_I32, G_CINT),
	T(MPI_SIGNED_CHAR, C_I8, G_CINT),
	T(MPI_UNSIGNED_CHAR, C_U8, G_CINT),
	T(MPI_BYTE, C_U8, G_BYTE),
	T(MPI_SHORT, C_I16, G_CINT),
	T(MPI_UNSIGNED_SHORT, C_U16, G_CINT),
	T(MPI_INT, C_I32, G_CINT),
	T(MPI_UNSIGNED, C_U32, G_CINT),
	T(MPI_LONG, C_I64, G_CINT),
	T(MPI_UNSIGNED_LONG, C_U64, G_CINT),
	T(MPI_LONG_LONG_INT, C_I64, G_CINT),
	T(MPI_UNSIGNED_LONG_LONG, C_U64, G_CINT),
	T(MPI_FLOAT, C_F32, G_FLOAT),
	T(MPI_DOUBLE, C_F64, G_FLOAT),
	T(MPI_LONG_DOUBLE, C_F80, G_FLOAT),
	T(MPI_FLOAT_INT, C_FLOAT_INT, G_PAIR),
	T(MPI_DOUBLE_INT, C_DOUBLE_INT, G_PAIR),
	T(MPI_LONG_INT, C_LONG_INT, G_PAIR),
	T(MPI_SHORT_INT, C_SHORT_INT, G_PAIR),
	T(MPI_2INT, C_2INT, G_PAIR),
	T(MPI_LONG_DOUBLE_INT, C_LONG_DOUBLE_INT, G_PAIR),
	T(MPI_C_BOOL, C_U8, G_LOGICAL),
	T(MPI_INT8_T, C_I8, G_CINT),
	T(MPI_INT16_T, C_I16, G_CINT),
	T(MPI_INT32_T, C_I32, G_CINT),
	T(MPI_INT64_T, C_I64, G_CINT),
	T(MPI_UINT8_T, C_U8, G_CINT),
	T(MPI_UINT16_T, C_U16, G_CINT),
	T(MPI_UINT32_T, C_U32, G_CINT),
	T(MPI_UINT64_T, C_U64, G_CINT),
	T(MPI_C_FLOAT_COMPLEX, C_CF32, G_COMPLEX),
	T(MPI_C_DOUBLE_COMPLEX, C_CF64, G_COMPLEX),
	T(MPI_C_LONG_DOUBLE_COMPLEX, C_CF80, G_COMPLEX),
	T(MPI_AINT, C_I64, G_MULTI),
	T(MPI_OFFSET, C_I64, G_MULTI),
	T(MPI_COUNT, C_I64, G_MULTI),
	T(MPI_LOGICAL, C_I32, G_LOGICAL),
	T(MPI_INTEGER, C_I32, G_FINT),
	T(MPI_REAL, C_F32, G_FLOAT),
	T(MPI_DOUBLE_PRECISION, C_F64, G_FLOAT),
	T(MPI_COMPLEX, C_CF32, G_COMPLEX),
	T(MPI_DOUBLE_COMPLEX, C_CF64, G_COMPLEX),
	T(MPI_2INTEGER, C_2INT, G_PAIR),
	T(MPI_2REAL, C_2FLOAT, G_PAIR),
	T(MPI_2DOUBLE_PRECISION, C_2DOUBLE, G_PAIR),
	T(MPI_INTEGER1, C_I8, G_FINT),
	T(MPI_INTEGER2, C_I16, G_FINT),
	T(MPI_INTEGER4, C_I32, G_FINT),
	T(MPI_INTEGER8, C_I64, G_FINT),
	T(MPI_INTEGER16, C_I128, G_FINT),
	T(MPI_REAL4, C_F32, G_FLOAT),
	T(MPI_REAL8, C_F64, G_FLOAT),
	T(MPI_COMPLEX8, C_CF32, G_COMPLEX),
	T(MPI_COMPLEX16, C_CF64, G_COMPLEX),
	T(MPI_CXX_BOOL, C_U8, G_LOGICAL),
	T(MPI_CXX_FLOAT_COMPLEX, C_CF32, G_COMPLEX),
	T(MPI_CXX_DOUBLE_COMPLEX, C_CF64, G_COMPLEX),
	T(MPI_CXX_LONG_DOUBLE_COMPLEX, C_CF80, G_COMPLEX),
};
#undef T

#define G(g) (1u << (g))
/* The groups each predefined op (by handle index) is defined on. */
static const unsigned short groups_of[TORO_BUILTIN_OP_COUNT] = {
	[MPI_MAX & 0xff] = G(G_CINT) | G(G_FINT) | G(G_MULTI) | G(G_FLOAT),
	[MPI_MIN & 0xff] = G(G_CINT) | G(G_FINT) | G(G_MULTI) | G(G_FLOAT),
	[MPI_SUM & 0xff] = G(G_CINT) | G(G_FINT) | G(G_MULTI) | G(G_FLOAT) | G(G_COMPLEX),
	[MPI_PROD & 0xff] = G(G_CINT) | G(G_FINT) | G(G_MULTI) | G(G_FLOAT) | G(G_COMPLEX),
	[MPI_LAND & 0xff] = G(G_CINT) | G(G_LOGICAL),
	[MPI_LOR & 0xff] = G(G_CINT) | G(G_LOGICAL),
	[MPI_LXOR & 0xff] = G(G_CINT) | G(G_LOGICAL),
	[MPI_BAND & 0xff] = G(G_CINT) | G(G_FINT) | G(G_MULTI) | G(G_BYTE),
	[MPI_BOR & 0xff] = G(G_CINT) | G(G_FINT) | G(G_MULTI) | G(G_BYTE),
	[MPI_BXOR & 0xff] = G(G_CINT) | G(G_FINT) | G(G_MULTI) | G(G_BYTE),
	[MPI_MINLOC & 0xff] = G(G_PAIR),
	[MPI_MAXLOC & 0xff] = G(G_PAIR),
};
#undef G

/* ---- the loops: inout[i] = in[i] op inout[i] ---- */

typedef void kernel(MPI_Op op, const void *in, void *inout, size_t n);

#define EACH(stmt) for (size_t i = 0; i < n; i++) { stmt; }

/* Integers; sums and products wrap, computed in the unsigned type W. */
#define INT_KERNEL(name, T, W)                                                   \
	static void name(MPI_Op op, const void *in, void *inout, size_t n)       \
	{                                                                        \
		const T *a = in;                                                 \
		T *b = inout;                                                    \
		switch (op) {                                                    \
		case MPI_MAX: EACH(if (a[i] > b[i]) b[i] = a[i]) break;          \
		case MPI_MIN: EACH(if (a[i] < b[i]) b[i] = a[i]) break;          \
		case MPI_SUM: EACH(b[i] = (T)((W)a[i] + (W)b[i])) break;         \
		case MPI_PROD: EACH(b[i] = (T)((W)a[i] * (W)b[i])) break;        \
		case MPI_LAND: EACH(b[i] = a[i] && b[i]) break;                  \
		case MPI_LOR: EACH(b[i] = a[i] || b[i]) break;                   \
		case MPI_LXOR: EACH(b[i] = !a[i] != !b[i]) break;                \
		case MPI_BAND: EACH(b[i] = a[i] & b[i]) break;                   \
		case MPI_BOR: EACH(b[i] = a[i] | b[i]) break;                    \
		case MPI_BXOR: EACH(b[i] = a[i] ^ b[i]) break;                   \
		}                                                                \
	}

typedef unsigned long long ull;
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;
INT_KERNEL(k_i8, int8_t, ull)
INT_KERNEL(k_u8, uint8_t, ull)
INT_KERNEL(k_i16, int16_t, ull)
INT_KERNEL(k_u16, uint16_t, ull)
INT_KERNEL(k_i32, int32_t, ull)
INT_KERNEL(k_u32, uint32_t, ull)
INT_KERNEL(k_i64, int64_t, ull)
INT_KERNEL(k_u64, uint64_t, ull)
INT_KERNEL(k_i128, i128, u128)

#define FLOAT_KERNEL(name, T)                                                    \
	static void name(MPI_Op op, const void *in, void *inout, size_t n)       \
	{                                                                        \
		const T *a = in;                                                 \
		T *b = inout;                                                    \
		switch (op) {                                                    \
		case MPI_MAX: EACH(if (a[i] > b[i]) b[i] = a[i]) break;          \
		case MPI_MIN: EACH(if (a[i] < b[i]) b[i] = a[i]) break;          \
		case MPI_SUM: EACH(b[i] = a[i] + b[i]) break;                    \
		case MPI_PROD: EACH(b[i] = a[i] * b[i]) break;                   \
		}                                                                \
	}

FLOAT_KERNEL(k_f32, float)
FLOAT_KERNEL(k_f64, double)
FLOAT_KERNEL(k_f80, long double)

/* Complex numbers as (re, im) pairs, the layout of C's _Complex. */
#define COMPLEX_KERNEL(name, T)                                                  \
	struct name##_c {                                                        \
		T re, im;                                                        \
	};                                                                       \
	static void name(MPI_Op op, const void *in, void *inout, size_t n)       \
	{                                                                        \
		const struct name##_c *a = in;                                   \
		struct name##_c *b = inout;                                      \
		for (size_t i = 0; i < n; i++) {                                 \
			struct name##_c x = a[i], y = b[i];                      \
			if (op == MPI_SUM) {                                     \
				b[i].re = x.re + y.re;                           \
				b[i].im = x.im + y.im;                           \
			} else {                                                 \
				b[i].re = x.re * y.re - x.im * y.im;             \
				b[i].im = x.re * y.im + x.im * y.re;             \
			}                                                        \
		}                                                                \
	}

COMPLEX_KERNEL(k_cf32, float)
COMPLEX_KERNEL(k_cf64, double)
COMPLEX_KERNEL(k_cf80, long double)

/* (value, index) pairs, laid out as the C struct (5.9.4). The result is
 * the larger (MAXLOC) or smaller (MINLOC) value; on a tie, the smaller
 * index. */
#define PAIR_KERNEL(name, V, I)                                                  \
	struct name##_pair {                                                     \
		V v;                                                             \
		I i;                                                             \
	};                                                                       \
	static void name(MPI_Op op, const void *in, void *inout, size_t n)       \
	{                                                                        \
		const struct name##_pair *a = in;                                \
		struct name##_pair *b = inout;                                   \
		bool max = op == MPI_MAXLOC;                                     \
		for (size_t i = 0; i < n; i++) {                                 \
			bool take = max ? a[i].v > b[i].v : a[i].v < b[i].v;     \
			if (take || (a[i].v == b[i].v && a[i].i < b[i].i)) {     \
				b[i].v = a[i].v;                                 \
				b[i].i = a[i].i;                                 \
			}                                                        \
		}                                                                \
	}

PAIR_KERNEL(k_float_int, float, int)
PAIR_KERNEL(k_double_int, double, int)
PAIR_KERNEL(k_long_int, long, int)
PAIR_KERNEL(k_short_int, short, int)
PAIR_KERNEL(k_2int, int, int)
PAIR_KERNEL(k_long_double_int, long double, int)
PAIR_KERNEL(k_2float, float, float)
PAIR_KERNEL(k_2double, double, double)

static kernel *const kernels[C_COUNT] = {
	[C_I8] = k_i8, [C_U8] = k_u8, [C_I16] = k_i16, [C_U16] = k_u16,
	[C_I32] = k_i32, [C_U32] = k_u32, [C_I64] = k_i64, [C_U64] = k_u64,
	[C_I128] = k_i128, [C_F32] = k_f32, [C_F64] = k_f64, [C_F80] = k_f80,
	[C_CF32] = k_cf32, [C_CF64] = k_cf64, [C_CF80] = k_cf80,
	[C_FLOAT_INT] = k_float_int, [C_DOUBLE_INT] = k_double_int,
	[C_LONG_INT] = k_long_int, [C_SHORT_INT] = k_short_int, [C_2INT] = k_2int,
	[C_LONG_DOUBLE_INT] = k_long_double_int, [C_2FLOAT] = k_2float,
	[C_2DOUBLE] = k_2double,
};

/* ---- user operations ---- */

struct uop {
	MPI_User_function *fn;  /* NULL: free slot */
	bool commute;
};
static struct uop *uops;
static int nuops;

static struct uop *uop_get(MPI_Op op)
{
	if (TORO_HANDLE_KIND(op) != TORO_KIND_OP || TORO_HANDLE_IS_BUILTIN(op))
		return NULL;
	int i = op & TORO_HANDLE_INDEX_MASK;
	return i < nuops && uops[i].fn ? &uops[i] : NULL;
}

static bool builtin_op(MPI_Op op)
{
	int i = op & TORO_BUILTIN_INDEX_MASK;
	return i > 0 && i < TORO_BUILTIN_OP_COUNT && op == TORO_MAKE_BUILTIN(TORO_KIND_OP, i);
}

/* The loop of a predefined op on basic type b; NULL if op is not defined on it. */
static kernel *kernel_for(MPI_Op op, MPI_Datatype b)
{
	if (TORO_HANDLE_KIND(b) != TORO_KIND_DATATYPE || !TORO_HANDLE_IS_BUILTIN(b))
		return NULL;
	const struct tinfo *ti = &tinfo[b & TORO_BUILTIN_INDEX_MASK];
	if (!(groups_of[op & TORO_BUILTIN_INDEX_MASK] & (1u << ti->group)) || ti->group == G_NONE)
		return NULL;
	return kernels[ti->ctype];
}

/* ---- the internal interface ---- */

bool op_ok(MPI_Op op)
{
	return builtin_op(op) || uop_get(op) != NULL;
}

bool op_commutative(MPI_Op op)
{
	struct uop *u = uop_get(op);
	return u ? u->commute : true;   /* every predefined op commutes */
}

int op_check(MPI_Op op, MPI_Datatype dt)
{
	if (!op_ok(op))
		return MPI_ERR_OP;
	if (!builtin_op(op) || op == MPI_REPLACE || op == MPI_NO_OP)
		return MPI_SUCCESS;
	return kernel_for(op, dtype_basic(dt)) ? MPI_SUCCESS : MPI_ERR_OP;
}

/* Pair types are packed without their padding: moves n packed elements
 * (value, int) of bs bytes at p to their C layout, be bytes apart
 * (spread), or back. The buffer holds n * be bytes. */
static void pairs_layout(char *p, size_t n, size_t bs, size_t be, bool spread)
{
	size_t vs = bs - sizeof(int), ioff = (vs + 3) & ~(size_t)3;
	if (spread) {
		for (size_t j = n; j-- > 0;) {
			memmove(p + j * be + ioff, p + j * bs + vs, sizeof(int));
			memmove(p + j * be, p + j * bs, vs);
		}
	} else {
		for (size_t j = 0; j < n; j++) {
			memmove(p + j * bs, p + j * be, vs);
			memmove(p + j * bs + vs, p + j * be + ioff, sizeof(int));
		}
	}
}

/* A non-contiguous datatype: reduces packed copies, unpacks the result. */
static int apply_packed(MPI_Op op, kernel *k, const void *in, void *inout, int count,
			MPI_Datatype dt, MPI_Datatype b)
{
	size_t bytes = (size_t)count * dtype_size(dt);
	size_t bs = dtype_size(b), be = (size_t)dtype_extent(b), n = bytes / bs;
	char *pa = malloc(n * be + 1), *pb = malloc(n * be + 1);
	if (!pa || !pb) {
		free(pa);
		free(pb);
		return MPI_ERR_NO_MEM;
	}
	dtype_pack(in, (size_t)count, dt, pa);
	dtype_pack(inout, (size_t)count, dt, pb);
	if (be != bs) {
		pairs_layout(pa, n, bs, be, true);
		pairs_layout(pb, n, bs, be, true);
	}
	k(op, pa, pb, n);
	if (be != bs)
		pairs_layout(pb, n, bs, be, false);
	dtype_unpack(pb, bytes, inout, (size_t)count, dt);
	free(pa);
	free(pb);
	return MPI_SUCCESS;
}

/* MPI_REPLACE: inout takes the data of in, leaving the gaps alone. */
static int replace(const void *in, void *inout, int count, MPI_Datatype dt)
{
	size_t bytes = (size_t)count * dtype_size(dt);
	if (dtype_contiguous(dt)) {
		memmove(inout, in, bytes);
		return MPI_SUCCESS;
	}
	char *p = malloc(bytes + 1);
	if (!p)
		return MPI_ERR_NO_MEM;
	dtype_pack(in, (size_t)count, dt, p);
	dtype_unpack(p, bytes, inout, (size_t)count, dt);
	free(p);
	return MPI_SUCCESS;
}

int op_apply(MPI_Op op, const void *in, void *inout, int count, MPI_Datatype dt)
{
	struct uop *u = uop_get(op);
	if (u) {
		/* 5.9.5: the user function gets the datatype the call was given */
		int len = count;
		MPI_Datatype type = dt;
		u->fn((void *)in, inout, &len, &type);
		return MPI_SUCCESS;
	}
	if (!builtin_op(op))
		return MPI_ERR_OP;
	if (op == MPI_NO_OP || count <= 0)
		return MPI_SUCCESS;
	if (op == MPI_REPLACE)
		return replace(in, inout, count, dt);
	MPI_Datatype b = dtype_basic(dt);
	kernel *k = kernel_for(op, b);
	if (!k)
		return MPI_ERR_OP;
	if (b == dt) {
		k(op, in, inout, (size_t)count);
	} else if (dtype_contiguous(dt)) {
		/* whole elements of b, back to back (b's extent is its size here) */
		k(op, in, inout, (size_t)count * dtype_size(dt) / dtype_size(b));
	} else {
		return apply_packed(op, k, in, inout, count, dt, b);
	}
	return MPI_SUCCESS;
}

/* ---- the MPI functions ---- */

/* Fortran handles are the C handles (17.2.4). */
MPI_Fint MPI_Op_c2f(MPI_Op op) { return (MPI_Fint)op; }
MPI_Op MPI_Op_f2c(MPI_Fint op) { return (MPI_Op)op; }

int MPI_Op_create(MPI_User_function *user_fn, int commute, MPI_Op *op)
{
	static const char fn[] = "MPI_Op_create";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!user_fn || !op)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "%s is NULL",
			       user_fn ? "op" : "user_fn");
	int i = 0;
	while (i < nuops && uops[i].fn)
		i++;
	if (i == nuops) {
		if (nuops > (int)TORO_HANDLE_INDEX_MASK)
			return mpi_err(MPI_COMM_WORLD, MPI_ERR_INTERN, fn, "too many operations");
		struct uop *n = realloc(uops, (nuops + 1) * sizeof *n);
		if (!n)
			return mpi_err(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
		uops = n;
		nuops++;
	}
	uops[i] = (struct uop){user_fn, commute != 0};
	*op = TORO_MAKE_HANDLE(TORO_KIND_OP, i);
	return MPI_SUCCESS;
}

int MPI_Op_free(MPI_Op *op)
{
	static const char fn[] = "MPI_Op_free";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!op)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "op is NULL");
	if (builtin_op(*op))
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_OP, fn, "a predefined operation cannot be freed");
	struct uop *u = uop_get(*op);
	if (!u)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_OP, fn, "invalid operation");
	u->fn = NULL;
	*op = MPI_OP_NULL;
	return MPI_SUCCESS;
}

int MPI_Op_commutative(MPI_Op op, int *commute)
{
	static const char fn[] = "MPI_Op_commutative";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!op_ok(op))
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_OP, fn, "invalid operation");
	if (!commute)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "commute is NULL");
	*commute = op_commutative(op);
	return MPI_SUCCESS;
}

int MPI_Reduce_local(const void *inbuf, void *inoutbuf, int count, MPI_Datatype datatype,
		     MPI_Op op)
{
	static const char fn[] = "MPI_Reduce_local";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (count < 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_COUNT, fn, "negative count %d", count);
	if (!dtype_ok(datatype))
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_TYPE, fn, "invalid datatype");
	if (!dtype_committed(datatype))
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_TYPE, fn, "datatype not committed");
	if (!op_ok(op))
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_OP, fn, "invalid operation");
	if (op_check(op, datatype))
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_OP, fn,
			       "operation not defined for this datatype");
	if (inbuf == MPI_IN_PLACE || inoutbuf == MPI_IN_PLACE)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_BUFFER, fn, "MPI_IN_PLACE is not allowed");
	int rc = op_apply(op, inbuf, inoutbuf, count, datatype);
	if (rc)
		return mpi_err(MPI_COMM_WORLD, rc, fn, "reduction failed");
	return MPI_SUCCESS;
}
