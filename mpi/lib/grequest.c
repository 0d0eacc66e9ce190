/* Generalized requests (MPI-3.1 12.2): operations the program carries out
 * itself and MPI completes through the usual Wait/Test calls. p2p.c holds
 * the request; this file keeps the callbacks and calls them as 12.2 says:
 *   query_fn  when a Wait/Test completes the request (and for
 *             MPI_Request_get_status of a complete one), to fill the status;
 *             its return value is the error the call reports;
 *   free_fn   after query_fn when the request is completed by Wait/Test,
 *             or when both MPI_Request_free and MPI_Grequest_complete have
 *             been called (whichever comes last), without query_fn;
 *   cancel_fn from MPI_Cancel, told whether the request is complete. */
#include <stdlib.h>
#include "impl.h"

struct greq {
	MPI_Grequest_query_function *query;
	MPI_Grequest_free_function *free;
	MPI_Grequest_cancel_function *cancel;
	void *extra;
};

int MPI_Grequest_start(MPI_Grequest_query_function *query_fn, MPI_Grequest_free_function *free_fn,
		       MPI_Grequest_cancel_function *cancel_fn, void *extra_state, MPI_Request *request)
{
	static const char fn[] = "MPI_Grequest_start";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!query_fn || !free_fn || !cancel_fn || !request)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "NULL callback or request");
	struct greq *g = malloc(sizeof *g);
	if (!g)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_NO_MEM, fn, "out of memory");
	*g = (struct greq){query_fn, free_fn, cancel_fn, extra_state};
	int rc = p2p_gen_request(g, request);
	if (rc != MPI_SUCCESS) {
		free(g);
		return mpi_err(MPI_COMM_WORLD, rc, fn, "out of memory");
	}
	return MPI_SUCCESS;
}

int MPI_Grequest_complete(MPI_Request request)
{
	static const char fn[] = "MPI_Grequest_complete";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	int rc = p2p_gen_complete(request);
	if (rc == MPI_ERR_REQUEST)
		return mpi_err(MPI_COMM_WORLD, rc, fn, "not a generalized request that is still pending");
	if (rc != MPI_SUCCESS)
		return mpi_err(MPI_COMM_WORLD, rc, fn, "the free callback failed");
	return MPI_SUCCESS;
}

int grequest_done(void *state, MPI_Status *st, bool release)
{
	struct greq *g = state;
	int rc = MPI_SUCCESS;
	if (st) {
		/* 12.2: query_fn gets a status even when the caller ignores it */
		status_set(st, MPI_UNDEFINED, MPI_UNDEFINED, MPI_SUCCESS, 0, false);
		st->MPI_ERROR = MPI_SUCCESS;
		rc = g->query(g->extra, st);
	}
	if (release) {
		int frc = g->free(g->extra);
		free(g);
		if (rc == MPI_SUCCESS)
			rc = frc;
	}
	return rc;
}

int grequest_cancel(void *state, bool complete)
{
	struct greq *g = state;
	int rc = g->cancel(g->extra, complete);
	return rc == MPI_SUCCESS ? rc : mpi_err(MPI_COMM_WORLD, rc, "MPI_Cancel", "the cancel callback failed");
}
