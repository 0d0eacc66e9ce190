/* The profiling interface (MPI-3.1 14.2): the program defines MPI_Send and
 * MPI_Barrier itself, counts the calls and forwards them to PMPI_. */
#include <mpi.h>
#include <stdio.h>

static int sends, barriers;

int MPI_Send(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm)
{
	sends++;
	return PMPI_Send(buf, count, dt, dest, tag, comm);
}

int MPI_Barrier(MPI_Comm comm)
{
	barriers++;
	return PMPI_Barrier(comm);
}

int main(int argc, char **argv)
{
	int rank, size, v = 0;
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (rank == 0)
		for (int r = 1; r < size; r++)
			MPI_Send(&r, 1, MPI_INT, r, 0, MPI_COMM_WORLD);
	else
		MPI_Recv(&v, 1, MPI_INT, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	MPI_Barrier(MPI_COMM_WORLD);
	MPI_Finalize(); /* its internal barrier is the library's, not the program's */
	printf("rank %d: value %d, %d sends and %d barriers seen by the wrapper\n", rank, v, sends, barriers);
	return 0;
}
