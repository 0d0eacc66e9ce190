/* ineighbor.c -- the nonblocking neighborhood collectives (MPI-3.1 7.7):
 * Ineighbor_allgather(v), Ineighbor_alltoall(v,w), checked by the same
 * program as the blocking ones (neighbor.c), each call completed by an
 * MPI_Test loop.
 *
 * Prints "ok <test>" lines and "mpi-test ineighbor: N passed, M failed". */
#define NEIGHBOR_NONBLOCKING
#include "neighbor.c"
