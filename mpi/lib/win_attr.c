/* What a window carries besides its memory and attributes (attr.c):
 * names, info, the group, error handlers and the Fortran handle
 * conversion (MPI-3.1 6.8, 8.3.2, 11.2.7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rma.h"

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
