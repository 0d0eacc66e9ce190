/* errors.c -- error handling under MPI_ERRORS_RETURN: wrong calls return the
 * right error class (MPI_Error_class of the returned code) and change
 * nothing; Error_class/Error_string; user error handlers from
 * Comm_create_errhandler called with the communicator and the code;
 * handlers inherited by Comm_dup; Comm_call_errhandler.
 *
 * Only errors whose class the standard names, or where one class plainly
 * fits and Open MPI 4.1 agrees, are checked (see each test).
 * Prints "ok <test>" lines and "mpi-test errors: N passed, M failed". */
#include <limits.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD

static int eclass(int code)
{
    int c = -1;
    if (MPI_Error_class(code, &c) != MPI_SUCCESS)
        return -1;
    return c;
}

static const char *cname(int c)
{
    switch (c) {
    case MPI_SUCCESS: return "MPI_SUCCESS";
    case MPI_ERR_BUFFER: return "MPI_ERR_BUFFER";
    case MPI_ERR_COUNT: return "MPI_ERR_COUNT";
    case MPI_ERR_TYPE: return "MPI_ERR_TYPE";
    case MPI_ERR_TAG: return "MPI_ERR_TAG";
    case MPI_ERR_COMM: return "MPI_ERR_COMM";
    case MPI_ERR_RANK: return "MPI_ERR_RANK";
    case MPI_ERR_REQUEST: return "MPI_ERR_REQUEST";
    case MPI_ERR_ROOT: return "MPI_ERR_ROOT";
    case MPI_ERR_OP: return "MPI_ERR_OP";
    case MPI_ERR_TOPOLOGY: return "MPI_ERR_TOPOLOGY";
    case MPI_ERR_DIMS: return "MPI_ERR_DIMS";
    case MPI_ERR_ARG: return "MPI_ERR_ARG";
    case MPI_ERR_TRUNCATE: return "MPI_ERR_TRUNCATE";
    case MPI_ERR_KEYVAL: return "MPI_ERR_KEYVAL";
    default: return "another class";
    }
}

#define EXPECT(call, want)                                                                    \
    do {                                                                                      \
        int rc_ = (call), c_ = eclass(rc_);                                                   \
        CHECKF(rc_ != MPI_SUCCESS && c_ == (want), "%s returned %d (class %d, %s), expected %s", \
               #call, rc_, c_, cname(c_), #want);                                             \
    } while (0)

/* for errors to which the standard gives no class and two fit */
#define EXPECT2(call, want1, want2)                                                            \
    do {                                                                                       \
        int rc_ = (call), c_ = eclass(rc_);                                                    \
        CHECKF(rc_ != MPI_SUCCESS && (c_ == (want1) || c_ == (want2)),                         \
               "%s returned %d (class %d, %s), expected %s or %s", #call, rc_, c_, cname(c_),  \
               #want1, #want2);                                                                \
    } while (0)

static int x[16], y[16];

static void test_p2p_errors(void)
{
    MPI_Request r;
    begin("p2p_argument_errors");
    EXPECT(MPI_Send(x, 1, MPI_INT, wsize, 0, W), MPI_ERR_RANK);
    EXPECT(MPI_Send(x, 1, MPI_INT, -5, 0, W), MPI_ERR_RANK);
    EXPECT(MPI_Isend(x, 1, MPI_INT, wsize + 3, 0, W, &r), MPI_ERR_RANK);
    EXPECT(MPI_Recv(y, 1, MPI_INT, wsize, 0, W, MPI_STATUS_IGNORE), MPI_ERR_RANK);
    EXPECT(MPI_Send(x, 1, MPI_INT, wrank, -5, W), MPI_ERR_TAG);
    EXPECT(MPI_Send(x, 1, MPI_INT, wrank, MPI_ANY_TAG, W), MPI_ERR_TAG);   /* no wildcard when sending */
    EXPECT(MPI_Recv(y, 1, MPI_INT, wrank, -5, W, MPI_STATUS_IGNORE), MPI_ERR_TAG);
    int *tag_ub, flag = 0;
    MPI_Comm_get_attr(W, MPI_TAG_UB, &tag_ub, &flag);
    if (flag && *tag_ub < INT_MAX)   /* Open MPI's bound is INT_MAX: nothing above it */
        EXPECT(MPI_Send(x, 1, MPI_INT, wrank, *tag_ub + 1, W), MPI_ERR_TAG);
    EXPECT(MPI_Send(x, -1, MPI_INT, wrank, 0, W), MPI_ERR_COUNT);
    EXPECT(MPI_Recv(y, -1, MPI_INT, wrank, 0, W, MPI_STATUS_IGNORE), MPI_ERR_COUNT);
    EXPECT(MPI_Sendrecv_replace(x, -1, MPI_INT, wrank, 0, wrank, 0, W, MPI_STATUS_IGNORE), MPI_ERR_COUNT);
    EXPECT(MPI_Send(x, 1, MPI_DATATYPE_NULL, wrank, 0, W), MPI_ERR_TYPE);
    EXPECT(MPI_Send(x, 1, MPI_INT, 0, 0, MPI_COMM_NULL), MPI_ERR_COMM);
    EXPECT(MPI_Send(NULL, 1, MPI_INT, wrank, 0, W), MPI_ERR_BUFFER);
    EXPECT(MPI_Recv(NULL, 1, MPI_INT, wrank, 0, W, MPI_STATUS_IGNORE), MPI_ERR_BUFFER);
    if (getenv("TORO_RANK")) {  /* Open MPI does not check MPI_IN_PLACE in point to point */
        EXPECT(MPI_Send(MPI_IN_PLACE, 1, MPI_INT, wrank, 0, W), MPI_ERR_BUFFER);
        EXPECT(MPI_Recv(MPI_IN_PLACE, 1, MPI_INT, wrank, 0, W, MPI_STATUS_IGNORE), MPI_ERR_BUFFER);
    }
    /* a datatype that was not committed */
    MPI_Datatype t;
    MPI_Type_contiguous(2, MPI_INT, &t);
    EXPECT(MPI_Send(x, 1, t, MPI_PROC_NULL, 0, W), MPI_ERR_TYPE);
    MPI_Type_free(&t);
    /* truncation */
    int right = (wrank + 1) % wsize, left = (wrank + wsize - 1) % wsize;
    MPI_Isend(x, 10, MPI_INT, right, 1, W, &r);
    EXPECT(MPI_Recv(y, 5, MPI_INT, left, 1, W, MPI_STATUS_IGNORE), MPI_ERR_TRUNCATE);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
    /* requests */
    r = MPI_REQUEST_NULL;
    EXPECT(MPI_Start(&r), MPI_ERR_REQUEST);
    MPI_Request two[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    EXPECT(MPI_Startall(2, two), MPI_ERR_REQUEST);
    EXPECT(MPI_Request_free(&r), MPI_ERR_REQUEST);
    EXPECT(MPI_Cancel(&r), MPI_ERR_REQUEST);
    /* after all that, communication works */
    x[0] = wrank;
    y[0] = -1;
    CHECK(MPI_Sendrecv(x, 1, MPI_INT, right, 2, y, 1, MPI_INT, left, 2, W, MPI_STATUS_IGNORE) == MPI_SUCCESS);
    CHECK(y[0] == left);
    end();
}

static void test_collective_errors(void)
{
    begin("collective_argument_errors");
    /* every rank makes the same wrong call, so none waits for the others */
    EXPECT(MPI_Bcast(x, 1, MPI_INT, wsize, W), MPI_ERR_ROOT);
    EXPECT(MPI_Bcast(x, 1, MPI_INT, -1, W), MPI_ERR_ROOT);
    EXPECT(MPI_Reduce(x, y, 1, MPI_INT, MPI_SUM, wsize, W), MPI_ERR_ROOT);
    EXPECT(MPI_Gather(x, 1, MPI_INT, y, 1, MPI_INT, wsize + 1, W), MPI_ERR_ROOT);
    EXPECT(MPI_Allreduce(x, y, 1, MPI_INT, MPI_OP_NULL, W), MPI_ERR_OP);
    EXPECT(MPI_Reduce(x, y, 1, MPI_INT, MPI_OP_NULL, 0, W), MPI_ERR_OP);
    EXPECT(MPI_Allreduce(x, y, -1, MPI_INT, MPI_SUM, W), MPI_ERR_COUNT);
    EXPECT(MPI_Barrier(MPI_COMM_NULL), MPI_ERR_COMM);
    /* MPI_IN_PLACE where it is not allowed, as the receive buffer: the
     * standard names no class; Open MPI 4.1 says MPI_ERR_ARG for Allgather
     * and Alltoall, MPI_ERR_BUFFER for Allreduce */
    EXPECT2(MPI_Allgather(x, 1, MPI_INT, MPI_IN_PLACE, 1, MPI_INT, W), MPI_ERR_ARG, MPI_ERR_BUFFER);
    EXPECT2(MPI_Alltoall(x, 1, MPI_INT, MPI_IN_PLACE, 1, MPI_INT, W), MPI_ERR_ARG, MPI_ERR_BUFFER);
    EXPECT2(MPI_Allreduce(x, MPI_IN_PLACE, 1, MPI_INT, MPI_SUM, W), MPI_ERR_ARG, MPI_ERR_BUFFER);
    int sum = -1;
    CHECK(MPI_Allreduce(&wrank, &sum, 1, MPI_INT, MPI_SUM, W) == MPI_SUCCESS);
    CHECK(sum == wsize * (wsize - 1) / 2);
    end();
}

static void test_object_errors(void)
{
    begin("object_argument_errors");
    int n;
    MPI_Comm c = MPI_COMM_NULL;
    EXPECT(MPI_Comm_size(MPI_COMM_NULL, &n), MPI_ERR_COMM);
    EXPECT(MPI_Comm_rank(MPI_COMM_NULL, &n), MPI_ERR_COMM);
    EXPECT(MPI_Comm_dup(MPI_COMM_NULL, &c), MPI_ERR_COMM);
    c = W;
    EXPECT(MPI_Comm_free(&c), MPI_ERR_COMM);           /* a predefined communicator */
    c = MPI_COMM_NULL;
    EXPECT(MPI_Comm_free(&c), MPI_ERR_COMM);
    MPI_Datatype t = MPI_INT;
    EXPECT(MPI_Type_free(&t), MPI_ERR_TYPE);            /* a predefined datatype */
    t = MPI_DATATYPE_NULL;
    EXPECT(MPI_Type_commit(&t), MPI_ERR_TYPE);
    EXPECT(MPI_Type_size(MPI_DATATYPE_NULL, &n), MPI_ERR_TYPE);
    EXPECT(MPI_Type_contiguous(-1, MPI_INT, &t), MPI_ERR_COUNT);
    MPI_Op op = MPI_SUM;
    EXPECT(MPI_Op_free(&op), MPI_ERR_OP);               /* a predefined op */
    EXPECT(MPI_Op_create(NULL, 1, &op), MPI_ERR_ARG);
    int *v, flag;
    EXPECT(MPI_Comm_get_attr(W, MPI_KEYVAL_INVALID, &v, &flag), MPI_ERR_KEYVAL);
    EXPECT(MPI_Comm_split_type(MPI_COMM_SELF, 12345, 0, MPI_INFO_NULL, &c), MPI_ERR_ARG);
    MPI_Group g, h;
    int bad_rank = wsize;
    MPI_Comm_group(W, &g);
    EXPECT(MPI_Group_incl(g, 1, &bad_rank, &h), MPI_ERR_RANK);
    MPI_Group_free(&g);
    /* topologies */
    int src, dst, coords[2];
    EXPECT(MPI_Cart_shift(W, 0, 1, &src, &dst), MPI_ERR_TOPOLOGY);   /* not a Cartesian communicator */
    EXPECT(MPI_Cart_coords(W, 0, 2, coords), MPI_ERR_TOPOLOGY);
    int d2[2] = {4, 0};
    EXPECT(MPI_Dims_create(6, 2, d2), MPI_ERR_DIMS);   /* 6 is not a multiple of 4 */
    EXPECT(MPI_Dims_create(6, -1, d2), MPI_ERR_DIMS);
    MPI_Comm cart;
    int one = 1, no = 0, five = 5;
    MPI_Cart_create(MPI_COMM_SELF, 1, &one, &no, 0, &cart);
    EXPECT(MPI_Cart_coords(cart, 3, 1, coords), MPI_ERR_RANK);
    EXPECT(MPI_Cart_rank(cart, &five, &n), MPI_ERR_ARG);   /* outside a non-periodic dimension */
    MPI_Comm_free(&cart);
    /* error classes and strings */
    EXPECT(MPI_Error_class(-12345, &n), MPI_ERR_ARG);
    end();
}

static void test_classes_and_strings(void)
{
    static const int classes[] = {
        MPI_SUCCESS, MPI_ERR_BUFFER, MPI_ERR_COUNT, MPI_ERR_TYPE, MPI_ERR_TAG, MPI_ERR_COMM,
        MPI_ERR_RANK, MPI_ERR_REQUEST, MPI_ERR_ROOT, MPI_ERR_GROUP, MPI_ERR_OP, MPI_ERR_TOPOLOGY,
        MPI_ERR_DIMS, MPI_ERR_ARG, MPI_ERR_UNKNOWN, MPI_ERR_TRUNCATE, MPI_ERR_OTHER, MPI_ERR_INTERN,
        MPI_ERR_IN_STATUS, MPI_ERR_PENDING, MPI_ERR_KEYVAL, MPI_ERR_NO_MEM, MPI_ERR_INFO,
        MPI_ERR_UNSUPPORTED_OPERATION, MPI_ERR_LASTCODE};
    begin("error_classes_and_strings");
    CHECK(MPI_SUCCESS == 0);
    for (size_t k = 0; k < sizeof classes / sizeof classes[0]; k++) {
        char s[MPI_MAX_ERROR_STRING];
        int len = -1, c = -1;
        memset(s, 0, sizeof s);
        CHECK(MPI_Error_class(classes[k], &c) == MPI_SUCCESS);
        if (classes[k] != MPI_ERR_LASTCODE)
            CHECKF(c == classes[k], "MPI_Error_class(%d) = %d", classes[k], c);
        CHECK(MPI_Error_string(classes[k], s, &len) == MPI_SUCCESS);
        CHECKF(len > 0 && len < MPI_MAX_ERROR_STRING && len == (int)strlen(s),
               "MPI_Error_string(%d): length %d, \"%s\"", classes[k], len, s);
        for (size_t j = 0; j < k && classes[k] != MPI_ERR_LASTCODE; j++)
            CHECKF(classes[j] != classes[k], "two classes equal %d", classes[k]);
        if (classes[k] != MPI_SUCCESS)
            CHECKF(classes[k] > 0 && classes[k] <= MPI_ERR_LASTCODE, "class %d", classes[k]);
    }
    end();
}

/* ---- user error handlers ---- */
static int handler_calls, handler_code;
static MPI_Comm handler_comm;

static void my_handler(MPI_Comm *comm, int *code, ...)
{
    handler_calls++;
    handler_code = *code;
    handler_comm = *comm;
}

static void test_user_handler(void)
{
    MPI_Errhandler eh, got;
    MPI_Comm c, d;
    begin("user_error_handler");
    CHECK(MPI_Comm_create_errhandler(my_handler, &eh) == MPI_SUCCESS);
    MPI_Comm_dup(W, &c);
    CHECK(MPI_Comm_set_errhandler(c, eh) == MPI_SUCCESS);
    MPI_Comm_get_errhandler(c, &got);
    CHECK(got == eh);
    MPI_Errhandler_free(&got);

    int rc = MPI_Send(x, 1, MPI_INT, wsize + 2, 0, c);   /* the handler runs, then the call returns */
    CHECK(handler_calls == 1);
    CHECKF(eclass(handler_code) == MPI_ERR_RANK, "handler got class %d", eclass(handler_code));
    CHECK(handler_comm == c);
    CHECKF(rc != MPI_SUCCESS && eclass(rc) == MPI_ERR_RANK, "returned %d", rc);

    EXPECT(MPI_Bcast(x, 1, MPI_INT, -3, c), MPI_ERR_ROOT);
    CHECK(handler_calls == 2 && eclass(handler_code) == MPI_ERR_ROOT);

    CHECK(MPI_Comm_call_errhandler(c, MPI_ERR_OTHER) == MPI_SUCCESS);
    CHECK(handler_calls == 3 && handler_code == MPI_ERR_OTHER && handler_comm == c);

    /* a duplicate inherits the handler */
    MPI_Comm_dup(c, &d);
    handler_comm = MPI_COMM_NULL;
    EXPECT(MPI_Send(x, 1, MPI_INT, 0, -1, d), MPI_ERR_TAG);
    CHECK(handler_calls == 4 && handler_comm == d && eclass(handler_code) == MPI_ERR_TAG);
    MPI_Comm_free(&d);

    /* freeing the handler object: the communicator keeps using it */
    CHECK(MPI_Errhandler_free(&eh) == MPI_SUCCESS);
    CHECK(eh == MPI_ERRHANDLER_NULL);
    EXPECT(MPI_Send(x, -2, MPI_INT, 0, 0, c), MPI_ERR_COUNT);
    CHECK(handler_calls == 5);

    /* back to MPI_ERRORS_RETURN: no more calls */
    MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN);
    MPI_Comm_get_errhandler(c, &got);
    CHECK(got == MPI_ERRORS_RETURN);
    EXPECT(MPI_Send(x, 1, MPI_INT, wsize, 0, c), MPI_ERR_RANK);
    CHECK(handler_calls == 5);
    MPI_Comm_free(&c);

    /* the world's handler was set by this program */
    MPI_Comm_get_errhandler(W, &got);
    CHECK(got == MPI_ERRORS_RETURN);
    end();
}

int main(int argc, char **argv)
{
    MPI_Errhandler eh;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    MPI_Comm_get_errhandler(W, &eh);
    int fatal_default = eh == MPI_ERRORS_ARE_FATAL;
    /* errors not tied to a communicator go to MPI_COMM_WORLD's handler in
     * MPI-3.1, to MPI_COMM_SELF's in MPI-4: set both */
    MPI_Comm_set_errhandler(W, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    begin("default_handler_is_fatal");
    CHECK(fatal_default);
    end();
    test_p2p_errors();
    test_collective_errors();
    test_object_errors();
    test_classes_and_strings();
    test_user_handler();
    return finish("errors");
}
