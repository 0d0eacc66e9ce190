/* What a window carries besides its memory (MPI-3.1 11.2.6, 11.2.7,
 * 6.7.3, 6.8, 8.3.2): attributes with the predefined MPI_WIN_BASE, SIZE,
 * DISP_UNIT, CREATE_FLAVOR and MODEL, names, info, the group, error
 * handlers, and the Fortran handle conversion.
 *
 * Window keyvals live in their own table; their handles carry
 * WIN_KEYVAL_BIT in the index so that a communicator's keyval is not
 * mistaken for one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rma.h"

#define WIN_KEYVAL_BIT 0x00800000

struct win_keyval {
	MPI_Win_copy_attr_function *copy;
	MPI_Win_delete_attr_function *del;
	void *extra;
	int refs;               /* the user's handle + one per attribute */
	bool freed;
};
static struct win_keyval **ktab;
static int nktab;

struct win_attr {
	int keyval;
	void *val;
	struct win_attr *next;
};

static struct win_keyval *keyval_get(int h)
{
	if (TORO_HANDLE_KIND(h) != TORO_KIND_KEYVAL || TORO_HANDLE_IS_BUILTIN(h) || h < 0 ||
	    !(h & WIN_KEYVAL_BIT))
		return NULL;
	int i = h & TORO_HANDLE_INDEX_MASK & ~WIN_KEYVAL_BIT;
	return i < nktab ? ktab[i] : NULL;
}

static void keyval_release(int h)
{
	struct win_keyval *k = keyval_get(h);
	if (k && --k->refs == 0) {
		ktab[h & TORO_HANDLE_INDEX_MASK & ~WIN_KEYVAL_BIT] = NULL;
		free(k);
	}
}

int MPI_WIN_NULL_COPY_FN(MPI_Win oldwin, int keyval, void *extra, void *in, void *out, int *flag)
{
	(void)oldwin, (void)keyval, (void)extra, (void)in, (void)out;
	*flag = 0;
	return MPI_SUCCESS;
}

int MPI_WIN_DUP_FN(MPI_Win oldwin, int keyval, void *extra, void *in, void *out, int *flag)
{
	(void)oldwin, (void)keyval, (void)extra;
	*(void **)out = in;
	*flag = 1;
	return MPI_SUCCESS;
}

int MPI_WIN_NULL_DELETE_FN(MPI_Win win, int keyval, void *val, void *extra)
{
	(void)win, (void)keyval, (void)val, (void)extra;
	return MPI_SUCCESS;
}

int MPI_Win_create_keyval(MPI_Win_copy_attr_function *copy, MPI_Win_delete_attr_function *del, int *keyval,
			  void *extra)
{
	static const char fn[] = "MPI_Win_create_keyval";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!keyval)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, fn, "keyval is NULL");
	struct win_keyval *k = malloc(sizeof *k), **t = realloc(ktab, (nktab + 1) * sizeof *t);
	if (t)
		ktab = t;
	if (!k || !t) {
		free(k);
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, fn, "out of memory");
	}
	*k = (struct win_keyval){copy, del, extra, 1, false};
	ktab[nktab] = k;
	*keyval = TORO_MAKE_HANDLE(TORO_KIND_KEYVAL, nktab | WIN_KEYVAL_BIT);
	nktab++;
	return MPI_SUCCESS;
}

int MPI_Win_free_keyval(int *keyval)
{
	static const char fn[] = "MPI_Win_free_keyval";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	struct win_keyval *k = keyval ? keyval_get(*keyval) : NULL;
	if (!k || k->freed)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_KEYVAL, fn, "invalid window keyval");
	k->freed = true;
	keyval_release(*keyval);
	*keyval = MPI_KEYVAL_INVALID;
	return MPI_SUCCESS;
}

static struct win_attr **attr_find(struct win *w, int keyval)
{
	struct win_attr **p = (struct win_attr **)&w->attrs;
	while (*p && (*p)->keyval != keyval)
		p = &(*p)->next;
	return p;
}

/* Removes the attribute *p, calling its delete function first. */
static int attr_remove(struct win *w, struct win_attr **p)
{
	struct win_attr *a = *p;
	struct win_keyval *k = keyval_get(a->keyval);
	if (k && k->del) {
		int rc = k->del(w->handle, a->keyval, a->val, k->extra);
		if (rc != MPI_SUCCESS)
			return rc;
	}
	*p = a->next;
	keyval_release(a->keyval);
	free(a);
	return MPI_SUCCESS;
}

int win_attrs_delete(struct win *w)
{
	while (w->attrs) {
		int rc = attr_remove(w, (struct win_attr **)&w->attrs);
		if (rc)
			return rc;
	}
	return MPI_SUCCESS;
}

int MPI_Win_set_attr(MPI_Win win, int keyval, void *val)
{
	static const char fn[] = "MPI_Win_set_attr";
	int rc;
	struct win *w = win_arg(win, fn, &rc);
	if (!w)
		return rc;
	struct win_keyval *k = keyval_get(keyval);
	if (!k || k->freed)
		return win_err(w, MPI_ERR_KEYVAL, fn, "invalid window keyval%s",
			       TORO_HANDLE_IS_BUILTIN(keyval) ? " (predefined attributes cannot be set)" : "");
	struct win_attr **p = attr_find(w, keyval);
	if (*p && (rc = attr_remove(w, p)))
		return win_err(w, rc, fn, "the old value's delete function failed");
	struct win_attr *a = malloc(sizeof *a);
	if (!a)
		return win_err(w, MPI_ERR_NO_MEM, fn, "out of memory");
	*a = (struct win_attr){keyval, val, w->attrs};
	w->attrs = a;
	k->refs++;
	return MPI_SUCCESS;
}

/* 11.2.6: the predefined attributes; the value is a pointer to the datum
 * (the base itself for MPI_WIN_BASE). */
static bool predefined(struct win *w, int keyval, void *val)
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

int MPI_Win_get_attr(MPI_Win win, int keyval, void *val, int *flag)
{
	static const char fn[] = "MPI_Win_get_attr";
	int rc;
	struct win *w = win_arg(win, fn, &rc);
	if (!w)
		return rc;
	if (!val || !flag)
		return win_err(w, MPI_ERR_ARG, fn, "NULL argument");
	*flag = predefined(w, keyval, val);
	if (*flag)
		return MPI_SUCCESS;
	struct win_keyval *k = keyval_get(keyval);
	if (!k || k->freed)
		return win_err(w, MPI_ERR_KEYVAL, fn, "invalid window keyval");
	struct win_attr *a = *attr_find(w, keyval);
	if (a)
		*(void **)val = a->val;
	*flag = a != NULL;
	return MPI_SUCCESS;
}

int MPI_Win_delete_attr(MPI_Win win, int keyval)
{
	static const char fn[] = "MPI_Win_delete_attr";
	int rc;
	struct win *w = win_arg(win, fn, &rc);
	if (!w)
		return rc;
	struct win_keyval *k = keyval_get(keyval);
	if (!k || k->freed)
		return win_err(w, MPI_ERR_KEYVAL, fn, "invalid window keyval");
	struct win_attr **p = attr_find(w, keyval);
	if (!*p)
		return win_err(w, MPI_ERR_KEYVAL, fn, "the window has no such attribute");
	if ((rc = attr_remove(w, p)))
		return win_err(w, rc, fn, "the delete function failed");
	return MPI_SUCCESS;
}

int MPI_Win_set_name(MPI_Win win, const char *name)
{
	int rc;
	struct win *w = win_arg(win, __func__, &rc);
	if (!w)
		return rc;
	if (!name)
		return win_err(w, MPI_ERR_ARG, __func__, "name is NULL");
	snprintf(w->name, sizeof w->name, "%s", name);
	return MPI_SUCCESS;
}

int MPI_Win_get_name(MPI_Win win, char *name, int *len)
{
	int rc;
	struct win *w = win_arg(win, __func__, &rc);
	if (!w)
		return rc;
	if (!name || !len)
		return win_err(w, MPI_ERR_ARG, __func__, "NULL argument");
	strcpy(name, w->name);
	*len = (int)strlen(name);
	return MPI_SUCCESS;
}

int MPI_Win_set_info(MPI_Win win, MPI_Info info)
{
	int rc;
	struct win *w = win_arg(win, __func__, &rc);
	if (!w)
		return rc;
	MPI_Info copy = MPI_INFO_NULL;
	if (info != MPI_INFO_NULL && MPI_Info_dup(info, &copy) != MPI_SUCCESS)
		return win_err(w, MPI_ERR_INFO, __func__, "invalid info");
	if (w->info != MPI_INFO_NULL)
		MPI_Info_free(&w->info);
	w->info = copy;
	return MPI_SUCCESS;
}

/* 11.2.7: a new info object with the hints in use, which the user frees. */
int MPI_Win_get_info(MPI_Win win, MPI_Info *info)
{
	int rc;
	struct win *w = win_arg(win, __func__, &rc);
	if (!w)
		return rc;
	if (!info)
		return win_err(w, MPI_ERR_ARG, __func__, "info is NULL");
	rc = w->info != MPI_INFO_NULL ? MPI_Info_dup(w->info, info) : MPI_Info_create(info);
	return rc ? win_err(w, rc, __func__, "cannot copy the info") : MPI_SUCCESS;
}

int MPI_Win_get_group(MPI_Win win, MPI_Group *group)
{
	int rc;
	struct win *w = win_arg(win, __func__, &rc);
	if (!w)
		return rc;
	if (!group)
		return win_err(w, MPI_ERR_ARG, __func__, "group is NULL");
	return MPI_Comm_group(w->comm, group);
}

int MPI_Win_create_errhandler(MPI_Win_errhandler_function *fn, MPI_Errhandler *eh)
{
	return errh_create((void (*)(int *, int *, ...))fn, TORO_KIND_WIN, eh, __func__);
}

int MPI_Win_set_errhandler(MPI_Win win, MPI_Errhandler eh)
{
	int rc;
	struct win *w = win_arg(win, __func__, &rc);
	if (!w)
		return rc;
	if (!errh_valid_for(eh, TORO_KIND_WIN))
		return win_err(w, MPI_ERR_ARG, __func__, "invalid error handler (or one made for communicators)");
	w->errh = eh;
	return MPI_SUCCESS;
}

int MPI_Win_get_errhandler(MPI_Win win, MPI_Errhandler *eh)
{
	int rc;
	struct win *w = win_arg(win, __func__, &rc);
	if (!w)
		return rc;
	if (!eh)
		return win_err(w, MPI_ERR_ARG, __func__, "errhandler is NULL");
	errh_retain(w->errh);
	*eh = w->errh;
	return MPI_SUCCESS;
}

/* 8.3.6: returns MPI_SUCCESS if the handler returns. */
int MPI_Win_call_errhandler(MPI_Win win, int errorcode)
{
	int rc;
	struct win *w = win_arg(win, __func__, &rc);
	if (!w)
		return rc;
	char text[MPI_MAX_ERROR_STRING];
	int len;
	if (MPI_Error_string(errorcode, text, &len) != MPI_SUCCESS)
		snprintf(text, sizeof text, "error code %d", errorcode);
	mpi_err_errh(w->errh, w->handle, errorcode, __func__, "%s", text);
	return MPI_SUCCESS;
}

MPI_Fint MPI_Win_c2f(MPI_Win win)
{
	return (MPI_Fint)win;
}

MPI_Win MPI_Win_f2c(MPI_Fint win)
{
	return (MPI_Win)win;
}
