/* p2p_nonblocking.c -- nonblocking point to point: Isend/Issend/Irsend/
 * Ibsend/Irecv; Wait, Waitall, Waitany, Waitsome, Test, Testall, Testany,
 * Testsome (incomplete requests, MPI_REQUEST_NULL entries, MPI_UNDEFINED);
 * 200 outstanding messages to each peer; Request_free on a send; Cancel of
 * an unmatched receive; Probe/Iprobe with wildcards, then receiving exactly
 * the probed message; persistent requests (Send_init/Ssend_init/Recv_init,
 * Start/Startall) reused; message ordering (non-overtaking), also through
 * wildcard receives and across eager/large sizes.
 *
 * Prints "ok <test>" lines and "mpi-test p2p_nonblocking: N passed, M failed". */
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD
static int left, right;

static int value(int src, int dst, int i) { return src * 1000003 + dst * 1009 + i; }

static void check_empty_status(const MPI_Status *st)
{
    int n = -1;
    MPI_Get_count(st, MPI_INT, &n);
    CHECKF(st->MPI_SOURCE == MPI_ANY_SOURCE && st->MPI_TAG == MPI_ANY_TAG && n == 0,
           "not an empty status: source %d tag %d count %d", st->MPI_SOURCE, st->MPI_TAG, n);
}

static void test_isend_irecv(void)
{
    static const int counts[] = {0, 1, 1000, 100000};
    int *out = malloc(100000 * sizeof *out), *in = malloc(100000 * sizeof *in);
    begin("isend_irecv");
    for (int c = 0; c < 4; c++) {
        MPI_Request r[2];
        MPI_Status st;
        int n = -1, bad = 0;
        for (int i = 0; i < counts[c]; i++) {
            out[i] = value(wrank, right, i);
            in[i] = -1;
        }
        MPI_Irecv(in, counts[c], MPI_INT, left, c, W, &r[0]);
        MPI_Isend(out, counts[c], MPI_INT, right, c, W, &r[1]);
        CHECK(MPI_Wait(&r[1], MPI_STATUS_IGNORE) == MPI_SUCCESS);
        CHECK(MPI_Wait(&r[0], &st) == MPI_SUCCESS);
        CHECK(r[0] == MPI_REQUEST_NULL && r[1] == MPI_REQUEST_NULL);
        for (int i = 0; i < counts[c]; i++)
            bad += in[i] != value(left, wrank, i);
        CHECKF(bad == 0, "count %d: %d wrong", counts[c], bad);
        MPI_Get_count(&st, MPI_INT, &n);
        CHECK(n == counts[c] && st.MPI_SOURCE == left && st.MPI_TAG == c);
    }
    free(out);
    free(in);
    end();
}

/* Issend cannot complete before its receive is posted. */
static void test_issend(void)
{
    int out[1000], in[1000], flag = 1;
    MPI_Request r;
    begin("issend");
    for (int big = 0; big < 2; big++) {
        int n = big ? 1000 : 1;
        for (int i = 0; i < n; i++)
            out[i] = value(wrank, right, i);
        MPI_Issend(out, n, MPI_INT, right, 5, W, &r);
        for (int k = 0; k < 10; k++)   /* the right neighbour receives only after the barrier */
            MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
        CHECKF(!flag, "MPI_Issend of %d ints completed before its receive was posted", n);
        MPI_Barrier(W);
        MPI_Recv(in, n, MPI_INT, left, 5, W, MPI_STATUS_IGNORE);
        CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE) == MPI_SUCCESS);
        CHECK(in[0] == value(left, wrank, 0) && in[n - 1] == value(left, wrank, n - 1));
        MPI_Barrier(W);
    }
    end();
}

static void test_irsend_ibsend(void)
{
    int out[3][500], in[500];
    MPI_Request r, s[3];
    MPI_Status st;
    begin("irsend_ibsend");
    for (int i = 0; i < 500; i++)
        out[0][i] = value(wrank, right, i);
    MPI_Irecv(in, 500, MPI_INT, left, 6, W, &r);
    MPI_Barrier(W);                          /* every receive is posted */
    MPI_Irsend(out[0], 500, MPI_INT, right, 6, W, &s[0]);
    MPI_Wait(&s[0], MPI_STATUS_IGNORE);
    MPI_Wait(&r, &st);
    CHECK(st.MPI_SOURCE == left && in[499] == value(left, wrank, 499));

    int size = 3 * (500 * (int)sizeof(int) + MPI_BSEND_OVERHEAD);
    char *buf = malloc(size);
    MPI_Buffer_attach(buf, size);
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 500; i++)
            out[k][i] = value(wrank, right, i + k);
        MPI_Ibsend(out[k], 500, MPI_INT, right, 7 + k, W, &s[k]);
    }
    /* buffered sends complete without any receive */
    CHECK(MPI_Waitall(3, s, MPI_STATUSES_IGNORE) == MPI_SUCCESS);
    for (int k = 0; k < 3; k++) {
        MPI_Recv(in, 500, MPI_INT, left, 7 + k, W, MPI_STATUS_IGNORE);
        CHECK(in[0] == value(left, wrank, k) && in[499] == value(left, wrank, 499 + k));
    }
    void *back;
    int back_size;
    MPI_Buffer_detach(&back, &back_size);
    CHECK(back == buf && back_size == size);
    free(buf);
    end();
}

/* One receive from every rank (the index is the source); the messages are
 * sent only after the barrier, so before it no receive can have completed. */
static void post_from_all(MPI_Request *r, int *in, int tag)
{
    for (int p = 0; p < wsize; p++) {
        in[p] = -1;
        MPI_Irecv(&in[p], 1, MPI_INT, p, tag, W, &r[p]);
    }
}

static void send_to_all(MPI_Request *s, int *out, int tag)
{
    MPI_Barrier(W);
    for (int p = 0; p < wsize; p++) {
        out[p] = value(wrank, p, tag);
        MPI_Isend(&out[p], 1, MPI_INT, p, tag, W, &s[p]);
    }
}

static void check_from(int idx, const MPI_Status *st, const int *in, int tag)
{
    CHECKF(idx >= 0 && idx < wsize, "index %d", idx);
    if (idx < 0 || idx >= wsize)
        return;
    CHECKF(st->MPI_SOURCE == idx && st->MPI_TAG == tag, "index %d: source %d tag %d", idx,
           st->MPI_SOURCE, st->MPI_TAG);
    CHECKF(in[idx] == value(idx, wrank, tag), "index %d: value %d", idx, in[idx]);
}

static void test_wait_test_family(void)
{
    MPI_Request *r = malloc(wsize * sizeof *r), *s = malloc(wsize * sizeof *s);
    MPI_Status *sts = malloc(wsize * sizeof *sts);
    int *in = malloc(wsize * sizeof *in), *out = malloc(wsize * sizeof *out);
    int *seen = malloc(wsize * sizeof *seen), *idx = malloc(wsize * sizeof *idx);
    int i, flag, outcount, done;
    MPI_Status st;
    begin("wait_test_family");

    /* Waitany */
    post_from_all(r, in, 20);
    send_to_all(s, out, 20);
    memset(seen, 0, wsize * sizeof *seen);
    for (int k = 0; k < wsize; k++) {
        CHECK(MPI_Waitany(wsize, r, &i, &st) == MPI_SUCCESS);
        check_from(i, &st, in, 20);
        if (i >= 0 && i < wsize) {
            seen[i]++;
            CHECK(r[i] == MPI_REQUEST_NULL);
        }
    }
    for (int p = 0; p < wsize; p++)
        CHECK(seen[p] == 1);
    MPI_Waitany(wsize, r, &i, &st);          /* all null */
    CHECKF(i == MPI_UNDEFINED, "Waitany on null requests: index %d", i);
    check_empty_status(&st);
    MPI_Waitall(wsize, s, MPI_STATUSES_IGNORE);

    /* Waitsome */
    post_from_all(r, in, 21);
    send_to_all(s, out, 21);
    memset(seen, 0, wsize * sizeof *seen);
    for (done = 0; done < wsize;) {
        CHECK(MPI_Waitsome(wsize, r, &outcount, idx, sts) == MPI_SUCCESS);
        CHECK(outcount >= 1 && outcount <= wsize - done);
        if (outcount < 1)
            break;
        for (int k = 0; k < outcount; k++) {
            check_from(idx[k], &sts[k], in, 21);
            if (idx[k] >= 0 && idx[k] < wsize)
                seen[idx[k]]++;
        }
        done += outcount;
    }
    for (int p = 0; p < wsize; p++)
        CHECK(seen[p] == 1);
    MPI_Waitsome(wsize, r, &outcount, idx, sts);
    CHECKF(outcount == MPI_UNDEFINED, "Waitsome on null requests: outcount %d", outcount);
    MPI_Waitall(wsize, s, MPI_STATUSES_IGNORE);

    /* Test: false until the message is sent */
    int one = -1, msg = value(wrank, right, 22);
    MPI_Request rr, sr;
    MPI_Irecv(&one, 1, MPI_INT, left, 22, W, &rr);
    MPI_Test(&rr, &flag, &st);
    CHECKF(!flag, "MPI_Test completed a receive whose message was not sent");
    CHECK(rr != MPI_REQUEST_NULL);
    MPI_Barrier(W);
    MPI_Isend(&msg, 1, MPI_INT, right, 22, W, &sr);
    do
        MPI_Test(&rr, &flag, &st);
    while (!flag);
    CHECK(rr == MPI_REQUEST_NULL && st.MPI_SOURCE == left && one == value(left, wrank, 22));
    MPI_Wait(&sr, MPI_STATUS_IGNORE);
    MPI_Test(&rr, &flag, &st);               /* a null request */
    CHECK(flag);
    check_empty_status(&st);

    /* Testall: false while any is incomplete, then all at once */
    post_from_all(r, in, 23);
    MPI_Testall(wsize, r, &flag, sts);
    CHECKF(!flag, "MPI_Testall true before any message was sent");
    send_to_all(s, out, 23);
    do
        MPI_Testall(wsize, r, &flag, sts);
    while (!flag);
    for (int p = 0; p < wsize; p++) {
        check_from(p, &sts[p], in, 23);
        CHECK(r[p] == MPI_REQUEST_NULL);
    }
    MPI_Waitall(wsize, s, MPI_STATUSES_IGNORE);

    /* Testany */
    post_from_all(r, in, 24);
    MPI_Testany(wsize, r, &i, &flag, &st);
    CHECKF(!flag && i == MPI_UNDEFINED, "MPI_Testany before sending: flag %d index %d", flag, i);
    send_to_all(s, out, 24);
    memset(seen, 0, wsize * sizeof *seen);
    for (done = 0; done < wsize;) {
        MPI_Testany(wsize, r, &i, &flag, &st);
        if (!flag)
            continue;
        check_from(i, &st, in, 24);
        if (i < 0 || i >= wsize)
            break;
        seen[i]++;
        done++;
    }
    for (int p = 0; p < wsize; p++)
        CHECK(seen[p] == 1);
    MPI_Testany(wsize, r, &i, &flag, &st);   /* all null */
    CHECKF(flag && i == MPI_UNDEFINED, "Testany on null requests: flag %d index %d", flag, i);
    MPI_Waitall(wsize, s, MPI_STATUSES_IGNORE);

    /* Testsome */
    post_from_all(r, in, 25);
    MPI_Testsome(wsize, r, &outcount, idx, sts);
    CHECKF(outcount == 0, "MPI_Testsome before sending: outcount %d", outcount);
    send_to_all(s, out, 25);
    memset(seen, 0, wsize * sizeof *seen);
    for (done = 0; done < wsize;) {
        MPI_Testsome(wsize, r, &outcount, idx, sts);
        CHECK(outcount >= 0 && outcount <= wsize - done);
        if (outcount < 0)
            break;
        for (int k = 0; k < outcount; k++) {
            check_from(idx[k], &sts[k], in, 25);
            if (idx[k] >= 0 && idx[k] < wsize)
                seen[idx[k]]++;
        }
        done += outcount;
    }
    for (int p = 0; p < wsize; p++)
        CHECK(seen[p] == 1);
    MPI_Testsome(wsize, r, &outcount, idx, sts);
    CHECKF(outcount == MPI_UNDEFINED, "Testsome on null requests: outcount %d", outcount);
    MPI_Waitall(wsize, s, MPI_STATUSES_IGNORE);

    /* Waitall with MPI_REQUEST_NULL entries: their statuses are empty */
    MPI_Request mix[3] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    MPI_Status ms[3];
    int a = value(wrank, right, 26), b = -1;
    MPI_Irecv(&b, 1, MPI_INT, left, 26, W, &mix[1]);
    MPI_Isend(&a, 1, MPI_INT, right, 26, W, &mix[2]);
    CHECK(MPI_Waitall(3, mix, ms) == MPI_SUCCESS);
    check_empty_status(&ms[0]);
    CHECK(ms[1].MPI_SOURCE == left && ms[1].MPI_TAG == 26 && b == value(left, wrank, 26));
    CHECK(mix[0] == MPI_REQUEST_NULL && mix[1] == MPI_REQUEST_NULL && mix[2] == MPI_REQUEST_NULL);
    free(r);
    free(s);
    free(sts);
    free(in);
    free(out);
    free(seen);
    free(idx);
    end();
}

/* 200 messages of 1..17 ints to every rank, same tag; half the receives
 * are posted before the sends, half after (unexpected messages). */
#define MANY 200
static void test_many_outstanding(void)
{
    int nmsg = MANY * wsize;
    MPI_Request *r = malloc(2 * nmsg * sizeof *r);
    int (*in)[17] = malloc(nmsg * sizeof *in), (*out)[17] = malloc(nmsg * sizeof *out);
    MPI_Status *st = malloc(2 * nmsg * sizeof *st);
    begin("many_outstanding");
    for (int p = 0; p < wsize; p++)
        for (int k = 0; k < MANY / 2; k++)
            MPI_Irecv(in[p * MANY + k], 17, MPI_INT, p, 30, W, &r[p * MANY + k]);
    for (int p = 0; p < wsize; p++)
        for (int k = 0; k < MANY; k++) {
            int n = k % 17 + 1;
            for (int i = 0; i < n; i++)
                out[p * MANY + k][i] = value(wrank, p, k * 17 + i);
            MPI_Isend(out[p * MANY + k], n, MPI_INT, p, 30, W, &r[nmsg + p * MANY + k]);
        }
    for (int p = 0; p < wsize; p++)
        for (int k = MANY / 2; k < MANY; k++)
            MPI_Irecv(in[p * MANY + k], 17, MPI_INT, p, 30, W, &r[p * MANY + k]);
    CHECK(MPI_Waitall(2 * nmsg, r, st) == MPI_SUCCESS);
    for (int p = 0; p < wsize; p++)
        for (int k = 0; k < MANY; k++) {
            int n = -1, bad = 0;
            MPI_Get_count(&st[p * MANY + k], MPI_INT, &n);
            for (int i = 0; i < k % 17 + 1; i++)
                bad += in[p * MANY + k][i] != value(p, wrank, k * 17 + i);
            CHECKF(n == k % 17 + 1 && bad == 0, "message %d from %d: count %d, %d wrong", k, p, n, bad);
        }
    free(r);
    free(in);
    free(out);
    free(st);
    end();
}

static void test_request_free(void)
{
    static int out[1000];
    int in[1000];
    MPI_Request r;
    begin("request_free_send");
    for (int i = 0; i < 1000; i++)
        out[i] = value(wrank, right, i);
    MPI_Isend(out, 1000, MPI_INT, right, 40, W, &r);
    CHECK(MPI_Request_free(&r) == MPI_SUCCESS);
    CHECK(r == MPI_REQUEST_NULL);
    MPI_Recv(in, 1000, MPI_INT, left, 40, W, MPI_STATUS_IGNORE);
    CHECK(in[0] == value(left, wrank, 0) && in[999] == value(left, wrank, 999));
    MPI_Barrier(W);   /* every message was received: the send buffers are free */
    end();
}

static void test_cancel(void)
{
    int in = -1, out = value(wrank, right, 41), flag = 0;
    MPI_Request r, s;
    MPI_Status st;
    begin("cancel_recv");
    MPI_Irecv(&in, 1, MPI_INT, left, 41, W, &r);   /* nothing is sent yet */
    CHECK(MPI_Cancel(&r) == MPI_SUCCESS);
    CHECK(MPI_Wait(&r, &st) == MPI_SUCCESS);
    CHECK(r == MPI_REQUEST_NULL);
    MPI_Test_cancelled(&st, &flag);
    CHECK(flag);
    CHECK(in == -1);
    /* the cancelled receive does not take a later message */
    MPI_Barrier(W);
    MPI_Isend(&out, 1, MPI_INT, right, 41, W, &s);
    MPI_Recv(&in, 1, MPI_INT, left, 41, W, &st);
    MPI_Test_cancelled(&st, &flag);
    CHECK(!flag && in == value(left, wrank, 41));
    MPI_Wait(&s, MPI_STATUS_IGNORE);
    end();
}

static int probe_len(int src, int dst) { return (src * 7 + dst * 3) % 50 + 1; }

static void test_probe(void)
{
    MPI_Request *s = malloc(wsize * sizeof *s);
    int (*out)[51] = malloc(wsize * sizeof *out);
    int *seen = calloc(wsize, sizeof *seen), flag = 1, n;
    MPI_Status st;
    begin("probe_iprobe");
    MPI_Iprobe(MPI_ANY_SOURCE, 555, W, &flag, &st);   /* tag 555 is never sent */
    CHECK(!flag);
    for (int p = 0; p < wsize; p++) {
        for (int i = 0; i < probe_len(wrank, p); i++)
            out[p][i] = value(wrank, p, i);
        MPI_Isend(out[p], probe_len(wrank, p), MPI_INT, p, 50 + wrank, W, &s[p]);
    }
    for (int k = 0; k < wsize; k++) {
        if (k % 2 == 0) {
            CHECK(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, W, &st) == MPI_SUCCESS);
        } else {
            do
                MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, W, &flag, &st);
            while (!flag);
        }
        int src = st.MPI_SOURCE;
        CHECKF(src >= 0 && src < wsize && st.MPI_TAG == 50 + src, "probed source %d tag %d", src,
               st.MPI_TAG);
        if (src < 0 || src >= wsize)
            break;
        MPI_Get_count(&st, MPI_INT, &n);
        CHECKF(n == probe_len(src, wrank), "probed count %d from %d", n, src);
        int *buf = malloc((n > 0 ? n : 1) * sizeof *buf);
        MPI_Status rs;
        MPI_Recv(buf, n, MPI_INT, src, st.MPI_TAG, W, &rs);
        int got = -1, bad = 0;
        MPI_Get_count(&rs, MPI_INT, &got);
        for (int i = 0; i < n; i++)
            bad += buf[i] != value(src, wrank, i);
        CHECK(got == n && bad == 0 && rs.MPI_SOURCE == src);
        seen[src]++;
        free(buf);
    }
    for (int p = 0; p < wsize; p++)
        CHECK(seen[p] == 1);
    MPI_Waitall(wsize, s, MPI_STATUSES_IGNORE);
    MPI_Barrier(W);   /* no wildcard probe above may see the message below */

    /* a specific source and tag */
    int one = value(wrank, right, 60), got = -1;
    MPI_Isend(&one, 1, MPI_INT, right, 60, W, &s[0]);
    MPI_Probe(left, 60, W, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(st.MPI_SOURCE == left && st.MPI_TAG == 60 && n == 1);
    MPI_Iprobe(left, 60, W, &flag, &st);     /* still there: probing does not receive */
    CHECK(flag && st.MPI_SOURCE == left);
    MPI_Recv(&got, 1, MPI_INT, left, 60, W, MPI_STATUS_IGNORE);
    CHECK(got == value(left, wrank, 60));
    MPI_Wait(&s[0], MPI_STATUS_IGNORE);

    /* MPI_PROC_NULL */
    flag = 0;
    MPI_Iprobe(MPI_PROC_NULL, MPI_ANY_TAG, W, &flag, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(flag && st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG && n == 0);
    MPI_Probe(MPI_PROC_NULL, 3, W, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG && n == 0);
    free(s);
    free(out);
    free(seen);
    end();
}

static void test_persistent(void)
{
    static int out[50000], in[50000];
    MPI_Request r[2];
    MPI_Status st[2];
    int flag;
    begin("persistent");
    CHECK(MPI_Recv_init(in, 1000, MPI_INT, left, 70, W, &r[0]) == MPI_SUCCESS);
    CHECK(MPI_Send_init(out, 1000, MPI_INT, right, 70, W, &r[1]) == MPI_SUCCESS);
    CHECK(r[0] != MPI_REQUEST_NULL && r[1] != MPI_REQUEST_NULL);
    MPI_Test(&r[0], &flag, &st[0]);          /* inactive: flag true, empty status */
    CHECK(flag);
    check_empty_status(&st[0]);
    for (int it = 0; it < 8; it++) {
        for (int i = 0; i < 1000; i++)
            out[i] = value(wrank, right, i + it);
        if (it < 5) {
            CHECK(MPI_Startall(2, r) == MPI_SUCCESS);
            CHECK(MPI_Waitall(2, r, st) == MPI_SUCCESS);
        } else {
            MPI_Start(&r[0]);
            MPI_Start(&r[1]);
            MPI_Wait(&r[1], &st[1]);
            MPI_Wait(&r[0], &st[0]);
        }
        CHECK(r[0] != MPI_REQUEST_NULL && r[1] != MPI_REQUEST_NULL);   /* inactive, not freed */
        CHECKF(in[0] == value(left, wrank, it) && in[999] == value(left, wrank, 999 + it),
               "iteration %d: wrong data", it);
        CHECK(st[0].MPI_SOURCE == left && st[0].MPI_TAG == 70);
    }
    MPI_Test(&r[1], &flag, MPI_STATUS_IGNORE);
    CHECK(flag && r[1] != MPI_REQUEST_NULL);
    CHECK(MPI_Request_free(&r[0]) == MPI_SUCCESS && r[0] == MPI_REQUEST_NULL);
    CHECK(MPI_Request_free(&r[1]) == MPI_SUCCESS && r[1] == MPI_REQUEST_NULL);

    /* synchronous persistent sends of a large message, wildcard persistent receive */
    MPI_Recv_init(in, 50000, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, W, &r[0]);
    MPI_Ssend_init(out, 50000, MPI_INT, right, 71, W, &r[1]);
    for (int it = 0; it < 3; it++) {
        for (int i = 0; i < 50000; i += 100)
            out[i] = value(wrank, right, i + it);
        MPI_Startall(2, r);
        MPI_Waitall(2, r, st);
        int n = -1;
        MPI_Get_count(&st[0], MPI_INT, &n);
        CHECK(n == 50000 && st[0].MPI_SOURCE == left && st[0].MPI_TAG == 71);
        CHECK(in[0] == value(left, wrank, it) && in[49900] == value(left, wrank, 49900 + it));
        MPI_Barrier(W);  /* the wildcard receive of the next round must not see this round */
    }
    MPI_Request_free(&r[0]);
    MPI_Request_free(&r[1]);
    end();
}

static void test_ordering(void)
{
    const int big = 50000;   /* ints: 200 KB, past any eager limit */
    int *out = malloc(16 * (size_t)big * sizeof *out), *in = malloc(big * sizeof *in);
    MPI_Request s[16];
    MPI_Status st;
    begin("ordering");
    /* same source and tag, alternating small and large */
    for (int k = 0; k < 16; k++) {
        int n = k % 2 ? big : 3;
        out[k * (size_t)big] = k;
        out[k * (size_t)big + n - 1] = value(wrank, right, k);
        MPI_Isend(out + k * (size_t)big, n, MPI_INT, right, 80, W, &s[k]);
    }
    for (int k = 0; k < 16; k++) {
        int n = -1;
        MPI_Recv(in, big, MPI_INT, left, 80, W, &st);
        MPI_Get_count(&st, MPI_INT, &n);
        CHECKF(in[0] == k && n == (k % 2 ? big : 3), "message %d: got sequence %d, %d ints", k,
               in[0], n);
        if (n > 0 && n <= big)
            CHECK(in[n - 1] == value(left, wrank, k));
    }
    MPI_Waitall(16, s, MPI_STATUSES_IGNORE);
    MPI_Barrier(W);

    /* wildcard receives see each sender's messages in its send order,
     * whatever their tags (every message matches ANY_SOURCE/ANY_TAG) */
    const int per = 30;
    MPI_Request *rs = malloc(per * wsize * sizeof *rs);
    int *seq = malloc(per * wsize * sizeof *seq), *next = calloc(wsize, sizeof *next);
    for (int k = 0; k < per; k++)
        for (int p = 0; p < wsize; p++) {
            seq[k * wsize + p] = k;
            MPI_Isend(&seq[k * wsize + p], 1, MPI_INT, p, 90 + k % 3, W, &rs[k * wsize + p]);
        }
    for (int m = 0; m < per * wsize; m++) {
        int v = -1;
        MPI_Recv(&v, 1, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, W, &st);
        int p = st.MPI_SOURCE;
        CHECKF(p >= 0 && p < wsize, "source %d", p);
        if (p < 0 || p >= wsize)
            break;
        CHECKF(v == next[p] && st.MPI_TAG == 90 + v % 3, "from %d: sequence %d (tag %d), expected %d",
               p, v, st.MPI_TAG, next[p]);
        next[p] = v + 1;
    }
    MPI_Waitall(per * wsize, rs, MPI_STATUSES_IGNORE);
    free(rs);
    free(seq);
    free(next);
    free(out);
    free(in);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    right = (wrank + 1) % wsize;
    left = (wrank + wsize - 1) % wsize;
    test_isend_irecv();
    test_issend();
    test_irsend_ibsend();
    test_wait_test_family();
    test_many_outstanding();
    test_request_free();
    test_cancel();
    test_probe();
    test_persistent();
    test_ordering();
    return finish("p2p_nonblocking");
}
