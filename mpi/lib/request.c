/* Requests (MPI-3.1 3.7): handles, completion calls (Wait/Test and their
 * all/any/some forms), Request_free, Cancel, Request_get_status, and the
 * requests other files make: nbc.c's collectives, RMA's request forms,
 * generalized requests (12.2; the callbacks are grequest.c's). */
#include <stdlib.h>
#include <string.h>
#include "p2p.h"

static struct request **table;
static int table_size;
static MPI_Request free_list = -1;
static struct request *free_reqs;

static bool status_cancelled(const MPI_Status *st) { return st->count_hi_and_cancelled & 1; }

/* ---- handles ---- */
struct request *req_alloc(void)
{
	struct request *r = free_reqs;
	if (r)
		free_reqs = r->next;
	else if (!(r = malloc(sizeof *r)))
		return NULL;
	memset(r, 0, sizeof *r);
	r->handle = MPI_REQUEST_NULL;
	return r;
}

MPI_Request req_handle(struct request *r)
{
	if (r->handle != MPI_REQUEST_NULL)
		return r->handle;
	if (free_list < 0) {
		int n = table_size ? table_size * 2 : 64;
		struct request **t = realloc(table, n * sizeof *t);
		if (!t)
			return MPI_REQUEST_NULL;
		for (int i = table_size; i < n; i++)
			t[i] = (struct request *)(intptr_t)(i + 1 < n ? i + 1 : -1);
		free_list = table_size;
		table = t;
		table_size = n;
	}
	int i = free_list;
	free_list = (int)(intptr_t)table[i];
	table[i] = r;
	r->handle = TORO_MAKE_HANDLE(TORO_KIND_REQUEST, i);
	return r->handle;
}

struct request *req_get(MPI_Request h)
{
	if (TORO_HANDLE_KIND(h) != TORO_KIND_REQUEST || TORO_HANDLE_IS_BUILTIN(h))
		return NULL;
	int i = TORO_HANDLE_INDEX(h);
	if (i >= table_size || (uintptr_t)table[i] < 4096 * 16)
		return NULL;
	return table[i];
}

void req_release(struct request *r)
{
	if (r->holds_dt) {
		dtype_release(r->dt);
		comm_release(r->comm);
	}
	r->holds_dt = false;
	if (r->handle != MPI_REQUEST_NULL) {
		int i = TORO_HANDLE_INDEX(r->handle);
		table[i] = (struct request *)(intptr_t)free_list;
		free_list = i;
	}
	r->next = free_reqs;
	free_reqs = r;
}

void req_unhandle(struct request *r)
{
	int i = TORO_HANDLE_INDEX(r->handle);
	table[i] = (struct request *)(intptr_t)free_list;
	free_list = i;
	r->handle = MPI_REQUEST_NULL;
}

/* Fills *st and retires the request (a persistent one becomes inactive). */
static int finish(struct request *r, MPI_Request *h, MPI_Status *st)
{
	if (r->kind == REQ_GEN)
		r->error = grequest_done(r->gen, &r->status, true);
	int err = r->kind != REQ_SEND ? r->error : MPI_SUCCESS;
	if (st != MPI_STATUS_IGNORE) {
		int e = st->MPI_ERROR;
		*st = r->status;
		st->MPI_ERROR = e;
	}
	r->active = false;
	if (r->persistent)
		return err;
	if (h)
		*h = MPI_REQUEST_NULL;
	req_release(r);
	return err;
}

void empty_status(MPI_Status *st)
{
	status_set(st, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_SUCCESS, 0, false);
	if (st != MPI_STATUS_IGNORE)
		st->MPI_ERROR = MPI_SUCCESS;
}

/* A request that is already complete, for the request forms of RMA
 * (MPI_Rput ...), whose operations finish inside the call. */
int p2p_done_request(MPI_Request *req)
{
	struct request *r = req_alloc();
	if (!r || req_handle(r) == MPI_REQUEST_NULL) {
		free(r);
		return MPI_ERR_NO_MEM;
	}
	r->kind = REQ_SEND;
	r->active = r->complete = true;
	empty_status(&r->status);
	*req = r->handle;
	return MPI_SUCCESS;
}

void *p2p_coll_request(struct comm *c, MPI_Request *h)
{
	struct request *r = req_alloc();
	if (!r)
		return NULL;
	req_fill(r, REQ_COLL, NULL, 0, MPI_BYTE, MPI_PROC_NULL, 0, c, 1, MODE_STANDARD);
	req_hold(r);
	r->active = true;
	*h = req_handle(r);
	if (*h == MPI_REQUEST_NULL) {
		req_release(r);
		return NULL;
	}
	return r;
}

/* MPI-3.1 5.12: the status of a completed collective is empty. */
void p2p_coll_done(void *req, int err)
{
	struct request *r = req;
	status_set(&r->status, MPI_ANY_SOURCE, MPI_ANY_TAG, err, 0, false);
	r->status.MPI_ERROR = err;
	r->error = err;
	r->complete = true;
}

int p2p_poll(MPI_Request *req, bool *done)
{
	struct request *r = req_get(*req);
	*done = !r || req_done(r);
	return r && *done ? finish(r, req, MPI_STATUS_IGNORE) : MPI_SUCCESS;
}

bool p2p_wakes(MPI_Request req)
{
	struct request *r = req_get(req);
	return r && r->waits_done && __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
}

int p2p_wait(MPI_Request *req, MPI_Status *st)
{
	struct request *r = req_get(*req);
	if (!r)
		return MPI_ERR_REQUEST;
	wait_one(r);
	return finish(r, req, st);
}

int p2p_waitall(int n, MPI_Request *reqs, MPI_Status *sts)
{
	int err = MPI_SUCCESS;
	for (int i = 0; i < n; i++) {
		if (reqs[i] == MPI_REQUEST_NULL)
			continue;
		int e = p2p_wait(&reqs[i], sts == MPI_STATUSES_IGNORE ? MPI_STATUS_IGNORE : &sts[i]);
		if (e && !err)
			err = e;
	}
	return err;
}

/* ---- completion calls ---- */

static int p2p_gen_free(struct request *r, MPI_Request *h);

/* What the error of a completed request was about. */
static const char *err_text(int err)
{
	if (err == MPI_ERR_TRUNCATE)
		return "message truncated";
	return err == MPI_ERR_NO_MEM ? "out of memory" : "the operation failed";
}

/* A handle that a completion call may be given: MPI_REQUEST_NULL, an
 * inactive persistent request (both complete at once, with an empty
 * status), or an active one. */
static int lookup(const char *fn, MPI_Request h, struct request **out)
{
	*out = NULL;
	if (h == MPI_REQUEST_NULL)
		return MPI_SUCCESS;
	struct request *r = req_get(h);
	if (!r)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_REQUEST, fn, "invalid request handle");
	*out = r->active ? r : NULL;
	return MPI_SUCCESS;
}

int MPI_Wait(MPI_Request *req, MPI_Status *st)
{
	if (!mpi_ready("MPI_Wait"))
		return MPI_ERR_OTHER;
	if (!req)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Wait", "NULL request pointer");
	struct request *r;
	int err = lookup("MPI_Wait", *req, &r);
	if (err)
		return err;
	if (!r) {
		empty_status(st);
		return MPI_SUCCESS;
	}
	wait_one(r);
	MPI_Comm comm = r->comm_handle;
	err = finish(r, req, st);
	return err ? mpi_err(comm, err, "MPI_Wait", "%s", err_text(err)) : MPI_SUCCESS;
}

int MPI_Test(MPI_Request *req, int *flag, MPI_Status *st)
{
	if (!mpi_ready("MPI_Test"))
		return MPI_ERR_OTHER;
	if (!req || !flag)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Test", "NULL argument");
	struct request *r;
	int err = lookup("MPI_Test", *req, &r);
	if (err)
		return err;
	*flag = 1;
	if (!r) {
		empty_status(st);
		return MPI_SUCCESS;
	}
	p2p_progress();
	if (!req_done(r)) {
		*flag = 0;
		return MPI_SUCCESS;
	}
	MPI_Comm comm = r->comm_handle;
	err = finish(r, req, st);
	return err ? mpi_err(comm, err, "MPI_Test", "%s", err_text(err)) : MPI_SUCCESS;
}

/* Completes every request; per-request errors go to the statuses and the
 * call returns MPI_ERR_IN_STATUS (3.7.5). */
static int complete_some(const char *fn, int n, MPI_Request reqs[], MPI_Status sts[], bool all, bool block,
			 int *flag, int *outcount, int indices[])
{
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (n < 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_COUNT, fn, "negative count %d", n);
	if (n > 0 && !reqs)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, fn, "NULL request array");
	struct request *rs[n > 0 ? n : 1];
	int active = 0;
	for (int i = 0; i < n; i++) {
		int err = lookup(fn, reqs[i], &rs[i]);
		if (err)
			return err;
		active += rs[i] != NULL;
	}
	bool ignore = sts == MPI_STATUSES_IGNORE;
	for (;;) {
		p2p_progress();
		int done = 0;
		for (int i = 0; i < n; i++)
			done += rs[i] && req_done(rs[i]);
		if (all ? done == active : (done > 0 || active == 0))
			break;
		if (!block) {
			if (flag)
				*flag = 0;
			if (outcount)
				*outcount = 0;
			return MPI_SUCCESS;
		}
		wait_for_event(rs, n);
	}
	if (flag)
		*flag = 1;
	int count = 0, errors = 0;
	MPI_Comm errcomm = MPI_COMM_WORLD;
	for (int i = 0; i < n; i++) {
		if (!rs[i]) {
			if (all && !ignore)
				empty_status(&sts[i]);
			continue;
		}
		if (!req_done(rs[i]))
			continue;
		MPI_Status *st = ignore ? MPI_STATUS_IGNORE : &sts[all ? i : count];
		MPI_Comm comm = rs[i]->comm_handle;
		int err = finish(rs[i], &reqs[i], st);
		if (st != MPI_STATUS_IGNORE)
			st->MPI_ERROR = err;
		if (err) {
			errors++;
			errcomm = comm;
		}
		if (indices)
			indices[count] = i;
		count++;
	}
	if (outcount)
		*outcount = active == 0 ? MPI_UNDEFINED : count;
	return errors ? mpi_err(errcomm, MPI_ERR_IN_STATUS, fn, "%d requests failed", errors) : MPI_SUCCESS;
}

int MPI_Waitall(int n, MPI_Request reqs[], MPI_Status sts[])
{
	return complete_some("MPI_Waitall", n, reqs, sts, true, true, NULL, NULL, NULL);
}

int MPI_Testall(int n, MPI_Request reqs[], int *flag, MPI_Status sts[])
{
	return complete_some("MPI_Testall", n, reqs, sts, true, false, flag, NULL, NULL);
}

int MPI_Waitsome(int n, MPI_Request reqs[], int *outcount, int indices[], MPI_Status sts[])
{
	return complete_some("MPI_Waitsome", n, reqs, sts, false, true, NULL, outcount, indices);
}

int MPI_Testsome(int n, MPI_Request reqs[], int *outcount, int indices[], MPI_Status sts[])
{
	return complete_some("MPI_Testsome", n, reqs, sts, false, false, NULL, outcount, indices);
}

/* Waitany/Testany complete exactly one request (the first done). */
static int complete_any(const char *fn, int n, MPI_Request reqs[], int *index, int *flag, MPI_Status *st, bool block)
{
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (n < 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_COUNT, fn, "negative count %d", n);
	struct request *rs[n > 0 ? n : 1];
	int active = 0;
	for (int i = 0; i < n; i++) {
		int err = lookup(fn, reqs[i], &rs[i]);
		if (err)
			return err;
		active += rs[i] != NULL;
	}
	*index = MPI_UNDEFINED;
	if (flag)
		*flag = 1;
	if (active == 0) {
		empty_status(st);
		return MPI_SUCCESS;
	}
	for (;;) {
		p2p_progress();
		for (int i = 0; i < n; i++) {
			if (rs[i] && req_done(rs[i])) {
				*index = i;
				MPI_Comm comm = rs[i]->comm_handle;
				int err = finish(rs[i], &reqs[i], st);
				return err ? mpi_err(comm, err, fn, "%s", err_text(err)) : MPI_SUCCESS;
			}
		}
		if (!block) {
			*flag = 0;
			return MPI_SUCCESS;
		}
		wait_for_event(rs, n);
	}
}

int MPI_Waitany(int n, MPI_Request reqs[], int *index, MPI_Status *st)
{
	return complete_any("MPI_Waitany", n, reqs, index, NULL, st, true);
}

int MPI_Testany(int n, MPI_Request reqs[], int *index, int *flag, MPI_Status *st)
{
	return complete_any("MPI_Testany", n, reqs, index, flag, st, false);
}

int MPI_Request_get_status(MPI_Request req, int *flag, MPI_Status *st)
{
	struct request *r;
	int err = lookup("MPI_Request_get_status", req, &r);
	if (err)
		return err;
	p2p_progress();
	*flag = !r || req_done(r);
	if (r && *flag && r->kind == REQ_GEN && (err = grequest_done(r->gen, &r->status, false)))
		return mpi_err(MPI_COMM_WORLD, err, "MPI_Request_get_status", "the query callback failed");
	if (!r)
		empty_status(st);
	else if (*flag && st != MPI_STATUS_IGNORE)
		*st = r->status;
	return MPI_SUCCESS;
}

int MPI_Request_free(MPI_Request *req)
{
	if (!req || *req == MPI_REQUEST_NULL)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Request_free", "MPI_REQUEST_NULL");
	struct request *r = req_get(*req);
	if (!r)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Request_free", "invalid request handle");
	if (r->kind == REQ_GEN)
		return p2p_gen_free(r, req);
	req_unhandle(r);
	*req = MPI_REQUEST_NULL;
	if (!r->active || req_done(r))
		req_release(r);
	else
		orphan_add(r);  /* completes unseen; released once progress sees it done */
	return MPI_SUCCESS;
}

/* Only receives still waiting for a message can be cancelled (3.8.4). */
int MPI_Cancel(MPI_Request *req)
{
	struct request *r = req ? req_get(*req) : NULL;
	if (!r)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Cancel", "invalid request handle");
	if (r->kind == REQ_GEN)
		return grequest_cancel(r->gen, r->complete);
	if (r->kind != REQ_RECV || !r->active || r->complete)
		return MPI_SUCCESS;
	if (match_cancel(r)) {
		r->complete = true;
		r->error = MPI_SUCCESS;
		status_set(&r->status, r->peer, r->tag, 0, 0, true);
	}
	return MPI_SUCCESS;
}

int MPI_Test_cancelled(const MPI_Status *st, int *flag)
{
	if (!st || st == MPI_STATUS_IGNORE || !flag)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Test_cancelled", "NULL argument");
	*flag = status_cancelled(st);
	return MPI_SUCCESS;
}

int MPI_Status_set_cancelled(MPI_Status *st, int flag)
{
	if (!st || st == MPI_STATUS_IGNORE)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Status_set_cancelled", "NULL status");
	st->count_hi_and_cancelled = (st->count_hi_and_cancelled & ~1) | (flag ? 1 : 0);
	return MPI_SUCCESS;
}

/* ---- generalized requests (12.2; the callbacks are grequest.c's) ---- */

int p2p_gen_request(void *state, MPI_Request *req)
{
	struct request *r = req_alloc();
	if (!r || req_handle(r) == MPI_REQUEST_NULL) {
		free(r);
		return MPI_ERR_NO_MEM;
	}
	r->kind = REQ_GEN;
	r->active = true;
	r->gen = state;
	r->comm_handle = MPI_COMM_WORLD;
	empty_status(&r->status);
	*req = r->handle;
	return MPI_SUCCESS;
}

int p2p_gen_complete(MPI_Request h)
{
	struct request *r = req_get(h);
	if (!r || r->kind != REQ_GEN || r->complete)
		return MPI_ERR_REQUEST;
	__atomic_store_n(&r->complete, true, __ATOMIC_RELEASE);
	toro->notify(toro->rank);
	if (!r->freed)
		return MPI_SUCCESS;
	int err = grequest_done(r->gen, NULL, true);
	req_release(r);
	return err;
}

/* MPI_Request_free of a generalized request: freed at once when it is
 * complete, else when MPI_Grequest_complete is called (12.2); its handle
 * stays valid for that call. */
static int p2p_gen_free(struct request *r, MPI_Request *h)
{
	*h = MPI_REQUEST_NULL;
	if (!r->complete) {
		r->freed = true;
		return MPI_SUCCESS;
	}
	int err = grequest_done(r->gen, NULL, true);
	req_release(r);
	return err ? mpi_err(MPI_COMM_WORLD, err, "MPI_Request_free", "the free callback failed") : MPI_SUCCESS;
}

