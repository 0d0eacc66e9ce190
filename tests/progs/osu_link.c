/* Everything the OSU Micro-Benchmarks 7.x utility and pt2pt/blocking
 * collective and one-sided code references (DESIGN.md section 10) must
 * link. The calls Toro does not implement must fail with MPI_ERR_UNSUPPORTED_OPERATION
 * through the error handler; the C library calls must link and behave. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

static int failed;

#define CHECK(cond, ...) do { if (!(cond)) { failed++; printf("FAIL line %d: ", __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static void expect_unsupported(const char *name, int rc)
{
	int cls = -1;
	MPI_Error_class(rc, &cls);
	CHECK(cls == MPI_ERR_UNSUPPORTED_OPERATION, "%s returned class %d, want MPI_ERR_UNSUPPORTED_OPERATION", name, cls);
}

int main(int argc, char **argv)
{
	int rank, size;
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);

	/* implemented: Cartesian helpers, datatypes, addresses */
	int dims[2] = {0, 0}, periods[2] = {0, 0}, coords[2];
	MPI_Comm cart;
	CHECK(MPI_Dims_create(size, 2, dims) == MPI_SUCCESS && dims[0] * dims[1] == size, "Dims_create");
	CHECK(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart) == MPI_SUCCESS, "Cart_create");
	int crank;
	MPI_Comm_rank(cart, &crank);
	MPI_Cart_coords(cart, crank, 2, coords);
	int back;
	MPI_Cart_rank(cart, coords, &back);
	CHECK(back == crank, "Cart_rank");
	MPI_Comm_free(&cart);
	MPI_Datatype vec, idx, cont;
	int bl[2] = {1, 2}, disp[2] = {0, 3}, tsize;
	MPI_Type_vector(4, 1, 2, MPI_DOUBLE, &vec);
	MPI_Type_indexed(2, bl, disp, MPI_INT, &idx);
	MPI_Type_contiguous(3, MPI_FLOAT, &cont);
	MPI_Type_commit(&vec);
	MPI_Type_commit(&idx);
	MPI_Type_commit(&cont);
	MPI_Type_size(vec, &tsize);
	CHECK(tsize == 32, "Type_size(vector) = %d", tsize);
	char tname[MPI_MAX_OBJECT_NAME];
	int tlen;
	MPI_Type_get_name(MPI_INT, tname, &tlen);
	CHECK(strcmp(tname, "MPI_INT") == 0, "Type_get_name(MPI_INT) = %s", tname);
	MPI_Type_free(&vec);
	MPI_Type_free(&idx);
	MPI_Type_free(&cont);
	MPI_Aint a1, a2;
	MPI_Get_address(&dims[0], &a1);
	MPI_Get_address(&dims[1], &a2);
	CHECK(a2 - a1 == sizeof(int), "Get_address");

	/* implemented (issue 13): the one-sided calls OSU's utilities use */
	double *base = NULL;
	MPI_Win win = MPI_WIN_NULL;
	CHECK(MPI_Win_allocate(64, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win) == MPI_SUCCESS && base, "Win_allocate");
	CHECK(MPI_Win_free(&win) == MPI_SUCCESS && win == MPI_WIN_NULL, "Win_free");
	CHECK(MPI_Win_create(dims, sizeof dims, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win) == MPI_SUCCESS, "Win_create");
	MPI_Win_free(&win);
	CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win) == MPI_SUCCESS, "Win_create_dynamic");
	CHECK(MPI_Win_attach(win, dims, sizeof dims) == MPI_SUCCESS, "Win_attach");
	MPI_Win_detach(win, dims);
	MPI_Win_free(&win);
	/* not implemented: dynamic processes (README: why) */
	MPI_Comm child;
	expect_unsupported("MPI_Comm_spawn", MPI_Comm_spawn("a.out", MPI_ARGV_NULL, 1, MPI_INFO_NULL, 0, MPI_COMM_WORLD,
							     &child, MPI_ERRCODES_IGNORE));
	char port[MPI_MAX_PORT_NAME];
	expect_unsupported("MPI_Open_port", MPI_Open_port(MPI_INFO_NULL, port));
	/* distributed graphs: no graph on this communicator */
	int indeg, outdeg, weighted;
	int rc = MPI_Dist_graph_neighbors_count(MPI_COMM_WORLD, &indeg, &outdeg, &weighted);
	CHECK(rc != MPI_SUCCESS, "Dist_graph_neighbors_count on a communicator without a graph");
	int src[1], dst[1];
	rc = MPI_Dist_graph_neighbors(MPI_COMM_WORLD, 1, src, MPI_UNWEIGHTED, 1, dst, MPI_UNWEIGHTED);
	CHECK(rc != MPI_SUCCESS, "Dist_graph_neighbors");

	/* the C library calls */
	struct option opts[] = {{"iterations", required_argument, 0, 'i'}, {0, 0, 0, 0}};
	int iters = 0, c;
	while ((c = getopt_long(argc, argv, "i:", opts, NULL)) != -1)
		if (c == 'i')
			iters = atoi(optarg);
	CHECK(iters == 7, "getopt_long --iterations 7 gave %d", iters);
	void *mem = NULL;
	CHECK(posix_memalign(&mem, getpagesize(), 1 << 20) == 0 && ((unsigned long)mem & 4095) == 0, "posix_memalign");
	free(mem);
	CHECK(sysconf(_SC_PAGESIZE) == 4096, "sysconf");
	struct timeval tv;
	CHECK(gettimeofday(&tv, NULL) == 0 && tv.tv_sec > 1600000000, "gettimeofday");
	FILE *p = popen("true", "r");
	CHECK(p == NULL, "popen should fail at run time (no processes)");
	if (p)
		pclose(p);
	CHECK(system("true") != 0, "system should fail at run time");
	char text[] = "a,b,,c";
	int tokens = 0;
	for (char *t = strtok(text, ","); t; t = strtok(NULL, ","))
		tokens++;
	CHECK(tokens == 3, "strtok");
	CHECK(strcasecmp("MPI", "mpi") == 0, "strcasecmp");
	CHECK(pow(2.0, 10) == 1024.0 && log2(1024.0) == 10.0, "pow/log2");

	int all = 0;
	MPI_Allreduce(&failed, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (rank == 0)
		printf("osu_link: %s (%d failures)\n", all ? "FAILED" : "ok", all);
	MPI_Finalize();
	return all != 0;
}
