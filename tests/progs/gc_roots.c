/* What a program's link with --gc-sections (scripts/toro-mpicc) must keep
 * although no call reaches it: constructors and destructors (init and
 * fini arrays), the initial values of _Thread_local variables, and the
 * MPI functions the program does call, among them a big one
 * (MPI_Win_allocate) and a generated "not implemented" one
 * (MPI_Comm_join). tests/test_image_size.py runs it. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int constructed;
static _Thread_local int tls_value = 1234;

__attribute__((constructor)) static void before_main(void)
{
	constructed = 42;
}

__attribute__((destructor)) static void after_main(void)
{
	printf("gc_roots: destructor ran\n");
}

int main(int argc, char **argv)
{
	int rank, cls = -1, *base = NULL, failures = 0;
	MPI_Win win;
	MPI_Comm joined;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	if (constructed != 42 || tls_value != 1234)
		failures++, printf("gc_roots: constructor %d, tls %d\n", constructed, tls_value);
	if (MPI_Win_allocate(sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win) != MPI_SUCCESS || !base)
		failures++, printf("gc_roots: MPI_Win_allocate failed\n");
	else
		MPI_Win_free(&win);
	MPI_Error_class(MPI_Comm_join(0, &joined), &cls);
	if (cls != MPI_ERR_UNSUPPORTED_OPERATION)
		failures++, printf("gc_roots: MPI_Comm_join gave class %d\n", cls);
	printf("gc_roots: rank %d ok (%d failures)\n", rank, failures);
	MPI_Finalize();
	return failures ? EXIT_FAILURE : 0;
}
