/* pi.c -- pi as the integral of 4 / (1 + x^2) over [0, 1] by the midpoint
 * rule; the intervals (command line, default 1000000) are dealt round-robin
 * to the ranks and the partial sums meet in MPI_Reduce on rank 0, which
 * prints pi and its error.
 *
 *   mpirun -n 4 ./pi 10000000        scripts/toro-run -n 4 pi.elf -- 10000000
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define PI25 3.141592653589793238462643

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long n = 1000000;
    if (rank == 0 && argc > 1)
        n = strtol(argv[1], NULL, 10);
    MPI_Bcast(&n, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    if (n < 1) {
        if (rank == 0)
            fprintf(stderr, "pi: the number of intervals must be positive\n");
        MPI_Finalize();
        return 2;
    }
    double t0 = MPI_Wtime();
    double h = 1.0 / (double)n, sum = 0.0;
    for (long i = rank; i < n; i += size) {
        double x = h * ((double)i + 0.5);
        sum += 4.0 / (1.0 + x * x);
    }
    double mine = h * sum, pi = 0.0;
    MPI_Reduce(&mine, &pi, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("pi is approximately %.16f, error %.3e\n", pi, fabs(pi - PI25));
        printf("pi: %ld intervals on %d ranks in %.3f s\n", n, size, MPI_Wtime() - t0);
    }
    MPI_Finalize();
    return 0;
}
