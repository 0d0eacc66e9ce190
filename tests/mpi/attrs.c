/* Attribute caching (MPI-3.1 6.7) on datatypes and communicators: set,
 * get, delete, the copy callbacks of Type_dup/Comm_dup, the delete
 * callbacks of Type_free/Comm_free, and keyvals freed while in use. */
#include "harness.h"
#include <string.h>

#define W MPI_COMM_WORLD

static int deleted, copied;

static int type_del(MPI_Datatype t, int key, void *val, void *extra)
{
    (void)t, (void)key, (void)extra;
    deleted += *(int *)val;
    return MPI_SUCCESS;
}

static int type_copy(MPI_Datatype t, int key, void *extra, void *in, void *out, int *flag)
{
    (void)t, (void)key, (void)extra;
    copied++;
    *(void **)out = in;
    *flag = 1;
    return MPI_SUCCESS;
}

static int comm_del(MPI_Comm c, int key, void *val, void *extra)
{
    (void)c, (void)key, (void)extra;
    deleted += *(int *)val;
    return MPI_SUCCESS;
}

static void test_type_attrs(void)
{
    int key, key2, a = 3, b = 40, *p = NULL, flag = -1;
    MPI_Datatype t, d;
    begin("type_attrs_set_get_delete");
    MPI_Type_contiguous(2, MPI_INT, &t);
    CHECK(MPI_Type_create_keyval(type_copy, type_del, &key, NULL) == MPI_SUCCESS);
    CHECK(MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, type_del, &key2, NULL) == MPI_SUCCESS);
    CHECK(MPI_Type_get_attr(t, key, &p, &flag) == MPI_SUCCESS && flag == 0);
    CHECK(MPI_Type_set_attr(t, key, &a) == MPI_SUCCESS);
    CHECK(MPI_Type_set_attr(t, key2, &b) == MPI_SUCCESS);
    CHECK(MPI_Type_get_attr(t, key, &p, &flag) == MPI_SUCCESS && flag && p == &a);
    deleted = 0;
    CHECK(MPI_Type_set_attr(t, key, &a) == MPI_SUCCESS && deleted == 3);  /* old value deleted */
    deleted = 0;
    CHECK(MPI_Type_delete_attr(t, key2) == MPI_SUCCESS && deleted == 40);
    CHECK(MPI_Type_get_attr(t, key2, &p, &flag) == MPI_SUCCESS && flag == 0);
    MPI_Type_set_attr(t, key2, &b);
    end();

    begin("type_attrs_dup_and_free");
    copied = 0;
    CHECK(MPI_Type_dup(t, &d) == MPI_SUCCESS && copied == 1);
    flag = 0;
    MPI_Type_get_attr(d, key, &p, &flag);
    CHECK(flag && p == &a);                      /* type_copy copies */
    flag = 1;
    MPI_Type_get_attr(d, key2, &p, &flag);
    CHECK(!flag);                                /* MPI_TYPE_NULL_COPY_FN does not */
    MPI_Type_free_keyval(&key);                  /* still used: callbacks stay */
    CHECK(key == MPI_KEYVAL_INVALID);
    deleted = 0;
    MPI_Type_free(&d);
    CHECK(deleted == 3);
    deleted = 0;
    MPI_Type_free(&t);
    CHECK(deleted == 43);
    MPI_Type_free_keyval(&key2);
    end();
}

static void test_comm_attrs(void)
{
    int key, a = 5, *p = NULL, flag = 0;
    MPI_Comm c;
    begin("comm_attrs_dup_free");
    CHECK(MPI_Comm_create_keyval(MPI_COMM_DUP_FN, comm_del, &key, NULL) == MPI_SUCCESS);
    MPI_Comm_dup(W, &c);
    CHECK(MPI_Comm_set_attr(c, key, &a) == MPI_SUCCESS);
    MPI_Comm tmp;
    MPI_Comm_dup(c, &tmp);
    MPI_Comm_get_attr(tmp, key, &p, &flag);
    CHECK(flag && p == &a);
    deleted = 0;
    MPI_Comm_free(&tmp);
    CHECK(deleted == 5);
    MPI_Comm_free_keyval(&key);
    deleted = 0;
    MPI_Comm_free(&c);
    CHECK(deleted == 5);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    test_type_attrs();
    test_comm_attrs();
    return finish("attrs");
}
