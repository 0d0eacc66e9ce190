/* Datatypes: attributes on types (MPI-3.1 6.7.4). */
#include "datatype.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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
		return dt_nomem(fn);
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
	if (!(*t = dt_lookup(dt)))
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
		return dt_nomem(fn);
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
int dt_attrs_copy(const struct dtype *o, struct dtype *t)
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

int dt_attrs_clear(struct dtype *t)
{
	int rc = MPI_SUCCESS;
	while (t->attrs) {
		int r = attr_del(t, &t->attrs);
		if (r && !rc)
			rc = r;
	}
	return rc;
}
