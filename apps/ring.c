/* ring.c -- a token goes around the ring of ranks N times (N from the
 * command line, default 10); every rank adds 1 as it passes. Rank 0 prints
 * the final value and checks it: N * size.
 *
 *   mpirun -n 4 ./ring 1000          scripts/toro-run -n 4 ring.elf -- 1000
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rank, size, token = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long laps = argc > 1 ? strtol(argv[1], NULL, 10) : 10;
    if (laps < 1 || laps > 100000000L / size) {
        if (rank == 0)
            fprintf(stderr, "ring: laps must be between 1 and %ld\n", 100000000L / size);
        MPI_Finalize();
        return 2;
    }
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    double t0 = MPI_Wtime();
    for (long lap = 0; lap < laps; lap++) {
        if (size == 1) {
            token++;    /* alone: the ring is a message to itself */
            MPI_Sendrecv_replace(&token, 1, MPI_INT, 0, 0, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else if (rank == 0) {
            token++;
            MPI_Send(&token, 1, MPI_INT, next, 0, MPI_COMM_WORLD);
            MPI_Recv(&token, 1, MPI_INT, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(&token, 1, MPI_INT, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            token++;
            MPI_Send(&token, 1, MPI_INT, next, 0, MPI_COMM_WORLD);
        }
    }
    double t = MPI_Wtime() - t0;
    int status = 0;
    if (rank == 0) {
        long expect = laps * size;
        status = token != expect;
        printf("ring: token %d after %ld laps on %d ranks (expected %ld): %s\n", token, laps, size, expect,
               status ? "WRONG" : "OK");
        printf("ring: %.2f us per hop\n", t / (laps * size) * 1e6);
    }
    MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return status;
}
