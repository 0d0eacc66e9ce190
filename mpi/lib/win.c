/* Window objects (MPI-3.1 11.2): the four creation flavours, Win_free,
 * Win_shared_query, Win_attach/detach, and the window table. Every rank
 * allocates its struct win_rank and all ranks exchange the pointers
 * (MPI_Allgather of an address: one address space). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "rma.h"

static struct win **wtab;
static int nwtab;

struct win *win_get(MPI_Win h)
{
	if (TORO_HANDLE_KIND(h) != TORO_KIND_WIN || TORO_HANDLE_IS_BUILTIN(h) || h < 0)
		return NULL;
	int i = TORO_HANDLE_INDEX(h);
	return i < nwtab ? wtab[i] : NULL;
}

struct win *win_arg(MPI_Win win, const char *func, int *rc)
{
	*rc = MPI_ERR_OTHER;
	if (!mpi_ready(func))
		return NULL;
	struct win *w = win_get(win);
	if (!w)
		*rc = win_err(NULL, MPI_ERR_WIN, func, "invalid window");
	return w;
}

int win_err(struct win *w, int errclass, const char *func, const char *fmt, ...)
{
	char detail[MPI_MAX_ERROR_STRING];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (!w)
		return mpi_err(MPI_COMM_NULL, errclass, func, "%s", detail);
	return mpi_err_errh(w->errh, w->handle, errclass, func, "%s", detail);
}

void rma_spin_lock(volatile int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

void rma_spin_unlock(volatile int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static bool add_handle(struct win *w)
{
	int i = 0;
	while (i < nwtab && wtab[i])
		i++;
	if (i == nwtab) {
		struct win **t = realloc(wtab, (nwtab + 1) * sizeof *t);
		if (!t)
			return false;
		wtab = t;
		wtab[nwtab++] = NULL;
	}
	wtab[i] = w;
	w->handle = TORO_MAKE_HANDLE(TORO_KIND_WIN, i);
	return true;
}

static void win_destroy(struct win *w)
{
	if (w->handle != MPI_WIN_NULL)
		wtab[TORO_HANDLE_INDEX(w->handle)] = NULL;
	rma_sync_free(w);
	if (w->info != MPI_INFO_NULL)
		MPI_Info_free(&w->info);
	if (w->comm != MPI_COMM_NULL)
		MPI_Comm_free(&w->comm);
	free(w->mine);
	free(w->peer);
	free(w->path);
	free(w);
}

/* Checks the arguments every creation call has. */
static int check_create(const char *func, MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm,
			const void *win)
{
	if (!mpi_ready(func))
		return MPI_ERR_OTHER;
	struct comm *c;
	int rc = check_comm(comm, func, &c);
	if (rc)
		return rc;
	if (c->inter)
		return mpi_err(comm, MPI_ERR_COMM, func, "an intercommunicator (windows need an intracommunicator)");
	if ((rc = check_arg(c, func, win, "win")))
		return rc;
	if (size < 0)
		return mpi_err(comm, MPI_ERR_SIZE, func, "negative size %ld", (long)size);
	if (disp_unit <= 0)
		return mpi_err(comm, MPI_ERR_DISP, func, "displacement unit %d (must be positive)", disp_unit);
	if (info != MPI_INFO_NULL) {
		int n;
		if (MPI_Info_get_nkeys(info, &n) != MPI_SUCCESS)
			return mpi_err(comm, MPI_ERR_INFO, func, "invalid info");
	}
	return MPI_SUCCESS;
}

/* The collective part of every flavour: duplicates comm, publishes this
 * rank's (base, size, disp_unit) and learns everybody's. */
static int win_setup(MPI_Comm comm, void *base, MPI_Aint size, int disp_unit, MPI_Info info, int flavor,
		     struct win **out)
{
	struct win *w = calloc(1, sizeof *w);
	if (!w)
		return MPI_ERR_NO_MEM;
	w->handle = MPI_WIN_NULL;
	w->comm = MPI_COMM_NULL;
	w->info = MPI_INFO_NULL;
	int rc = MPI_Comm_dup(comm, &w->comm);
	if (rc != MPI_SUCCESS) {
		win_destroy(w);
		return rc;
	}
	MPI_Comm_rank(w->comm, &w->rank);
	MPI_Comm_size(w->comm, &w->size);
	w->flavor = flavor;
	w->model = MPI_WIN_UNIFIED;
	w->errh = MPI_ERRORS_ARE_FATAL;   /* 11.6: the default handler of a window */
	w->mine = calloc(1, sizeof *w->mine + w->size * sizeof w->mine->posted[0]);
	w->peer = calloc(w->size, sizeof *w->peer);
	w->path = calloc(w->size, sizeof *w->path);
	bool ok = w->mine && w->peer && w->path && add_handle(w) &&
		  (info == MPI_INFO_NULL || MPI_Info_dup(info, &w->info) == MPI_SUCCESS);
	/* everybody takes part in the exchange, so nobody waits for a rank that failed */
	void *mine = ok ? w->mine : NULL;
	rc = MPI_Allgather(&mine, sizeof mine, MPI_BYTE, w->peer, sizeof mine, MPI_BYTE, w->comm);
	int bad = !ok || rc != MPI_SUCCESS, anybad = 1;
	MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, w->comm);
	if (anybad) {
		win_destroy(w);
		return MPI_ERR_NO_MEM;
	}
	*w->mine = (struct win_rank){.base = base, .size = size, .disp_unit = disp_unit};
	for (int i = 0; i < w->size; i++)
		w->path[i] = &rma_direct;
	rma_sync_init(w);
	MPI_Barrier(w->comm);             /* every win_rank is filled in */
	*out = w;
	return MPI_SUCCESS;
}

int MPI_Win_create(void *base, MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm, MPI_Win *win)
{
	static const char fn[] = "MPI_Win_create";
	int rc = check_create(fn, size, disp_unit, info, comm, win);
	if (rc)
		return rc;
	if (!base && size > 0)
		return mpi_err(comm, MPI_ERR_BASE, fn, "NULL base with size %ld", (long)size);
	struct win *w;
	rc = win_setup(comm, base, size, disp_unit, info, MPI_WIN_FLAVOR_CREATE, &w);
	if (rc)
		return mpi_err(comm, rc, fn, "cannot create the window");
	*win = w->handle;
	return MPI_SUCCESS;
}

int MPI_Win_allocate(MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm, void *baseptr, MPI_Win *win)
{
	static const char fn[] = "MPI_Win_allocate";
	int rc = check_create(fn, size, disp_unit, info, comm, win);
	if (rc)
		return rc;
	if (!baseptr)
		return mpi_err(comm, MPI_ERR_ARG, fn, "baseptr is NULL");
	void *mem = NULL;
	if (posix_memalign(&mem, 64, size ? (size_t)size : 1))
		mem = NULL;
	struct win *w;
	rc = win_setup(comm, mem, size, disp_unit, info, MPI_WIN_FLAVOR_ALLOCATE, &w);
	if (rc || !mem) {
		free(mem);
		return mpi_err(comm, rc ? rc : MPI_ERR_NO_MEM, fn, "cannot allocate %ld bytes", (long)size);
	}
	w->owned = mem;
	*(void **)baseptr = mem;
	*win = w->handle;
	return MPI_SUCCESS;
}

static bool info_true(MPI_Info info, const char *key)
{
	char v[16];
	int flag = 0;
	if (info == MPI_INFO_NULL || MPI_Info_get(info, key, sizeof v - 1, v, &flag) != MPI_SUCCESS || !flag)
		return false;
	return strcmp(v, "true") == 0;
}

/* 11.2.3: by default the segments are contiguous, rank i's right after
 * rank i - 1's; alloc_shared_noncontig lets every rank allocate its own. */
int MPI_Win_allocate_shared(MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm, void *baseptr,
			    MPI_Win *win)
{
	static const char fn[] = "MPI_Win_allocate_shared";
	int rc = check_create(fn, size, disp_unit, info, comm, win);
	if (rc)
		return rc;
	if (!baseptr)
		return mpi_err(comm, MPI_ERR_ARG, fn, "baseptr is NULL");
	int me, n;
	MPI_Comm_rank(comm, &me);
	MPI_Comm_size(comm, &n);
	bool noncontig = info_true(info, "alloc_shared_noncontig");
	MPI_Aint *sizes = malloc(n * sizeof *sizes);
	if (!sizes)
		return mpi_err(comm, MPI_ERR_NO_MEM, fn, "out of memory");
	MPI_Allgather(&size, 1, MPI_AINT, sizes, 1, MPI_AINT, comm);
	MPI_Aint total = 0, offset = 0;
	for (int i = 0; i < n; i++) {
		if (i == me)
			offset = total;
		total += sizes[i];
	}
	free(sizes);
	char *block = NULL;
	if (noncontig || me == 0)
		if (posix_memalign((void **)&block, 64, noncontig ? (size ? (size_t)size : 1) : (total ? (size_t)total : 1)))
			block = NULL;
	if (!noncontig)
		MPI_Bcast(&block, sizeof block, MPI_BYTE, 0, comm);
	char *mem = block ? (noncontig ? block : block + offset) : NULL;
	struct win *w;
	rc = win_setup(comm, mem, size, disp_unit, info, MPI_WIN_FLAVOR_SHARED, &w);
	if (rc || !block) {
		if (noncontig || me == 0)
			free(block);
		return mpi_err(comm, rc ? rc : MPI_ERR_NO_MEM, fn, "cannot allocate the shared window");
	}
	w->owned = noncontig || me == 0 ? block : NULL;
	*(void **)baseptr = mem;
	*win = w->handle;
	return MPI_SUCCESS;
}

int MPI_Win_create_dynamic(MPI_Info info, MPI_Comm comm, MPI_Win *win)
{
	static const char fn[] = "MPI_Win_create_dynamic";
	int rc = check_create(fn, 0, 1, info, comm, win);
	if (rc)
		return rc;
	struct win *w;
	rc = win_setup(comm, MPI_BOTTOM, 0, 1, info, MPI_WIN_FLAVOR_DYNAMIC, &w);
	if (rc)
		return mpi_err(comm, rc, fn, "cannot create the window");
	*win = w->handle;
	return MPI_SUCCESS;
}

/* The target's data at displacement disp, whose bytes lie at lo .. hi
 * relative to it; NULL if they are not all inside the target's window
 * (its attached regions for a dynamic window, where 11.2.4 makes disp an
 * address, as MPI_Get_address gives, and disp_unit 1). */
void *win_target_addr(struct win *w, int target, MPI_Aint disp, MPI_Aint lo, MPI_Aint hi)
{
	struct win_rank *t = w->peer[target];
	if (w->flavor != MPI_WIN_FLAVOR_DYNAMIC) {
		MPI_Aint off = disp * t->disp_unit;
		if (disp < 0 || off + lo < 0 || off + hi > t->size)
			return NULL;
		return (char *)t->base + off;
	}
	void *addr = NULL;
	rma_spin_lock(&t->regions_lock);
	for (int i = 0; i < t->nregions; i++) {
		uintptr_t b = t->regions[i].base;
		if ((uintptr_t)(disp + lo) >= b && (uintptr_t)(disp + hi) <= b + t->regions[i].size)
			addr = (void *)(uintptr_t)disp;
	}
	rma_spin_unlock(&t->regions_lock);
	return addr;
}

int MPI_Win_attach(MPI_Win win, void *base, MPI_Aint size)
{
	static const char fn[] = "MPI_Win_attach";
	int rc;
	struct win *w = win_arg(win, fn, &rc);
	if (!w)
		return rc;
	if (w->flavor != MPI_WIN_FLAVOR_DYNAMIC)
		return win_err(w, MPI_ERR_RMA_FLAVOR, fn, "the window was not made by MPI_Win_create_dynamic");
	if (size < 0 || (!base && size > 0))
		return win_err(w, size < 0 ? MPI_ERR_SIZE : MPI_ERR_BASE, fn, "bad region (%p, %ld)", base, (long)size);
	struct win_rank *t = w->mine;
	uintptr_t b = (uintptr_t)base;
	const char *why = NULL;
	rma_spin_lock(&t->regions_lock);
	for (int i = 0; i < t->nregions && !why; i++)
		if (b < t->regions[i].base + t->regions[i].size && t->regions[i].base < b + size)
			why = "the region overlaps one attached already";
	if (!why && t->nregions == WIN_MAX_REGIONS)
		why = "the window has " WIN_MAX_REGIONS_TEXT " regions attached already (detach one first)";
	if (!why)
		t->regions[t->nregions++] = (struct win_region){b, size};
	rma_spin_unlock(&t->regions_lock);
	return why ? win_err(w, MPI_ERR_RMA_ATTACH, fn, "%s", why) : MPI_SUCCESS;
}

int MPI_Win_detach(MPI_Win win, const void *base)
{
	static const char fn[] = "MPI_Win_detach";
	int rc;
	struct win *w = win_arg(win, fn, &rc);
	if (!w)
		return rc;
	if (w->flavor != MPI_WIN_FLAVOR_DYNAMIC)
		return win_err(w, MPI_ERR_RMA_FLAVOR, fn, "the window was not made by MPI_Win_create_dynamic");
	struct win_rank *t = w->mine;
	bool found = false;
	rma_spin_lock(&t->regions_lock);
	for (int i = 0; i < t->nregions && !found; i++)
		if (t->regions[i].base == (uintptr_t)base) {
			t->regions[i] = t->regions[--t->nregions];
			found = true;
		}
	rma_spin_unlock(&t->regions_lock);
	if (!found)
		return win_err(w, MPI_ERR_RMA_ATTACH, fn, "no region attached at %p", base);
	return MPI_SUCCESS;
}

int MPI_Win_shared_query(MPI_Win win, int rank, MPI_Aint *size, int *disp_unit, void *baseptr)
{
	static const char fn[] = "MPI_Win_shared_query";
	int rc;
	struct win *w = win_arg(win, fn, &rc);
	if (!w)
		return rc;
	if (w->flavor != MPI_WIN_FLAVOR_SHARED)
		return win_err(w, MPI_ERR_RMA_FLAVOR, fn, "not a window of MPI_Win_allocate_shared");
	if (rank != MPI_PROC_NULL && (rank < 0 || rank >= w->size))
		return win_err(w, MPI_ERR_RANK, fn, "invalid rank %d (window of %d ranks)", rank, w->size);
	if (!size || !disp_unit || !baseptr)
		return win_err(w, MPI_ERR_ARG, fn, "NULL argument");
	int r = rank;
	if (r == MPI_PROC_NULL)           /* the lowest rank with a non-empty segment */
		for (r = 0; r < w->size - 1 && w->peer[r]->size == 0; r++)
			;
	*size = w->peer[r]->size;
	*disp_unit = w->peer[r]->disp_unit;
	*(void **)baseptr = w->peer[r]->size || rank != MPI_PROC_NULL ? w->peer[r]->base : NULL;
	return MPI_SUCCESS;
}

/* 11.2.5: collective; every epoch must be over. The barrier makes sure no
 * origin still touches this rank's memory or win_rank. */
int MPI_Win_free(MPI_Win *win)
{
	static const char fn[] = "MPI_Win_free";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	struct win *w = win ? win_get(*win) : NULL;
	if (!w)
		return win_err(NULL, MPI_ERR_WIN, fn, "invalid window");
	if (w->access || w->lock_all || w->nexposed >= 0)
		return win_err(w, MPI_ERR_RMA_SYNC, fn, "an access or exposure epoch is still open");
	for (int i = 0; i < w->size; i++)
		if (w->locked[i])
			return win_err(w, MPI_ERR_RMA_SYNC, fn, "rank %d is still locked", i);
	int rc = win_attrs_delete(w);
	if (rc)
		return win_err(w, rc, fn, "an attribute's delete function failed");
	MPI_Barrier(w->comm);
	free(w->owned);
	*win = MPI_WIN_NULL;
	win_destroy(w);
	return MPI_SUCCESS;
}
