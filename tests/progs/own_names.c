/* A program that defines names Toro's MPI library uses inside (OSU's
 * osu_acc_latency defines dtype_size): it must link and run, and its own
 * definitions must be the ones it calls. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

int dtype_size = 3;                           /* a variable, as OSU has it */
int toro;
int comm_get(int x) { return x + 1; }
int mpi_err(const char *s) { return (int)strlen(s); }
int p2p_isend(void) { return 7; }

int main(int argc, char **argv)
{
	int rank, size, sum = 0;
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int one = 1;
	MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	int mine = dtype_size + comm_get(1) + mpi_err("abcd") + p2p_isend() + toro;
	if (rank == 0)
		printf("own_names: sum %d, mine %d\n", sum, mine);
	MPI_Finalize();
	return 0;
}
