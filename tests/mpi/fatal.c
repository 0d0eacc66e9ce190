/* fatal.c -- errors that end the job (not a self-passing test: the caller
 * checks the job's exit status and output).
 *
 *   fatal fatal     the last rank calls MPI_Send to rank size+5 under the
 *                   default handler, MPI_ERRORS_ARE_FATAL, while the others
 *                   wait in a barrier: the job must end with a non-zero
 *                   status and a message naming the error
 *   fatal abort N   the last rank calls MPI_Abort(MPI_COMM_WORLD, N) while
 *                   the others wait in a barrier: the job's status is N
 *
 * Reaching the end of main is a failure: it prints "fatal: not ended" and
 * returns 3. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int rank, size, x = 42;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *mode = argc > 1 ? argv[1] : "fatal";

    if (strcmp(mode, "fatal") == 0) {
        if (rank == size - 1) {
            printf("fatal: rank %d sends to rank %d\n", rank, size + 5);
            fflush(stdout);
            MPI_Send(&x, 1, MPI_INT, size + 5, 0, MPI_COMM_WORLD);
            printf("fatal: MPI_Send returned on rank %d\n", rank);
            fflush(stdout);
        } else {
            MPI_Barrier(MPI_COMM_WORLD);
        }
    } else if (strcmp(mode, "abort") == 0) {
        int code = argc > 2 ? atoi(argv[2]) : 1;
        if (rank == size - 1) {
            printf("fatal: rank %d calls MPI_Abort(MPI_COMM_WORLD, %d)\n", rank, code);
            fflush(stdout);
            MPI_Abort(MPI_COMM_WORLD, code);
            printf("fatal: MPI_Abort returned on rank %d\n", rank);
            fflush(stdout);
        } else {
            MPI_Barrier(MPI_COMM_WORLD);
        }
    } else {
        if (rank == 0)
            fprintf(stderr, "usage: fatal [fatal | abort N]\n");
        MPI_Finalize();
        return 2;
    }
    printf("fatal: not ended (rank %d)\n", rank);
    MPI_Finalize();
    return 3;
}
