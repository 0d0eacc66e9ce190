/* heat2d.c -- the 2-D heat equation, Jacobi iteration of the 5-point
 * stencil on an NY x NX grid with fixed boundary temperatures, for a fixed
 * number of steps. The grid is split into blocks over a 2-D process grid
 * (MPI_Dims_create + MPI_Cart_create); each step exchanges halos with
 * MPI_Sendrecv to the neighbours MPI_Cart_shift names (rows as contiguous
 * doubles, columns with an MPI_Type_vector). Rank 0 then gathers the blocks,
 * computes the same steps serially and compares: the stencil is evaluated in
 * the same order, so the results should agree exactly.
 *
 *   heat2d [NX [NY [STEPS]]]          (default 64 48 200)
 * Prints the max difference and "heat2d: OK", or "heat2d: FAILED" and exits 1. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the fixed temperature just outside the grid (gy or gx is -1 or NY/NX) */
static double boundary(int gy, int gx, int ny, int nx)
{
    if (gy < 0)
        return 100.0;          /* a hot top edge */
    if (gy >= ny)
        return 0.0;
    if (gx < 0)
        return 25.0;
    if (gx >= nx)
        return 75.0;
    return 0.0;                /* the interior starts cold */
}

/* rows of a block: n cells over p parts, part c */
static int part_size(int n, int p, int c) { return n / p + (c < n % p); }
static int part_start(int n, int p, int c) { return c * (n / p) + (c < n % p ? c : n % p); }

/* One Jacobi step on an (h+2) x (w+2) array with halos: from u into v. */
static void step(const double *u, double *v, int h, int w)
{
    int s = w + 2;
    for (int i = 1; i <= h; i++)
        for (int j = 1; j <= w; j++)
            v[i * s + j] = 0.25 * (u[(i - 1) * s + j] + u[(i + 1) * s + j] + u[i * s + j - 1] + u[i * s + j + 1]);
}

/* an (h+2) x (w+2) array for the block at (y0, x0): interior and halo */
static double *block_alloc(int h, int w, int y0, int x0, int ny, int nx)
{
    double *a = malloc((size_t)(h + 2) * (w + 2) * sizeof *a);
    for (int i = 0; i < h + 2; i++)
        for (int j = 0; j < w + 2; j++)
            a[i * (w + 2) + j] = boundary(y0 + i - 1, x0 + j - 1, ny, nx);
    return a;
}

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int nx = argc > 1 ? atoi(argv[1]) : 64;
    int ny = argc > 2 ? atoi(argv[2]) : 48;
    int steps = argc > 3 ? atoi(argv[3]) : 200;

    int dims[2] = {0, 0}, periods[2] = {0, 0}, coords[2];
    MPI_Dims_create(size, 2, dims);
    if (nx < dims[1] || ny < dims[0] || steps < 0) {
        if (rank == 0)
            fprintf(stderr, "heat2d: a %d x %d grid cannot be split %d x %d ways (or bad steps)\n", ny, nx,
                    dims[0], dims[1]);
        MPI_Finalize();
        return 2;
    }
    MPI_Comm cart;
    MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart);
    MPI_Cart_coords(cart, rank, 2, coords);
    int up, down, left, right;
    MPI_Cart_shift(cart, 0, 1, &up, &down);     /* dimension 0: rows of blocks */
    MPI_Cart_shift(cart, 1, 1, &left, &right);  /* dimension 1: columns of blocks */

    int h = part_size(ny, dims[0], coords[0]), y0 = part_start(ny, dims[0], coords[0]);
    int w = part_size(nx, dims[1], coords[1]), x0 = part_start(nx, dims[1], coords[1]);
    int s = w + 2;
    double *u = block_alloc(h, w, y0, x0, ny, nx), *v = block_alloc(h, w, y0, x0, ny, nx);
    MPI_Datatype column;
    MPI_Type_vector(h, 1, s, MPI_DOUBLE, &column);
    MPI_Type_commit(&column);

    double t0 = MPI_Wtime();
    for (int t = 0; t < steps; t++) {
        /* halos: at the edges of the grid the neighbour is MPI_PROC_NULL and
         * the halo keeps the boundary temperature */
        MPI_Sendrecv(&u[1 * s + 1], w, MPI_DOUBLE, up, 0, &u[(h + 1) * s + 1], w, MPI_DOUBLE, down, 0, cart,
                     MPI_STATUS_IGNORE);
        MPI_Sendrecv(&u[h * s + 1], w, MPI_DOUBLE, down, 1, &u[0 * s + 1], w, MPI_DOUBLE, up, 1, cart,
                     MPI_STATUS_IGNORE);
        MPI_Sendrecv(&u[1 * s + 1], 1, column, left, 2, &u[1 * s + w + 1], 1, column, right, 2, cart,
                     MPI_STATUS_IGNORE);
        MPI_Sendrecv(&u[1 * s + w], 1, column, right, 3, &u[1 * s + 0], 1, column, left, 3, cart,
                     MPI_STATUS_IGNORE);
        step(u, v, h, w);
        double *tmp = u;
        u = v;
        v = tmp;
    }
    double elapsed = MPI_Wtime() - t0;

    /* gather the blocks on rank 0 */
    int mine[4] = {y0, x0, h, w}, *info = NULL, *counts = NULL, *displs = NULL;
    double *blk = malloc((size_t)(h * w > 0 ? h * w : 1) * sizeof *blk), *all = NULL;
    for (int i = 0; i < h; i++)
        memcpy(&blk[i * w], &u[(i + 1) * s + 1], w * sizeof *blk);
    if (rank == 0) {
        info = malloc(4 * size * sizeof *info);
        counts = malloc(size * sizeof *counts);
        displs = malloc(size * sizeof *displs);
        all = malloc((size_t)nx * ny * sizeof *all);
    }
    MPI_Gather(mine, 4, MPI_INT, info, 4, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0)
        for (int p = 0, pos = 0; p < size; p++) {
            counts[p] = info[4 * p + 2] * info[4 * p + 3];
            displs[p] = pos;
            pos += counts[p];
        }
    double *packed = rank == 0 ? malloc((size_t)nx * ny * sizeof *packed) : NULL;
    MPI_Gatherv(blk, h * w, MPI_DOUBLE, packed, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);

    int status = 0;
    if (rank == 0) {
        for (int p = 0; p < size; p++) {
            int py = info[4 * p], px = info[4 * p + 1], ph = info[4 * p + 2], pw = info[4 * p + 3];
            for (int i = 0; i < ph; i++)
                memcpy(&all[(size_t)(py + i) * nx + px], &packed[displs[p] + i * pw], pw * sizeof *all);
        }
        /* the same steps, serially */
        double *a = block_alloc(ny, nx, 0, 0, ny, nx), *b = block_alloc(ny, nx, 0, 0, ny, nx);
        for (int t = 0; t < steps; t++) {
            step(a, b, ny, nx);
            double *tmp = a;
            a = b;
            b = tmp;
        }
        double maxdiff = 0, sum = 0;
        for (int i = 0; i < ny; i++)
            for (int j = 0; j < nx; j++) {
                double d = fabs(all[(size_t)i * nx + j] - a[(i + 1) * (nx + 2) + j + 1]);
                if (d > maxdiff || d != d)
                    maxdiff = d;
                sum += all[(size_t)i * nx + j];
            }
        status = !(maxdiff <= 1e-12);
        printf("heat2d: %d x %d grid, %d steps, %d x %d ranks, %.3f s\n", ny, nx, steps, dims[0], dims[1],
               elapsed);
        printf("heat2d: mean temperature %.6f\n", sum / ((double)nx * ny));
        printf("heat2d: max difference from the serial run %.3e\n", maxdiff);
        printf("heat2d: %s\n", status ? "FAILED" : "OK");
        free(a);
        free(b);
    }
    MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Type_free(&column);
    MPI_Comm_free(&cart);
    free(u);
    free(v);
    free(blk);
    free(info);
    free(counts);
    free(displs);
    free(all);
    free(packed);
    MPI_Finalize();
    return status;
}
