/* Attribute caching (MPI-3.1 6.7) for communicators, datatypes and
 * windows: one table of keyvals and one kind of attribute list, plus the
 * predefined attributes of communicators (8.1.2) and windows (11.2.6) and
 * the deprecated MPI-1 names (15).
 *
 * A keyval belongs to one kind of object (ATTR_COMM, ATTR_TYPE or
 * ATTR_WIN): a keyval of another kind is MPI_ERR_KEYVAL. It is reference
 * counted: the user's handle plus one per attribute using it, so after
 * MPI_*_free_keyval the attributes already set keep their callbacks
 * (6.7.2). An object's `attrs` is a struct attrs: its attributes in the
 * order they were set (a value set again moves to the end). */
#include <stdlib.h>
#include <string.h>
#include "rma.h"

struct keyval {
	int kind;
	union {
		MPI_Comm_copy_attr_function *comm;
		MPI_Type_copy_attr_function *type;
		MPI_Win_copy_attr_function *win;
	} copy;
	union {
		MPI_Comm_delete_attr_function *comm;
		MPI_Type_delete_attr_function *type;
		MPI_Win_delete_attr_function *win;
	} del;
	void *extra;
	int refs;               /* the user's handle + one per attribute */
	bool freed;             /* the user freed the handle */
};
static struct keyval **ktab;
static int nktab;

struct attr {
	int keyval;
	void *val;
};
struct attrs {
	int n;
	struct attr *v;
};

static const char *const kind_name[] = {"communicator", "datatype", "window"};

/* ---- keyvals ---- */

static struct keyval *keyval_get(int h, int kind)
{
	if (TORO_HANDLE_KIND(h) != TORO_KIND_KEYVAL || TORO_HANDLE_IS_BUILTIN(h) || h < 0)
		return NULL;
	int i = h & TORO_HANDLE_INDEX_MASK;
	return i < nktab && ktab[i] && ktab[i]->kind == kind ? ktab[i] : NULL;
}

static void keyval_release(int h, int kind)
{
	struct keyval *k = keyval_get(h, kind);
	if (k && --k->refs == 0) {
		ktab[h & TORO_HANDLE_INDEX_MASK] = NULL;
		free(k);
	}
}

/* A new keyval of `kind` with the callbacks already in proto. */
static int create_keyval(struct keyval proto, int *keyval, const char *func)
{
	if (!mpi_ready(func))
		return MPI_ERR_OTHER;
	if (!keyval)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, func, "keyval is NULL");
	int i = 0;
	while (i < nktab && ktab[i])
		i++;
	if (i > (int)TORO_HANDLE_INDEX_MASK)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_KEYVAL, func, "too many keyvals");
	struct keyval *k = malloc(sizeof *k);
	struct keyval **t = i < nktab ? ktab : realloc(ktab, (nktab + 1) * sizeof *t);
	if (t)
		ktab = t;
	if (!k || !t) {
		free(k);
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, func, "out of memory");
	}
	if (i == nktab)
		nktab++;
	proto.refs = 1;
	proto.freed = false;
	*k = proto;
	ktab[i] = k;
	*keyval = TORO_MAKE_HANDLE(TORO_KIND_KEYVAL, i);
	return MPI_SUCCESS;
}

/* 6.7.2: the keyval goes away when the last attribute using it does;
 * the handle is set to MPI_KEYVAL_INVALID. */
static int free_keyval(int *keyval, int kind, const char *func)
{
	if (!mpi_ready(func))
		return MPI_ERR_OTHER;
	struct keyval *k = keyval ? keyval_get(*keyval, kind) : NULL;
	if (!k || k->freed)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_KEYVAL, func, "invalid %s keyval%s", kind_name[kind],
			       keyval && TORO_HANDLE_IS_BUILTIN(*keyval) ? " (predefined keyvals cannot be freed)" : "");
	k->freed = true;
	keyval_release(*keyval, kind);
	*keyval = MPI_KEYVAL_INVALID;
	return MPI_SUCCESS;
}

/* ---- attribute lists ---- */

static int attr_find(const struct attrs *a, int keyval)
{
	for (int i = 0; a && i < a->n; i++)
		if (a->v[i].keyval == keyval)
			return i;
	return -1;
}

/* Appends (keyval, val) to *list; false when out of memory. */
static bool attr_append(void **list, int keyval, int kind, void *val)
{
	if (!*list)
		*list = calloc(1, sizeof(struct attrs));
	struct attrs *a = *list;
	struct attr *t = a ? realloc(a->v, (a->n + 1) * sizeof *t) : NULL;
	if (!t)
		return false;
	a->v = t;
	a->v[a->n++] = (struct attr){keyval, val};
	keyval_get(keyval, kind)->refs++;
	return true;
}

static int call_delete(const struct keyval *k, int kind, int h, int keyval, void *val)
{
	switch (kind) {
	case ATTR_COMM: return k->del.comm ? k->del.comm(h, keyval, val, k->extra) : MPI_SUCCESS;
	case ATTR_TYPE: return k->del.type ? k->del.type(h, keyval, val, k->extra) : MPI_SUCCESS;
	default: return k->del.win ? k->del.win(h, keyval, val, k->extra) : MPI_SUCCESS;
	}
}

/* Runs the delete callback of attribute i of object h and removes it; on
 * a callback error the attribute stays and its code is returned (6.7.2:
 * the call that caused it then fails). */
static int attr_remove(void **list, int kind, int h, int i)
{
	struct attrs *a = *list;
	struct attr at = a->v[i];
	int rc = call_delete(keyval_get(at.keyval, kind), kind, h, at.keyval, at.val);
	if (rc != MPI_SUCCESS)
		return rc;
	/* the callback may have changed the list: find the entry again */
	i = attr_find(a, at.keyval);
	if (i >= 0) {
		memmove(&a->v[i], &a->v[i + 1], (size_t)(a->n - i - 1) * sizeof *a->v);
		a->n--;
		keyval_release(at.keyval, kind);
	}
	return MPI_SUCCESS;
}

void attrs_free(void **list)
{
	struct attrs *a = *list;
	if (a)
		free(a->v);
	free(a);
	*list = NULL;
}

/* Deletes every attribute, the last set first (8.7.1 wants this order
 * for MPI_COMM_SELF), and frees the list when all went. */
int attrs_clear(int kind, int h, void **list)
{
	struct attrs *a = *list;
	while (a && a->n > 0) {
		int rc = attr_remove(list, kind, h, a->n - 1);
		if (rc != MPI_SUCCESS)
			return rc;
	}
	attrs_free(list);
	return MPI_SUCCESS;
}

/* 6.7.2, 6.7.4: the dup of an object calls each copy callback; the
 * attribute is copied when the callback sets flag. */
int attrs_copy(int kind, int from, void *from_list, void **to_list)
{
	struct attrs *a = from_list;
	for (int i = 0; a && i < a->n; i++) {
		struct attr at = a->v[i];
		struct keyval *k = keyval_get(at.keyval, kind);
		void *out = NULL;
		int flag = 0, rc = MPI_SUCCESS;
		if (kind == ATTR_COMM && k->copy.comm)
			rc = k->copy.comm(from, at.keyval, k->extra, at.val, &out, &flag);
		else if (kind == ATTR_TYPE && k->copy.type)
			rc = k->copy.type(from, at.keyval, k->extra, at.val, &out, &flag);
		if (rc != MPI_SUCCESS)
			return rc;
		if (flag && !attr_append(to_list, at.keyval, kind, out))
			return MPI_ERR_NO_MEM;
	}
	return MPI_SUCCESS;
}

/* ---- set, get, delete on any kind of object ---- */

/* The object of an attribute call; errors go through err. */
struct obj {
	int kind, handle;
	void **attrs;
	struct win *w;          /* ATTR_WIN */
};

static int err(const struct obj *o, int cls, const char *func, const char *msg)
{
	if (o->kind == ATTR_WIN)
		return win_err(o->w, cls, func, "%s", msg);
	return mpi_err(o->kind == ATTR_COMM ? o->handle : MPI_COMM_NULL, cls, func, "%s", msg);
}

static int bad_keyval(const struct obj *o, int keyval, const char *func)
{
	return err(o, MPI_ERR_KEYVAL, func, TORO_HANDLE_IS_BUILTIN(keyval)
		   ? "invalid keyval (predefined attributes are read-only)" : "invalid keyval");
}

static int set_attr(const struct obj *o, int keyval, void *val, const char *func)
{
	struct keyval *k = keyval_get(keyval, o->kind);
	if (!k || k->freed)
		return bad_keyval(o, keyval, func);
	/* 6.7.2: as if the old value were deleted first (callback run) */
	int rc, i = attr_find(*o->attrs, keyval);
	if (i >= 0 && (rc = attr_remove(o->attrs, o->kind, o->handle, i)) != MPI_SUCCESS)
		return err(o, rc, func, "the delete callback of the old value failed");
	if (!attr_append(o->attrs, keyval, o->kind, val))
		return err(o, MPI_ERR_NO_MEM, func, "out of memory");
	return MPI_SUCCESS;
}

/* attribute_val is really a void **: it receives the stored pointer. */
static int get_attr(const struct obj *o, int keyval, void *attribute_val, int *flag, const char *func)
{
	if (!keyval_get(keyval, o->kind))
		return bad_keyval(o, keyval, func);
	int i = attr_find(*o->attrs, keyval);
	*flag = i >= 0;
	if (i >= 0)
		*(void **)attribute_val = ((struct attrs *)*o->attrs)->v[i].val;
	return MPI_SUCCESS;
}

static int delete_attr(const struct obj *o, int keyval, const char *func)
{
	if (!keyval_get(keyval, o->kind))
		return bad_keyval(o, keyval, func);
	int rc, i = attr_find(*o->attrs, keyval);
	if (i < 0)
		return err(o, MPI_ERR_KEYVAL, func, "no attribute with this keyval on the object");
	if ((rc = attr_remove(o->attrs, o->kind, o->handle, i)) != MPI_SUCCESS)
		return err(o, rc, func, "the delete callback failed");
	return MPI_SUCCESS;
}

/* ---- communicators (6.7.2, 8.1.2) ---- */

static int comm_obj(MPI_Comm comm, const char *func, struct obj *o)
{
	if (!mpi_ready(func))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(comm);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, func, "invalid communicator");
	*o = (struct obj){ATTR_COMM, comm, &c->attrs, NULL};
	return MPI_SUCCESS;
}

/* The values of the predefined attributes; get returns a pointer to them. */
static int attr_tag_ub = TORO_TAG_UB, attr_host = MPI_PROC_NULL, attr_io = MPI_ANY_SOURCE;
static int attr_wtime_global = 1, attr_universe, attr_lastused, attr_appnum = 0;

/* The predefined attributes (8.1.2), on every communicator. NULL for a
 * keyval that is not one of them. */
static int *predefined_attr(int keyval)
{
	switch (keyval) {
	case MPI_TAG_UB: return &attr_tag_ub;
	case MPI_HOST: return &attr_host;
	case MPI_IO: return &attr_io;
	case MPI_WTIME_IS_GLOBAL: return &attr_wtime_global;
	case MPI_APPNUM: return &attr_appnum;
	case MPI_UNIVERSE_SIZE:
		attr_universe = toro->nranks;
		return &attr_universe;
	case MPI_LASTUSEDCODE:
		attr_lastused = err_lastused();
		return &attr_lastused;
	default: return NULL;
	}
}

static int comm_create_keyval(MPI_Comm_copy_attr_function *copy, MPI_Comm_delete_attr_function *del,
			      int *keyval, void *extra, const char *func)
{
	struct keyval k = {.kind = ATTR_COMM, .copy.comm = copy, .del.comm = del, .extra = extra};
	return create_keyval(k, keyval, func);
}

static int comm_set_attr(MPI_Comm comm, int keyval, void *val, const char *func)
{
	struct obj o;
	int rc = comm_obj(comm, func, &o);
	return rc ? rc : set_attr(&o, keyval, val, func);
}

static int comm_get_attr(MPI_Comm comm, int keyval, void *attribute_val, int *flag, const char *func)
{
	struct obj o;
	int rc = comm_obj(comm, func, &o);
	if (rc)
		return rc;
	if (!attribute_val || !flag)
		return mpi_err(comm, MPI_ERR_ARG, func, "NULL argument");
	int *pre = predefined_attr(keyval);
	if (pre) {
		*(void **)attribute_val = pre;
		*flag = 1;
		return MPI_SUCCESS;
	}
	return get_attr(&o, keyval, attribute_val, flag, func);
}

static int comm_delete_attr(MPI_Comm comm, int keyval, const char *func)
{
	struct obj o;
	int rc = comm_obj(comm, func, &o);
	return rc ? rc : delete_attr(&o, keyval, func);
}

int MPI_Comm_create_keyval(MPI_Comm_copy_attr_function *comm_copy_attr_fn,
			   MPI_Comm_delete_attr_function *comm_delete_attr_fn,
			   int *comm_keyval, void *extra_state)
{
	return comm_create_keyval(comm_copy_attr_fn, comm_delete_attr_fn, comm_keyval, extra_state, __func__);
}

int MPI_Comm_free_keyval(int *comm_keyval)
{
	return free_keyval(comm_keyval, ATTR_COMM, __func__);
}

int MPI_Comm_set_attr(MPI_Comm comm, int comm_keyval, void *attribute_val)
{
	return comm_set_attr(comm, comm_keyval, attribute_val, __func__);
}

int MPI_Comm_get_attr(MPI_Comm comm, int comm_keyval, void *attribute_val, int *flag)
{
	return comm_get_attr(comm, comm_keyval, attribute_val, flag, __func__);
}

int MPI_Comm_delete_attr(MPI_Comm comm, int comm_keyval)
{
	return comm_delete_attr(comm, comm_keyval, __func__);
}

/* The deprecated MPI-1 names (15); in C they behave as the new ones. */
int MPI_Keyval_create(MPI_Copy_function *copy_fn, MPI_Delete_function *delete_fn,
		      int *keyval, void *extra_state)
{
	return comm_create_keyval(copy_fn, delete_fn, keyval, extra_state, __func__);
}

int MPI_Keyval_free(int *keyval)
{
	return free_keyval(keyval, ATTR_COMM, __func__);
}

int MPI_Attr_put(MPI_Comm comm, int keyval, void *attribute_val)
{
	return comm_set_attr(comm, keyval, attribute_val, __func__);
}

int MPI_Attr_get(MPI_Comm comm, int keyval, void *attribute_val, int *flag)
{
	return comm_get_attr(comm, keyval, attribute_val, flag, __func__);
}

int MPI_Attr_delete(MPI_Comm comm, int keyval)
{
	return comm_delete_attr(comm, keyval, __func__);
}

/* ---- datatypes (6.7.4) ---- */

static int type_obj(MPI_Datatype dt, const char *func, struct obj *o)
{
	if (!mpi_ready(func))
		return MPI_ERR_OTHER;
	void **attrs = dtype_attrs(dt);
	if (!attrs)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_TYPE, func, "invalid datatype");
	*o = (struct obj){ATTR_TYPE, dt, attrs, NULL};
	return MPI_SUCCESS;
}

int MPI_Type_create_keyval(MPI_Type_copy_attr_function *type_copy_attr_fn,
			   MPI_Type_delete_attr_function *type_delete_attr_fn, int *type_keyval,
			   void *extra_state)
{
	struct keyval k = {.kind = ATTR_TYPE, .copy.type = type_copy_attr_fn,
			   .del.type = type_delete_attr_fn, .extra = extra_state};
	return create_keyval(k, type_keyval, __func__);
}

int MPI_Type_free_keyval(int *type_keyval)
{
	return free_keyval(type_keyval, ATTR_TYPE, __func__);
}

int MPI_Type_set_attr(MPI_Datatype datatype, int type_keyval, void *attribute_val)
{
	struct obj o;
	int rc = type_obj(datatype, __func__, &o);
	return rc ? rc : set_attr(&o, type_keyval, attribute_val, __func__);
}

int MPI_Type_get_attr(MPI_Datatype datatype, int type_keyval, void *attribute_val, int *flag)
{
	struct obj o;
	int rc = type_obj(datatype, __func__, &o);
	if (rc)
		return rc;
	if (!attribute_val || !flag)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "NULL output argument");
	return get_attr(&o, type_keyval, attribute_val, flag, __func__);
}

int MPI_Type_delete_attr(MPI_Datatype datatype, int type_keyval)
{
	struct obj o;
	int rc = type_obj(datatype, __func__, &o);
	return rc ? rc : delete_attr(&o, type_keyval, __func__);
}

/* ---- windows (6.7.3, 11.2.6) ---- */

static int win_obj(MPI_Win win, const char *func, struct obj *o)
{
	int rc;
	o->w = NULL;
	struct win *w = win_arg(win, func, &rc);
	if (!w)
		return rc;
	*o = (struct obj){ATTR_WIN, win, &w->attrs, w};
	return MPI_SUCCESS;
}

/* The value is a pointer to the datum (the base itself for MPI_WIN_BASE). */
static bool win_predefined(struct win *w, int keyval, void *val)
{
	switch (keyval) {
	case MPI_WIN_BASE: *(void **)val = w->mine->base; return true;
	case MPI_WIN_SIZE: *(MPI_Aint **)val = &w->mine->size; return true;
	case MPI_WIN_DISP_UNIT: *(int **)val = &w->mine->disp_unit; return true;
	case MPI_WIN_CREATE_FLAVOR: *(int **)val = &w->flavor; return true;
	case MPI_WIN_MODEL: *(int **)val = &w->model; return true;
	}
	return false;
}

int MPI_Win_create_keyval(MPI_Win_copy_attr_function *copy, MPI_Win_delete_attr_function *del, int *keyval,
			  void *extra)
{
	struct keyval k = {.kind = ATTR_WIN, .copy.win = copy, .del.win = del, .extra = extra};
	return create_keyval(k, keyval, __func__);
}

int MPI_Win_free_keyval(int *keyval)
{
	return free_keyval(keyval, ATTR_WIN, __func__);
}

int MPI_Win_set_attr(MPI_Win win, int keyval, void *val)
{
	struct obj o;
	int rc = win_obj(win, __func__, &o);
	return rc ? rc : set_attr(&o, keyval, val, __func__);
}

int MPI_Win_get_attr(MPI_Win win, int keyval, void *val, int *flag)
{
	struct obj o;
	int rc = win_obj(win, __func__, &o);
	if (rc)
		return rc;
	if (!val || !flag)
		return win_err(o.w, MPI_ERR_ARG, __func__, "NULL argument");
	if ((*flag = win_predefined(o.w, keyval, val)))
		return MPI_SUCCESS;
	return get_attr(&o, keyval, val, flag, __func__);
}

int MPI_Win_delete_attr(MPI_Win win, int keyval)
{
	struct obj o;
	int rc = win_obj(win, __func__, &o);
	return rc ? rc : delete_attr(&o, keyval, __func__);
}

int win_attrs_delete(struct win *w)
{
	return attrs_clear(ATTR_WIN, w->handle, &w->attrs);
}

/* ---- the predefined callbacks (6.7.2-6.7.4, 15) ---- */

int MPI_COMM_NULL_COPY_FN(MPI_Comm oldcomm, int comm_keyval, void *extra_state,
			  void *attribute_val_in, void *attribute_val_out, int *flag)
{
	(void)oldcomm, (void)comm_keyval, (void)extra_state, (void)attribute_val_in, (void)attribute_val_out;
	*flag = 0;
	return MPI_SUCCESS;
}

int MPI_COMM_DUP_FN(MPI_Comm oldcomm, int comm_keyval, void *extra_state,
		    void *attribute_val_in, void *attribute_val_out, int *flag)
{
	(void)oldcomm, (void)comm_keyval, (void)extra_state;
	*(void **)attribute_val_out = attribute_val_in;
	*flag = 1;
	return MPI_SUCCESS;
}

int MPI_COMM_NULL_DELETE_FN(MPI_Comm comm, int comm_keyval, void *attribute_val, void *extra_state)
{
	(void)comm, (void)comm_keyval, (void)attribute_val, (void)extra_state;
	return MPI_SUCCESS;
}

int MPI_NULL_COPY_FN(MPI_Comm oldcomm, int keyval, void *extra_state,
		     void *attribute_val_in, void *attribute_val_out, int *flag)
{
	return MPI_COMM_NULL_COPY_FN(oldcomm, keyval, extra_state, attribute_val_in, attribute_val_out, flag);
}

int MPI_DUP_FN(MPI_Comm oldcomm, int keyval, void *extra_state,
	       void *attribute_val_in, void *attribute_val_out, int *flag)
{
	return MPI_COMM_DUP_FN(oldcomm, keyval, extra_state, attribute_val_in, attribute_val_out, flag);
}

int MPI_NULL_DELETE_FN(MPI_Comm comm, int keyval, void *attribute_val, void *extra_state)
{
	return MPI_COMM_NULL_DELETE_FN(comm, keyval, attribute_val, extra_state);
}

int MPI_TYPE_NULL_COPY_FN(MPI_Datatype oldtype, int type_keyval, void *extra_state,
			  void *attribute_val_in, void *attribute_val_out, int *flag)
{
	return MPI_COMM_NULL_COPY_FN(oldtype, type_keyval, extra_state, attribute_val_in, attribute_val_out, flag);
}

int MPI_TYPE_DUP_FN(MPI_Datatype oldtype, int type_keyval, void *extra_state,
		    void *attribute_val_in, void *attribute_val_out, int *flag)
{
	return MPI_COMM_DUP_FN(oldtype, type_keyval, extra_state, attribute_val_in, attribute_val_out, flag);
}

int MPI_TYPE_NULL_DELETE_FN(MPI_Datatype datatype, int type_keyval, void *attribute_val,
			    void *extra_state)
{
	return MPI_COMM_NULL_DELETE_FN(datatype, type_keyval, attribute_val, extra_state);
}

int MPI_WIN_NULL_COPY_FN(MPI_Win oldwin, int keyval, void *extra, void *in, void *out, int *flag)
{
	return MPI_COMM_NULL_COPY_FN(oldwin, keyval, extra, in, out, flag);
}

int MPI_WIN_DUP_FN(MPI_Win oldwin, int keyval, void *extra, void *in, void *out, int *flag)
{
	return MPI_COMM_DUP_FN(oldwin, keyval, extra, in, out, flag);
}

int MPI_WIN_NULL_DELETE_FN(MPI_Win win, int keyval, void *val, void *extra)
{
	return MPI_COMM_NULL_DELETE_FN(win, keyval, val, extra);
}
