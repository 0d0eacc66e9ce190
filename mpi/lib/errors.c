/* Error classes, codes and strings; error handlers; mpi_err(), the one
 * place where the library reports an error (MPI-3.1 sections 8.3-8.5).
 *
 * Error handlers are integer handles: MPI_ERRORS_ARE_FATAL and
 * MPI_ERRORS_RETURN are builtin, the ones made by MPI_Comm_create_errhandler
 * index a table here. Which handler a communicator has is its `errh` field
 * (struct comm, comm.c). Codes and classes added by MPI_Add_error_class/code
 * take the values after MPI_ERR_LASTCODE, one counter for both.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "impl.h"

/* ---- the predefined classes (MPI-3.1 table 8.7; 14.3.9 for MPI_T) ---- */

static const struct {
	const char *name, *text;
} classes[MPI_ERR_LASTCODE + 1] = {
	[MPI_SUCCESS] = {"MPI_SUCCESS", "no errors"},
	[MPI_ERR_BUFFER] = {"MPI_ERR_BUFFER", "invalid buffer pointer"},
	[MPI_ERR_COUNT] = {"MPI_ERR_COUNT", "invalid count argument"},
	[MPI_ERR_TYPE] = {"MPI_ERR_TYPE", "invalid datatype"},
	[MPI_ERR_TAG] = {"MPI_ERR_TAG", "invalid tag"},
	[MPI_ERR_COMM] = {"MPI_ERR_COMM", "invalid communicator"},
	[MPI_ERR_RANK] = {"MPI_ERR_RANK", "invalid rank"},
	[MPI_ERR_REQUEST] = {"MPI_ERR_REQUEST", "invalid request (handle)"},
	[MPI_ERR_ROOT] = {"MPI_ERR_ROOT", "invalid root"},
	[MPI_ERR_GROUP] = {"MPI_ERR_GROUP", "invalid group"},
	[MPI_ERR_OP] = {"MPI_ERR_OP", "invalid operation"},
	[MPI_ERR_TOPOLOGY] = {"MPI_ERR_TOPOLOGY", "invalid topology"},
	[MPI_ERR_DIMS] = {"MPI_ERR_DIMS", "invalid dimension argument"},
	[MPI_ERR_ARG] = {"MPI_ERR_ARG", "invalid argument of some other kind"},
	[MPI_ERR_UNKNOWN] = {"MPI_ERR_UNKNOWN", "unknown error"},
	[MPI_ERR_TRUNCATE] = {"MPI_ERR_TRUNCATE", "message truncated on receive"},
	[MPI_ERR_OTHER] = {"MPI_ERR_OTHER", "known error not in this list"},
	[MPI_ERR_INTERN] = {"MPI_ERR_INTERN", "internal MPI (implementation) error"},
	[MPI_ERR_PENDING] = {"MPI_ERR_PENDING", "pending request"},
	[MPI_ERR_IN_STATUS] = {"MPI_ERR_IN_STATUS", "error code is in status"},
	[MPI_ERR_ACCESS] = {"MPI_ERR_ACCESS", "permission denied"},
	[MPI_ERR_AMODE] = {"MPI_ERR_AMODE", "error related to the amode passed to MPI_FILE_OPEN"},
	[MPI_ERR_ASSERT] = {"MPI_ERR_ASSERT", "invalid assert argument"},
	[MPI_ERR_BAD_FILE] = {"MPI_ERR_BAD_FILE", "invalid file name"},
	[MPI_ERR_BASE] = {"MPI_ERR_BASE", "invalid base argument"},
	[MPI_ERR_CONVERSION] = {"MPI_ERR_CONVERSION", "an error occurred in a user supplied data conversion function"},
	[MPI_ERR_DISP] = {"MPI_ERR_DISP", "invalid disp argument"},
	[MPI_ERR_DUP_DATAREP] = {"MPI_ERR_DUP_DATAREP", "conversion functions could not be registered because a data representation identifier that was already defined was passed to MPI_REGISTER_DATAREP"},
	[MPI_ERR_FILE_EXISTS] = {"MPI_ERR_FILE_EXISTS", "file exists"},
	[MPI_ERR_FILE_IN_USE] = {"MPI_ERR_FILE_IN_USE", "file operation could not be completed, as the file is currently open by some process"},
	[MPI_ERR_FILE] = {"MPI_ERR_FILE", "invalid file handle"},
	[MPI_ERR_INFO_KEY] = {"MPI_ERR_INFO_KEY", "key longer than MPI_MAX_INFO_KEY"},
	[MPI_ERR_INFO_NOKEY] = {"MPI_ERR_INFO_NOKEY", "invalid key passed to MPI_INFO_DELETE"},
	[MPI_ERR_INFO_VALUE] = {"MPI_ERR_INFO_VALUE", "value longer than MPI_MAX_INFO_VAL"},
	[MPI_ERR_INFO] = {"MPI_ERR_INFO", "invalid info argument"},
	[MPI_ERR_IO] = {"MPI_ERR_IO", "other I/O error"},
	[MPI_ERR_KEYVAL] = {"MPI_ERR_KEYVAL", "invalid keyval has been passed"},
	[MPI_ERR_LOCKTYPE] = {"MPI_ERR_LOCKTYPE", "invalid locktype argument"},
	[MPI_ERR_NAME] = {"MPI_ERR_NAME", "invalid service name passed to MPI_LOOKUP_NAME"},
	[MPI_ERR_NO_MEM] = {"MPI_ERR_NO_MEM", "MPI_ALLOC_MEM failed because memory is exhausted"},
	[MPI_ERR_NOT_SAME] = {"MPI_ERR_NOT_SAME", "collective argument not identical on all processes, or collective routines called in a different order by different processes"},
	[MPI_ERR_NO_SPACE] = {"MPI_ERR_NO_SPACE", "not enough space"},
	[MPI_ERR_NO_SUCH_FILE] = {"MPI_ERR_NO_SUCH_FILE", "file does not exist"},
	[MPI_ERR_PORT] = {"MPI_ERR_PORT", "invalid port name passed to MPI_COMM_CONNECT"},
	[MPI_ERR_QUOTA] = {"MPI_ERR_QUOTA", "quota exceeded"},
	[MPI_ERR_READ_ONLY] = {"MPI_ERR_READ_ONLY", "read-only file or file system"},
	[MPI_ERR_RMA_ATTACH] = {"MPI_ERR_RMA_ATTACH", "memory cannot be attached (e.g., because of resource exhaustion)"},
	[MPI_ERR_RMA_CONFLICT] = {"MPI_ERR_RMA_CONFLICT", "conflicting accesses to window"},
	[MPI_ERR_RMA_RANGE] = {"MPI_ERR_RMA_RANGE", "target memory is not part of the window (in the case of a window created with MPI_WIN_CREATE_DYNAMIC, target memory is not attached)"},
	[MPI_ERR_RMA_SHARED] = {"MPI_ERR_RMA_SHARED", "memory cannot be shared (e.g., some process in the group of the specified communicator cannot expose shared memory)"},
	[MPI_ERR_RMA_SYNC] = {"MPI_ERR_RMA_SYNC", "wrong synchronization of RMA calls"},
	[MPI_ERR_RMA_FLAVOR] = {"MPI_ERR_RMA_FLAVOR", "passed window has the wrong flavor for the called function"},
	[MPI_ERR_SERVICE] = {"MPI_ERR_SERVICE", "invalid service name passed to MPI_UNPUBLISH_NAME"},
	[MPI_ERR_SIZE] = {"MPI_ERR_SIZE", "invalid size argument"},
	[MPI_ERR_SPAWN] = {"MPI_ERR_SPAWN", "error in spawning processes"},
	[MPI_ERR_UNSUPPORTED_DATAREP] = {"MPI_ERR_UNSUPPORTED_DATAREP", "unsupported datarep passed to MPI_FILE_SET_VIEW"},
	[MPI_ERR_UNSUPPORTED_OPERATION] = {"MPI_ERR_UNSUPPORTED_OPERATION", "unsupported operation"},
	[MPI_ERR_WIN] = {"MPI_ERR_WIN", "invalid win argument"},
	[MPI_T_ERR_CANNOT_INIT] = {"MPI_T_ERR_CANNOT_INIT", "interface not in the state to be initialized"},
	[MPI_T_ERR_NOT_INITIALIZED] = {"MPI_T_ERR_NOT_INITIALIZED", "interface not initialized"},
	[MPI_T_ERR_MEMORY] = {"MPI_T_ERR_MEMORY", "out of memory"},
	[MPI_T_ERR_INVALID] = {"MPI_T_ERR_INVALID", "invalid use of the interface or bad parameter value(s)"},
	[MPI_T_ERR_INVALID_INDEX] = {"MPI_T_ERR_INVALID_INDEX", "the index is invalid or has been deleted"},
	[MPI_T_ERR_INVALID_ITEM] = {"MPI_T_ERR_INVALID_ITEM", "item index queried is out of range"},
	[MPI_T_ERR_INVALID_SESSION] = {"MPI_T_ERR_INVALID_SESSION", "session argument is not a valid session"},
	[MPI_T_ERR_INVALID_HANDLE] = {"MPI_T_ERR_INVALID_HANDLE", "handle argument is not a valid handle"},
	[MPI_T_ERR_INVALID_NAME] = {"MPI_T_ERR_INVALID_NAME", "the name is invalid or has been deleted"},
	[MPI_T_ERR_OUT_OF_HANDLES] = {"MPI_T_ERR_OUT_OF_HANDLES", "no more handles available"},
	[MPI_T_ERR_OUT_OF_SESSIONS] = {"MPI_T_ERR_OUT_OF_SESSIONS", "no more sessions available"},
	[MPI_T_ERR_CVAR_SET_NOT_NOW] = {"MPI_T_ERR_CVAR_SET_NOT_NOW", "variable cannot be set at this moment"},
	[MPI_T_ERR_CVAR_SET_NEVER] = {"MPI_T_ERR_CVAR_SET_NEVER", "variable cannot be set until end of execution"},
	[MPI_T_ERR_PVAR_NO_WRITE] = {"MPI_T_ERR_PVAR_NO_WRITE", "variable cannot be written or reset"},
	[MPI_T_ERR_PVAR_NO_STARTSTOP] = {"MPI_T_ERR_PVAR_NO_STARTSTOP", "variable cannot be started or stopped"},
	[MPI_T_ERR_PVAR_NO_ATOMIC] = {"MPI_T_ERR_PVAR_NO_ATOMIC", "variable cannot be read and written atomically"},
	[MPI_ERR_LASTCODE] = {"MPI_ERR_LASTCODE", "last error code"},
};

/* ---- codes and classes added at run time (8.5) ---- */

/* Value MPI_ERR_LASTCODE + 1 + i is added[i]: a class (cls == itself) or
 * a code of class cls, with the string MPI_Add_error_string gave it. */
struct added {
	int cls;
	char *str;
};
static struct added *added;
static int nadded;

/* The largest code or class in use: the value of MPI_LASTUSEDCODE. */
int err_lastused(void)
{
	return MPI_ERR_LASTCODE + nadded;
}

static struct added *added_get(int code)
{
	if (code <= MPI_ERR_LASTCODE || code > MPI_ERR_LASTCODE + nadded)
		return NULL;
	return &added[code - MPI_ERR_LASTCODE - 1];
}

/* The class of an error code, or -1 if it is not one. */
static int class_of(int code)
{
	if (code >= 0 && code <= MPI_ERR_LASTCODE)
		return code;
	struct added *a = added_get(code);
	return a ? a->cls : -1;
}

/* "MPI_ERR_RANK" for predefined classes, "error code 77 (class 75)" else. */
static void code_name(int code, char *buf, size_t len)
{
	int cls = class_of(code);
	if (code >= 0 && code <= MPI_ERR_LASTCODE)
		snprintf(buf, len, "%s", classes[code].name);
	else if (cls < 0)
		snprintf(buf, len, "invalid error code %d", code);
	else if (cls == code)
		snprintf(buf, len, "error class %d", code);
	else
		snprintf(buf, len, "error code %d (class %d)", code, cls);
}

/* The text of a code without its name: "invalid rank". */
static void code_text(int code, char *buf, size_t len)
{
	struct added *a = added_get(code);
	if (code >= 0 && code <= MPI_ERR_LASTCODE)
		snprintf(buf, len, "%s", classes[code].text);
	else
		snprintf(buf, len, "%s", a && a->str ? a->str : "user-defined error");
}

/* "MPI_ERR_RANK: invalid rank" for the predefined classes; the string
 * given by MPI_Add_error_string for added codes, else "" (8.5). Returns
 * the length, or -1 for a value that is no error code. */
static int error_text(int code, char *buf)
{
	int n;
	if (code >= 0 && code <= MPI_ERR_LASTCODE) {
		n = snprintf(buf, MPI_MAX_ERROR_STRING, "%s: %s", classes[code].name, classes[code].text);
	} else {
		struct added *a = added_get(code);
		if (!a)
			return -1;
		n = snprintf(buf, MPI_MAX_ERROR_STRING, "%s", a->str ? a->str : "");
	}
	return n < MPI_MAX_ERROR_STRING ? n : MPI_MAX_ERROR_STRING - 1;
}

/* ---- error handlers (8.3) ---- */

/* A handler made by MPI_Comm_create_errhandler. Communicators keep using
 * it after MPI_Errhandler_free (8.3.4: it goes away only when nothing uses
 * it), so slots are never reused; `refs` counts the user's handles only
 * (create and every get add one, free takes one). */
struct uerrh {
	void (*fn)(int *handle, int *code, ...);   /* a comm's or a window's */
	int kind;                                  /* TORO_KIND_COMM or _WIN */
	int refs;
};
static struct uerrh *uerrh;
static int nuerrh;

static struct uerrh *uerrh_get(MPI_Errhandler e)
{
	if (TORO_HANDLE_KIND(e) != TORO_KIND_ERRHANDLER || TORO_HANDLE_IS_BUILTIN(e) || e < 0)
		return NULL;
	int i = e & TORO_HANDLE_INDEX_MASK;
	return i < nuerrh ? &uerrh[i] : NULL;
}

/* A handle the user may still pass: predefined, or created and not freed. */
static bool errh_valid(MPI_Errhandler e)
{
	if (e == MPI_ERRORS_ARE_FATAL || e == MPI_ERRORS_RETURN)
		return true;
	struct uerrh *u = uerrh_get(e);
	return u && u->refs > 0;
}

MPI_Errhandler errh_of_comm(MPI_Comm comm)
{
	struct comm *c = comm_get(comm);
	if (!c)
		c = comm_get(MPI_COMM_WORLD);
	return c ? c->errh : MPI_ERRORS_ARE_FATAL;
}

/* Prints `line` and ends the job with `status`. */
static _Noreturn void die(int status, char *line)
{
	if (status <= 0 || status > 255)
		status = 1;
	fflush(stdout);
	if (toro)
		toro->abort_job(status, line);   /* prints the line itself */
	size_t n = strlen(line);
	line[n] = '\n';                         /* room kept by the callers */
	if (write(2, line, n + 1) < 0)
		_exit(status);
	_exit(status);
}

/* Hands error `code` found by `func` to handler e, which belongs to the
 * communicator or window `handle`; `detail` is the text after the code's
 * name. Returns code. */
static int raise_with(MPI_Errhandler e, int handle, int code, const char *func, const char *detail)
{
	if (e == MPI_ERRORS_RETURN)
		return code;
	struct uerrh *u = uerrh_get(e);
	if (u && u->fn) {
		int c = code;
		u->fn(&handle, &c);
		return code;
	}
	char name[64], line[MPI_MAX_ERROR_STRING + 256];
	code_name(code, name, sizeof name);
	int n;
	if (toro)
		n = snprintf(line, sizeof line - 1, "MPI error: %s on rank %d: %s: %s", func, toro->rank, name, detail);
	else
		n = snprintf(line, sizeof line - 1, "MPI error: %s: %s: %s", func, name, detail);
	(void)n;
	die(class_of(code) > 0 ? class_of(code) : MPI_ERR_OTHER, line);
}

/* 8.3.1: the handler gets the communicator in use and the code;
 * MPI_COMM_NULL means MPI_COMM_WORLD's handler was chosen. */
static int raise_error(MPI_Comm comm, int code, const char *func, const char *detail)
{
	return raise_with(errh_of_comm(comm), comm_get(comm) ? comm : MPI_COMM_WORLD, code, func, detail);
}

int mpi_err_errh(MPI_Errhandler e, int handle, int errclass, const char *func, const char *fmt, ...)
{
	char detail[MPI_MAX_ERROR_STRING];
	if (fmt && fmt[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof detail, fmt, ap);
		va_end(ap);
	} else {
		code_text(errclass, detail, sizeof detail);
	}
	return raise_with(e, handle, errclass, func, detail);
}

bool errh_valid_for(MPI_Errhandler e, int kind)
{
	struct uerrh *u = uerrh_get(e);
	return errh_valid(e) && (!u || u->kind == kind);
}

void errh_retain(MPI_Errhandler e)
{
	struct uerrh *u = uerrh_get(e);
	if (u)
		u->refs++;
}

int mpi_err(MPI_Comm comm, int errclass, const char *func, const char *fmt, ...)
{
	char detail[MPI_MAX_ERROR_STRING];
	if (fmt && fmt[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof detail, fmt, ap);
		va_end(ap);
	} else {
		code_text(errclass, detail, sizeof detail);
	}
	return raise_error(comm, errclass, func, detail);
}

/* The common part of MPI_Comm_create_errhandler, MPI_Errhandler_create
 * and MPI_Win_create_errhandler; kind is what the handler is for. */
int errh_create(void (*fn)(int *, int *, ...), int kind, MPI_Errhandler *eh, const char *func)
{
	if (!mpi_ready(func))
		return MPI_ERR_OTHER;
	if (!fn || !eh)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, func, "%s is NULL", fn ? "errhandler" : "function");
	struct uerrh *t = realloc(uerrh, (nuerrh + 1) * sizeof *t);
	if (!t)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, func, "out of memory");
	uerrh = t;
	uerrh[nuerrh] = (struct uerrh){fn, kind, 1};
	*eh = TORO_MAKE_HANDLE(TORO_KIND_ERRHANDLER, nuerrh);
	nuerrh++;
	return MPI_SUCCESS;
}

static int set_errh(MPI_Comm comm, MPI_Errhandler eh, const char *func)
{
	if (!mpi_ready(func))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(comm);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, func, "invalid communicator");
	if (!errh_valid_for(eh, TORO_KIND_COMM))
		return mpi_err(comm, MPI_ERR_ARG, func, "invalid error handler (or one made for windows)");
	c->errh = eh;
	return MPI_SUCCESS;
}

/* 8.3.1: the handle returned is a new reference the user frees. */
static int get_errh(MPI_Comm comm, MPI_Errhandler *eh, const char *func)
{
	if (!mpi_ready(func))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(comm);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, func, "invalid communicator");
	if (!eh)
		return mpi_err(comm, MPI_ERR_ARG, func, "errhandler is NULL");
	struct uerrh *u = uerrh_get(c->errh);
	if (u)
		u->refs++;
	*eh = c->errh;
	return MPI_SUCCESS;
}

int MPI_Comm_create_errhandler(MPI_Comm_errhandler_function *fn, MPI_Errhandler *eh)
{
	return errh_create((void (*)(int *, int *, ...))fn, TORO_KIND_COMM, eh, "MPI_Comm_create_errhandler");
}

int MPI_Comm_set_errhandler(MPI_Comm comm, MPI_Errhandler eh)
{
	return set_errh(comm, eh, "MPI_Comm_set_errhandler");
}

int MPI_Comm_get_errhandler(MPI_Comm comm, MPI_Errhandler *eh)
{
	return get_errh(comm, eh, "MPI_Comm_get_errhandler");
}

/* The MPI-1 names (removed in MPI-3.0, still used by old programs). */
int MPI_Errhandler_create(MPI_Handler_function *fn, MPI_Errhandler *eh)
{
	return errh_create((void (*)(int *, int *, ...))fn, TORO_KIND_COMM, eh, "MPI_Errhandler_create");
}

int MPI_Errhandler_set(MPI_Comm comm, MPI_Errhandler eh)
{
	return set_errh(comm, eh, "MPI_Errhandler_set");
}

int MPI_Errhandler_get(MPI_Comm comm, MPI_Errhandler *eh)
{
	return get_errh(comm, eh, "MPI_Errhandler_get");
}

/* 8.3.4: marks the handle for deallocation and sets it to
 * MPI_ERRHANDLER_NULL. Freeing a predefined handler (as returned by
 * MPI_Comm_get_errhandler) is allowed and does nothing else. */
int MPI_Errhandler_free(MPI_Errhandler *eh)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	if (!eh || !errh_valid(*eh))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "invalid error handler");
	struct uerrh *u = uerrh_get(*eh);
	if (u)
		u->refs--;
	*eh = MPI_ERRHANDLER_NULL;
	return MPI_SUCCESS;
}

/* 8.3.6: invokes the handler of comm as if the error had happened in MPI;
 * returns MPI_SUCCESS if the handler returns. */
int MPI_Comm_call_errhandler(MPI_Comm comm, int errorcode)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	if (!comm_get(comm))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, __func__, "invalid communicator");
	char text[MPI_MAX_ERROR_STRING];
	code_text(errorcode, text, sizeof text);
	raise_error(comm, errorcode, __func__, text);
	return MPI_SUCCESS;
}

/* ---- codes, classes and strings (8.4, 8.5) ---- */

int MPI_Error_class(int errorcode, int *errorclass)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	int cls = class_of(errorcode);
	if (cls < 0)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "invalid error code %d", errorcode);
	if (!errorclass)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "errorclass is NULL");
	*errorclass = cls;
	return MPI_SUCCESS;
}

int MPI_Error_string(int errorcode, char *string, int *resultlen)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	if (!string || !resultlen)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "NULL argument");
	int n = error_text(errorcode, string);
	if (n < 0)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "invalid error code %d", errorcode);
	*resultlen = n;
	return MPI_SUCCESS;
}

static int add_code(int cls, int *out, const char *func)
{
	struct added *t = realloc(added, (nadded + 1) * sizeof *t);
	if (!t)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, func, "out of memory");
	added = t;
	int code = MPI_ERR_LASTCODE + 1 + nadded;
	added[nadded++] = (struct added){cls < 0 ? code : cls, NULL};
	*out = code;
	return MPI_SUCCESS;
}

/* A new class; it is its own class (8.5). The function is local, so the
 * values are the same on all ranks only if all add the same ones. */
int MPI_Add_error_class(int *errorclass)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	if (!errorclass)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "errorclass is NULL");
	return add_code(-1, errorclass, __func__);
}

/* A new code of a predefined or added class. */
int MPI_Add_error_code(int errorclass, int *errorcode)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	if (class_of(errorclass) != errorclass)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "%d is not an error class", errorclass);
	if (!errorcode)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "errorcode is NULL");
	return add_code(errorclass, errorcode, __func__);
}

/* 8.5: only for added codes and classes; a second call replaces the
 * string. Longer strings are cut to MPI_MAX_ERROR_STRING - 1 characters. */
int MPI_Add_error_string(int errorcode, const char *string)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	struct added *a = added_get(errorcode);
	if (!a)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__,
			       "error code %d was not added by MPI_Add_error_code/class", errorcode);
	if (!string)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "string is NULL");
	char *s = strndup(string, MPI_MAX_ERROR_STRING - 1);
	if (!s)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, __func__, "out of memory");
	free(a->str);
	a->str = s;
	return MPI_SUCCESS;
}

/* 17.2.4: handles are ints, the Fortran handle is the same number. */
MPI_Fint MPI_Errhandler_c2f(MPI_Errhandler errhandler)
{
	return (MPI_Fint)errhandler;
}

MPI_Errhandler MPI_Errhandler_f2c(MPI_Fint errhandler)
{
	return (MPI_Errhandler)errhandler;
}
