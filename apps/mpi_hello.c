/* mpi_hello.c -- every rank says who it is and where it runs.
 *
 *   mpicc mpi_hello.c -o mpi_hello && mpirun -n 4 ./mpi_hello
 *   scripts/toro-mpicc apps/mpi_hello.c -o hello.elf && scripts/toro-run -n 4 hello.elf
 */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    int rank, size, len, version, subversion;
    char name[MPI_MAX_PROCESSOR_NAME];

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Get_processor_name(name, &len);
    MPI_Get_version(&version, &subversion);
    printf("Hello from rank %d of %d on %s (MPI %d.%d)\n", rank, size, name, version, subversion);
    MPI_Finalize();
    return 0;
}
