/* MPI_Comm_create_group (MPI-3.1 6.4.2): like MPI_Comm_create, but
 * collective only over the members of `group`, so the context id is
 * agreed on by them alone: the first member collects every member's
 * proposal and sends back the largest. The messages use comm's collective
 * context with the user's tag in a range no collective uses (bit 30 set),
 * so that concurrent calls with different tags, and collectives of the
 * other ranks of comm, never take each other's messages. */
#include <stdlib.h>
#include "impl.h"

#define GROUP_TAG_BIT 0x40000000

/* The largest proposal of the n members whose ranks in c are prank[],
 * this rank being member `me`; an error class on failure. */
static int agree_ctx(struct comm *c, const int *prank, int n, int me, int tag, int *ctx)
{
	int mine = comm_ctx_propose(), rc = MPI_SUCCESS;
	tag |= GROUP_TAG_BIT;
	if (me != 0) {
		rc = coll_send(&mine, 1, MPI_INT, prank[0], tag, c);
		return rc ? rc : coll_recv(ctx, 1, MPI_INT, prank[0], tag, c);
	}
	*ctx = mine;
	for (int i = 1; i < n && rc == MPI_SUCCESS; i++) {
		int v;
		rc = coll_recv(&v, 1, MPI_INT, prank[i], tag, c);
		if (rc == MPI_SUCCESS && v > *ctx)
			*ctx = v;
	}
	for (int i = 1; i < n && rc == MPI_SUCCESS; i++)
		rc = coll_send(ctx, 1, MPI_INT, prank[i], tag, c);
	return rc;
}

int MPI_Comm_create_group(MPI_Comm comm, MPI_Group group, int tag, MPI_Comm *newcomm)
{
	static const char fn[] = "MPI_Comm_create_group";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(comm);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, fn, "invalid communicator");
	if (c->inter)
		return mpi_err(comm, MPI_ERR_COMM, fn, "an intercommunicator (6.4.2 wants an intracommunicator)");
	int n;
	const int *members = group_members(group, &n);
	if (!members)
		return mpi_err(comm, MPI_ERR_GROUP, fn, "invalid group");
	if (tag < 0 || tag > TORO_TAG_UB)
		return mpi_err(comm, MPI_ERR_TAG, fn, "invalid tag %d", tag);
	if (!newcomm)
		return mpi_err(comm, MPI_ERR_ARG, fn, "newcomm is NULL");
	if (n == 0) {
		*newcomm = MPI_COMM_NULL;
		return MPI_SUCCESS;
	}
	int *prank = malloc((size_t)n * sizeof *prank), me = -1, missing = 0;
	if (!prank)
		return mpi_err(comm, MPI_ERR_NO_MEM, fn, "out of memory");
	for (int i = 0; i < n; i++) {
		prank[i] = -1;
		for (int r = 0; r < c->size; r++)
			if (c->world[r] == members[i])
				prank[i] = r;
		missing += prank[i] < 0;
		if (members[i] == toro->rank)
			me = i;
	}
	int rc = MPI_SUCCESS, ctx;
	if (missing)
		rc = mpi_err(comm, MPI_ERR_GROUP, fn, "the group is not a subset of the communicator's");
	else if (me < 0)
		rc = mpi_err(comm, MPI_ERR_GROUP, fn, "the calling rank is not in the group");
	else if ((rc = agree_ctx(c, prank, n, me, tag, &ctx)) != MPI_SUCCESS)
		rc = mpi_err(comm, rc, fn, "agreeing on a context id failed");
	free(prank);
	if (rc != MPI_SUCCESS)
		return rc;
	comm_ctx_taken(ctx);
	struct comm *nc = comm_new(n, members, ctx, c->errh);
	if (!nc)
		return mpi_err(comm, MPI_ERR_NO_MEM, fn, "out of memory");
	*newcomm = nc->handle;
	return MPI_SUCCESS;
}
