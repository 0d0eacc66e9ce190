/*
 * libc_check.c - self-checking C test program for Toro.
 *
 * Runs unmodified as a static-PIE musl program, one private copy per rank.
 * It must behave the same on plain Linux and under Toro.
 *
 * Build:  musl-gcc -static -O2 -Wall -Wextra -o libc_check libc_check.c -lm
 *
 * Usage:  libc_check [MODE] [options...]
 *
 *   all [--alpha N|-a N] [-b|--beta] [--name=S] [files...]
 *                      run every check (default when no MODE is given)
 *   hello              print "hello from rank R of N"
 *   exit N [RANK]      exit with status N (only RANK if given; others exit 0)
 *   null [RANK]        RANK (default 0) writes through a NULL pointer
 *   abort [RANK]       RANK (default 0) calls abort()
 *   overflow [RANK]    RANK (default 0) recurses until the stack overflows
 *   enosys             syscall(400) twice, expects -1/ENOSYS both times
 *   bigmalloc MIB      malloc(MIB MiB), touch every page if it succeeded
 *   mmapbig MIB        mmap(MIB MiB) anonymous private, touch every page
 *
 * Rank information comes from TORO_RANK / TORO_NRANKS (default 0 / 1).
 * Every output line is prefixed with "[rank R] ".
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define NOINLINE __attribute__((noinline))

/* ------------------------------------------------------------------ */
/* Rank information and output helpers                                 */
/* ------------------------------------------------------------------ */

static int my_rank;   /* from TORO_RANK, default 0 */
static int n_ranks;   /* from TORO_NRANKS, default 1 */

static int env_int(const char *name, int dflt)
{
    const char *s = getenv(name);
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return dflt;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0 || v > INT_MAX)
        return dflt;
    return (int)v;
}

/* Print one whole line "[rank R] <text>\n" with a single printf call. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    printf("[rank %d] %s\n", my_rank, buf);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ */
/* Check bookkeeping                                                   */
/* ------------------------------------------------------------------ */

static const char *cur_check;   /* name of the running check */
static int cur_failures;        /* failed assertions in the running check */
static int n_checks;            /* checks run */
static int n_failed;            /* checks with at least one failure */

static void fail_at(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_at(int line, const char *fmt, ...)
{
    char buf[900];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    printf("[rank %d] FAIL %s: %s:%d: %s\n", my_rank, cur_check, __FILE__, line, buf);
    cur_failures++;
}

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond))                                                       \
            fail_at(__LINE__, "%s", #cond);                                \
    } while (0)

#define CHECK_MSG(cond, ...)                                               \
    do {                                                                   \
        if (!(cond))                                                       \
            fail_at(__LINE__, __VA_ARGS__);                                \
    } while (0)

#define CHECK_INT(got, exp)                                                \
    do {                                                                   \
        long long got_ = (long long)(got), exp_ = (long long)(exp);       \
        if (got_ != exp_)                                                  \
            fail_at(__LINE__, "%s: expected %lld, got %lld",               \
                    #got, exp_, got_);                                     \
    } while (0)

#define CHECK_UINT(got, exp)                                               \
    do {                                                                   \
        unsigned long long got_ = (got), exp_ = (exp);                     \
        if (got_ != exp_)                                                  \
            fail_at(__LINE__, "%s: expected %llu, got %llu",               \
                    #got, exp_, got_);                                     \
    } while (0)

#define CHECK_STR(got, exp)                                                \
    do {                                                                   \
        const char *got_ = (got), *exp_ = (exp);                           \
        if (got_ == NULL || strcmp(got_, exp_) != 0)                       \
            fail_at(__LINE__, "%s: expected \"%s\", got \"%s\"",           \
                    #got, exp_, got_ ? got_ : "(null)");                   \
    } while (0)

/* Relative (or, near zero, absolute) tolerance comparison. */
#define CHECK_NEAR(got, exp, tol)                                          \
    do {                                                                   \
        double got_ = (got), exp_ = (exp);                                 \
        double scale_ = fabs(exp_) > 1.0 ? fabs(exp_) : 1.0;               \
        if (!(fabs(got_ - exp_) <= (tol) * scale_))                        \
            fail_at(__LINE__, "%s: expected %.17g, got %.17g",             \
                    #got, exp_, got_);                                     \
    } while (0)

/* Exact double comparison (bit-for-bit value equality). */
#define CHECK_DBL(got, exp)                                                \
    do {                                                                   \
        double got_ = (got), exp_ = (exp);                                 \
        if (!(got_ == exp_))                                               \
            fail_at(__LINE__, "%s: expected %a (%.17g), got %a (%.17g)",   \
                    #got, exp_, exp_, got_, got_);                         \
    } while (0)

typedef void (*check_fn)(int argc, char **argv);

static const char *ok_note;   /* optional suffix for the "ok" line */

static void run_check(const char *name, check_fn fn, int argc, char **argv)
{
    cur_check = name;
    cur_failures = 0;
    ok_note = "";
    fn(argc, argv);
    n_checks++;
    if (cur_failures == 0)
        say("ok %s%s", name, ok_note);
    else
        n_failed++;
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* 1. privacy of globals and statics                                   */
/* ------------------------------------------------------------------ */

int g_rank = -1;
static long arr[4096];

static long arr_value(int rank, size_t i)
{
    return (long)(rank + 1) * 1000003L + (long)i * 7L;
}

static void check_privacy(int argc, char **argv)
{
    size_t i, bad = 0, first_bad = 0;

    (void)argc; (void)argv;
    g_rank = my_rank;
    for (i = 0; i < 4096; i++)
        arr[i] = arr_value(my_rank, i);

    sleep_ms(300);   /* other ranks run and write their own copies */

    CHECK_INT(g_rank, my_rank);
    for (i = 0; i < 4096; i++) {
        if (arr[i] != arr_value(my_rank, i)) {
            if (bad == 0)
                first_bad = i;
            bad++;
        }
    }
    CHECK_MSG(bad == 0, "arr: %zu elements changed, first arr[%zu]: expected %ld, got %ld",
              bad, first_bad, arr_value(my_rank, first_bad), arr[first_bad]);
}

/* ------------------------------------------------------------------ */
/* 2. printf / snprintf                                                */
/* ------------------------------------------------------------------ */

/* Expected strings verified against musl (and glibc, which agrees unless noted). */
#define CHECK_FMT(exp, ...)                                                \
    do {                                                                   \
        char buf_[512];                                                    \
        int n_ = snprintf(buf_, sizeof buf_, __VA_ARGS__);                 \
        if (strcmp(buf_, (exp)) != 0)                                      \
            fail_at(__LINE__, "snprintf(%s): expected \"%s\", got \"%s\"", \
                    #__VA_ARGS__, (exp), buf_);                            \
        else if (n_ != (int)strlen(exp))                                   \
            fail_at(__LINE__, "snprintf(%s): returned %d, expected %d",    \
                    #__VA_ARGS__, n_, (int)strlen(exp));                   \
    } while (0)

static const char *volatile fmt_hhd = "%hhd";

static void check_printf(int argc, char **argv)
{
    volatile double a = 0.1, b = 0.2;   /* keep the sum a runtime value */
    volatile int i300 = 300;
    char buf[64];

    (void)argc; (void)argv;

    /* integers */
    CHECK_FMT("-42", "%d", -42);
    CHECK_FMT("12345", "%i", 12345);
    CHECK_FMT("4294967295", "%u", 4294967295u);
    CHECK_FMT("deadbeef", "%x", 0xdeadbeefu);
    CHECK_FMT("DEADBEEF", "%X", 0xdeadbeefu);
    CHECK_FMT("777", "%o", 511);
    CHECK_FMT("-1234567890123", "%ld", -1234567890123L);
    CHECK_FMT("9223372036854775807", "%lld", LLONG_MAX);
    CHECK_FMT("-9223372036854775808", "%lld", LLONG_MIN);
    CHECK_FMT("18446744073709551615", "%zu", (size_t)SIZE_MAX);
    CHECK_FMT("-56", "%hhd", (signed char)-56);
    CHECK_FMT("-2147483648", "%d", INT_MIN);
    CHECK_FMT("[   42]", "[%5d]", 42);
    CHECK_FMT("42      |", "%-8d|", 42);
    CHECK_FMT("0003.142", "%08.3f", 3.14159);
    CHECK_FMT("+7", "%+d", 7);
    CHECK_FMT("-7", "%+d", -7);
    CHECK_FMT("0xff", "%#x", 255);
    CHECK_FMT("010", "%#o", 8);
    CHECK_FMT("    99", "%*d", 6, 99);
    CHECK_FMT("99    |", "%-*d|", 6, 99);
    CHECK_FMT("abc", "%.*s", 3, "abcdef");
    CHECK_FMT("-0042", "%05d", -42);
    CHECK_FMT("007", "%.3d", 7);
    CHECK_FMT(" 5", "% d", 5);
    CHECK_FMT("str|x|%", "%s|%c|%%", "str", 'x');
    CHECK_FMT("     right|", "%10s|", "right");
    CHECK_FMT("left      |", "%-10s|", "left");

    /* floats */
    CHECK_FMT("1.500000", "%f", 1.5);
    CHECK_FMT("2.67", "%.2f", 2.675);           /* 2.675 is 2.67499999... */
    CHECK_FMT("   -3.1416", "%10.4f", -3.14159265);
    CHECK_FMT("0", "%.0f", 0.5);                /* round half to even */
    CHECK_FMT("2", "%.0f", 1.5);
    CHECK_FMT("2", "%.0f", 2.5);
    CHECK_FMT("1.234568e+05", "%e", 123456.789);
    CHECK_FMT("1.235e-04", "%.3e", 0.000123456);
    CHECK_FMT("1.234500E+03", "%E", 1234.5);
    CHECK_FMT("100000", "%g", 100000.0);
    CHECK_FMT("1e+06", "%g", 1000000.0);
    CHECK_FMT("0.0001", "%g", 0.0001);
    CHECK_FMT("1e-05", "%g", 0.00001);
    CHECK_FMT("0.3333333333", "%.10g", 1.0 / 3);
    CHECK_FMT("1.2345E-05", "%G", 0.000012345);
    CHECK_FMT("1E+20", "%G", 1e20);
    CHECK_FMT("0x1p+0", "%a", 1.0);
    CHECK_FMT("0x1.999999999999ap-4", "%a", 0.1);
    CHECK_FMT("-0x1.4p+1", "%a", -2.5);
    CHECK_FMT("0x1.55p-2", "%.2a", 1.0 / 3);
    CHECK_FMT("0X1.FEP+7", "%A", 255.0);
    CHECK_FMT("0x0p+0", "%a", 0.0);
    CHECK_FMT("inf", "%f", (double)INFINITY);
    CHECK_FMT("-inf", "%f", -(double)INFINITY);
    CHECK_FMT("INF", "%F", (double)INFINITY);
    CHECK_FMT("  inf", "%5.1f", (double)INFINITY);
    CHECK_FMT("nan", "%f", (double)NAN);
    CHECK_FMT("nan", "%e", (double)NAN);
    CHECK_FMT("NAN", "%E", (double)NAN);
    CHECK_FMT("0.30000000000000004", "%.17g", a + b);
    CHECK_FMT("1.000000e+300", "%e", 1e300);
    CHECK_FMT("1e+300", "%g", 1e300);
    CHECK_FMT("1000000000000000052504760255204420248704468581108159154915854115"
              "5118024579889081957863713750804478640437044438328838781769425232"
              "3536043057564479218478670698284838720092657580373783023379478809"
              "0059368953234970799945081119038967640880074652742780142494579258"
              "788820056842838115669472196386865459400540160.000000",
              "%f", 1e300);
    CHECK_FMT("4.94066e-324", "%g", 5e-324);
    CHECK_FMT("4.9406564584124654e-324", "%.17g", 5e-324);
    /* long double goes through the x87 unit */
    CHECK_FMT("0.333", "%.3Lf", 1.0L / 3);
    CHECK_FMT("1e+100", "%Lg", 1e100L);
    CHECK_FMT("1.234568e+04", "%Le", 12345.678L);

    /* %hhd converts an int argument to signed char: 300 -> 44.  The format
     * is not a literal so that compilers do not warn about the int argument. */
    snprintf(buf, sizeof buf, fmt_hhd, i300);
    CHECK_STR(buf, "44");

    /* %a of a subnormal: musl prints "0x1p-1074", glibc "0x0.0000000000001p-1022". */
    snprintf(buf, sizeof buf, "%a", 5e-324);
    CHECK_MSG(strcmp(buf, "0x1p-1074") == 0 || strcmp(buf, "0x0.0000000000001p-1022") == 0,
              "snprintf(\"%%a\", 5e-324): expected \"0x1p-1074\" (musl), got \"%s\"", buf);
}

/* ------------------------------------------------------------------ */
/* 3. malloc / calloc / realloc / free                                 */
/* ------------------------------------------------------------------ */

#define MIB ((size_t)1 << 20)

static unsigned char pattern_byte(size_t i, unsigned seed)
{
    return (unsigned char)((i * 131u + seed * 17u + (i >> 12)) & 0xff);
}

static void fill_pattern(unsigned char *p, size_t from, size_t to, unsigned seed)
{
    size_t i;

    for (i = from; i < to; i++)
        p[i] = pattern_byte(i, seed);
}

/* Returns the index of the first wrong byte, or (size_t)-1 if all match. */
static size_t find_bad_pattern(const unsigned char *p, size_t n, unsigned seed)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] != pattern_byte(i, seed))
            return i;
    return (size_t)-1;
}

static void check_small_blocks(void)
{
    enum { NBLK = 2000 };
    static unsigned char *blk[NBLK];
    size_t i, bad = 0;

    for (i = 0; i < NBLK; i++) {
        size_t sz = 1 + (i * 37) % 700;
        blk[i] = malloc(sz);
        CHECK_MSG(blk[i] != NULL, "malloc(%zu) returned NULL (block %zu)", sz, i);
        if (blk[i] == NULL)
            return;
        CHECK_MSG(((uintptr_t)blk[i] & 15) == 0, "malloc(%zu) = %p not 16-aligned",
                  sz, (void *)blk[i]);
        fill_pattern(blk[i], 0, sz, (unsigned)i);
    }
    /* free every other block, reallocate them, and check everything */
    for (i = 0; i < NBLK; i += 2) {
        free(blk[i]);
        blk[i] = NULL;
    }
    for (i = 0; i < NBLK; i += 2) {
        size_t sz = 1 + (i * 37) % 700;
        blk[i] = malloc(sz);
        CHECK(blk[i] != NULL);
        if (blk[i] == NULL)
            return;
        fill_pattern(blk[i], 0, sz, (unsigned)i);
    }
    for (i = 0; i < NBLK; i++) {
        size_t sz = 1 + (i * 37) % 700;
        if (find_bad_pattern(blk[i], sz, (unsigned)i) != (size_t)-1)
            bad++;
    }
    CHECK_MSG(bad == 0, "%zu of %d small blocks corrupted", bad, (int)NBLK);
    for (i = 0; i < NBLK; i++) {
        free(blk[NBLK - 1 - i]);
        blk[NBLK - 1 - i] = NULL;
    }
}

static void check_big_block(void)
{
    size_t sz = 32 * MIB, bad;
    unsigned char *p = malloc(sz);

    CHECK_MSG(p != NULL, "malloc(32 MiB) returned NULL, errno=%d", errno);
    if (p == NULL)
        return;
    fill_pattern(p, 0, sz, 99);
    bad = find_bad_pattern(p, sz, 99);
    CHECK_MSG(bad == (size_t)-1, "32 MiB block: byte %zu wrong", bad);
    /* dirty and free, so that a later calloc may get recycled memory */
    free(p);
}

static void check_calloc(void)
{
    size_t sz = 48 * MIB, i, nonzero = 0;
    unsigned char *p;

    /* dirty some memory first so a reused region would show up non-zero */
    p = malloc(sz);
    if (p != NULL) {
        memset(p, 0xa5, sz);
        free(p);
    }
    p = calloc(48, MIB);
    CHECK_MSG(p != NULL, "calloc(48, 1 MiB) returned NULL, errno=%d", errno);
    if (p == NULL)
        return;
    for (i = 0; i < sz; i++)
        if (p[i] != 0)
            nonzero++;
    CHECK_MSG(nonzero == 0, "calloc 48 MiB: %zu non-zero bytes", nonzero);
    p[0] = 1;
    p[sz - 1] = 2;
    CHECK(p[0] == 1 && p[sz - 1] == 2);
    free(p);

    /* small calloc after dirty small frees */
    p = malloc(1000);
    if (p != NULL) {
        memset(p, 0xff, 1000);
        free(p);
    }
    p = calloc(250, 4);
    CHECK(p != NULL);
    if (p != NULL) {
        for (i = 0, nonzero = 0; i < 1000; i++)
            nonzero += p[i] != 0;
        CHECK_MSG(nonzero == 0, "calloc(250, 4): %zu non-zero bytes", nonzero);
        free(p);
    }
}

static void check_realloc(void)
{
    size_t sz = 1024, target = 40 * MIB, bad;
    unsigned char *p = malloc(sz), *q;

    CHECK(p != NULL);
    if (p == NULL)
        return;
    fill_pattern(p, 0, sz, 7);
    while (sz < target) {
        size_t nsz = sz * 2 > target ? target : sz * 2;
        q = realloc(p, nsz);
        CHECK_MSG(q != NULL, "realloc(%zu -> %zu) returned NULL", sz, nsz);
        if (q == NULL) {
            free(p);
            return;
        }
        p = q;
        bad = find_bad_pattern(p, sz, 7);
        CHECK_MSG(bad == (size_t)-1, "realloc to %zu lost contents at byte %zu", nsz, bad);
        if (bad != (size_t)-1) {
            free(p);
            return;
        }
        fill_pattern(p, sz, nsz, 7);
        sz = nsz;
    }
    bad = find_bad_pattern(p, sz, 7);
    CHECK_MSG(bad == (size_t)-1, "40 MiB realloc'd block: byte %zu wrong", bad);
    /* shrink keeps the prefix */
    q = realloc(p, 4096);
    CHECK(q != NULL);
    if (q != NULL) {
        p = q;
        CHECK(find_bad_pattern(p, 4096, 7) == (size_t)-1);
    }
    free(p);
}

static void check_aligned(void)
{
    void *p = NULL;
    unsigned char *a, *b;
    int rc;

    rc = posix_memalign(&p, 4096, 8192);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        CHECK_MSG(((uintptr_t)p & 4095) == 0, "posix_memalign(4096): %p not aligned", p);
        fill_pattern(p, 0, 8192, 3);
        CHECK(find_bad_pattern(p, 8192, 3) == (size_t)-1);
        free(p);
    }
    rc = posix_memalign(&p, 3, 64);   /* not a power of two */
    CHECK_INT(rc, EINVAL);

    a = aligned_alloc(64, 1024);
    CHECK(a != NULL);
    if (a != NULL) {
        CHECK_MSG(((uintptr_t)a & 63) == 0, "aligned_alloc(64): %p not aligned", (void *)a);
        fill_pattern(a, 0, 1024, 4);
        CHECK(find_bad_pattern(a, 1024, 4) == (size_t)-1);
    }
    b = aligned_alloc(4096, 3 * 4096);
    CHECK(b != NULL);
    if (b != NULL) {
        CHECK_MSG(((uintptr_t)b & 4095) == 0, "aligned_alloc(4096): %p not aligned", (void *)b);
        fill_pattern(b, 0, 3 * 4096, 5);
        CHECK(find_bad_pattern(b, 3 * 4096, 5) == (size_t)-1);
    }
    if (a != NULL)
        CHECK(find_bad_pattern(a, 1024, 4) == (size_t)-1);
    free(a);
    free(b);
    free(NULL);   /* must be a no-op */
}

static void check_malloc(int argc, char **argv)
{
    (void)argc; (void)argv;
    check_small_blocks();
    check_big_block();
    check_calloc();
    check_realloc();
    check_aligned();
}

/* ------------------------------------------------------------------ */
/* 4. qsort / bsearch                                                  */
/* ------------------------------------------------------------------ */

static uint64_t lcg_state;

static uint32_t lcg_next(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(lcg_state >> 32);
}

static int cmp_int(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;

    return (a > b) - (a < b);
}

static void check_qsort(int argc, char **argv)
{
    enum { N = 100000 };
    int *v = malloc(N * sizeof *v);
    unsigned long long sum0 = 0, sum1 = 0, x0 = 0, x1 = 0;
    size_t i, unsorted = 0;
    int key, *hit;

    (void)argc; (void)argv;
    CHECK(v != NULL);
    if (v == NULL)
        return;
    lcg_state = 12345;
    for (i = 0; i < N; i++) {
        v[i] = (int)(lcg_next() & ~1u);   /* all even, may be negative */
        sum0 += (unsigned)v[i];
        x0 ^= (unsigned)v[i] * 2654435761u;
    }
    qsort(v, N, sizeof *v, cmp_int);
    for (i = 0; i < N; i++) {
        sum1 += (unsigned)v[i];
        x1 ^= (unsigned)v[i] * 2654435761u;
        if (i > 0 && v[i - 1] > v[i])
            unsorted++;
    }
    CHECK_MSG(unsorted == 0, "qsort: %zu adjacent pairs out of order", unsorted);
    CHECK_UINT(sum1, sum0);
    CHECK_UINT(x1, x0);
    CHECK(v[0] < 0 && v[N - 1] > 0);

    for (i = 0; i < N; i += 9973) {
        key = v[i];
        hit = bsearch(&key, v, N, sizeof *v, cmp_int);
        CHECK_MSG(hit != NULL && *hit == key, "bsearch(%d) failed", key);
    }
    key = 12345;   /* odd: cannot be present */
    CHECK(bsearch(&key, v, N, sizeof *v, cmp_int) == NULL);
    key = v[N - 1];
    CHECK(bsearch(&key, v, N, sizeof *v, cmp_int) != NULL);
    free(v);
}

/* ------------------------------------------------------------------ */
/* 5. strtod / strtol / strtoull / atof                                */
/* ------------------------------------------------------------------ */

static void check_strto(int argc, char **argv)
{
    const char *s;
    char *end;
    double d;
    long l;
    unsigned long long u;

    (void)argc; (void)argv;

    s = "3.14159";
    d = strtod(s, &end);
    CHECK_DBL(d, 3.14159);
    CHECK_INT(end - s, 7);

    s = "12.5abc";
    d = strtod(s, &end);
    CHECK_DBL(d, 12.5);
    CHECK_INT(end - s, 4);

    s = "  -0.000123e+2xyz";
    d = strtod(s, &end);
    CHECK_DBL(d, -0.0123);
    CHECK_INT(end - s, 14);

    s = "0x1.8p3";
    d = strtod(s, &end);
    CHECK_DBL(d, 12.0);
    CHECK_INT(end - s, 7);

    d = strtod("0x10", NULL);
    CHECK_DBL(d, 16.0);
    d = strtod("-0x1p-2", NULL);
    CHECK_DBL(d, -0.25);

    s = "inf";
    d = strtod(s, &end);
    CHECK(isinf(d) && d > 0);
    CHECK_INT(end - s, 3);
    s = "-Infinity!";
    d = strtod(s, &end);
    CHECK(isinf(d) && d < 0);
    CHECK_INT(end - s, 9);
    d = strtod("nan", NULL);
    CHECK(isnan(d));

    errno = 0;
    d = strtod("1e-310", NULL);   /* subnormal: ERANGE on both musl and glibc */
    CHECK_DBL(d, 1e-310);
    CHECK_INT(errno, ERANGE);
    errno = 0;
    d = strtod("1e400", NULL);
    CHECK(d == HUGE_VAL);
    CHECK_INT(errno, ERANGE);
    errno = 0;
    d = strtod("1e-400", NULL);
    CHECK_DBL(d, 0.0);
    CHECK_INT(errno, ERANGE);
    errno = 0;
    d = strtod("2.2250738585072014e-308", NULL);   /* DBL_MIN, no error */
    CHECK_DBL(d, 2.2250738585072014e-308);
    CHECK_INT(errno, 0);
    d = strtod("0.1", NULL);
    CHECK_DBL(d, 0.1);
    d = strtod("9007199254740993", NULL);   /* 2^53+1 rounds to even */
    CHECK_DBL(d, 9007199254740992.0);

    s = "abc";
    d = strtod(s, &end);
    CHECK_DBL(d, 0.0);
    CHECK(end == s);

    CHECK_DBL(atof("2.5e3"), 2500.0);
    CHECK_DBL(atof("-7.25"), -7.25);

    s = "  42xyz";
    l = strtol(s, &end, 10);
    CHECK_INT(l, 42);
    CHECK_INT(end - s, 4);
    CHECK_INT(strtol("-123", NULL, 10), -123);
    CHECK_INT(strtol("0x1f", NULL, 16), 31);
    CHECK_INT(strtol("0x1f", NULL, 0), 31);
    CHECK_INT(strtol("077", NULL, 0), 63);
    CHECK_INT(strtol("z", NULL, 36), 35);
    CHECK_INT(atoi("  -17"), -17);
    CHECK_INT(atol("123456789012"), 123456789012L);
    errno = 0;
    l = strtol("99999999999999999999", NULL, 10);
    CHECK_INT(l, LONG_MAX);
    CHECK_INT(errno, ERANGE);
    errno = 0;
    l = strtol("-99999999999999999999", NULL, 10);
    CHECK_INT(l, LONG_MIN);
    CHECK_INT(errno, ERANGE);

    errno = 0;
    u = strtoull("18446744073709551615", &end, 10);
    CHECK_UINT(u, ULLONG_MAX);
    CHECK_INT(errno, 0);
    CHECK_INT(*end, '\0');
    errno = 0;
    u = strtoull("18446744073709551616", NULL, 10);
    CHECK_UINT(u, ULLONG_MAX);
    CHECK_INT(errno, ERANGE);
    CHECK_UINT(strtoull("-1", NULL, 10), ULLONG_MAX);
    CHECK_UINT(strtoull("0xFFFFFFFFFFFF", NULL, 16), 0xFFFFFFFFFFFFULL);
}

/* ------------------------------------------------------------------ */
/* 6. getopt_long, argv, environ                                       */
/* ------------------------------------------------------------------ */

static int opt_start;   /* index in argv of the first option (after MODE) */

static void check_getopt(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "alpha", required_argument, NULL, 'a' },
        { "beta",  no_argument,       NULL, 'b' },
        { "name",  required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    int sub_argc = argc - opt_start + 1;
    char **sub_argv = argv + opt_start - 1;   /* sub_argv[0] is MODE/argv[0] */
    int c, alpha = -1, beta = 0, unknown = 0;
    const char *name = NULL;

    CHECK(argc >= 1);
    CHECK(argv[argc] == NULL);

    if (getenv("TORO_RANK") != NULL) {
        char **e;
        int found = 0;

        CHECK(environ != NULL);
        for (e = environ; e != NULL && *e != NULL; e++)
            if (strncmp(*e, "TORO_RANK=", 10) == 0)
                found = 1;
        CHECK_MSG(found, "environ does not contain TORO_RANK=");
    }

    if (sub_argc <= 1) {
        ok_note = " (no args)";
        return;
    }

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(sub_argc, sub_argv, "a:b", longopts, NULL)) != -1) {
        switch (c) {
        case 'a': alpha = atoi(optarg); break;
        case 'b': beta = 1; break;
        case 'n': name = optarg; break;
        default:  unknown++; break;
        }
    }
    CHECK_INT(unknown, 0);
    CHECK_INT(alpha, 3);
    CHECK_INT(beta, 1);
    CHECK_STR(name, "hello");
    CHECK_INT(sub_argc - optind, 2);
    if (sub_argc - optind == 2) {
        CHECK_STR(sub_argv[optind], "file1");
        CHECK_STR(sub_argv[optind + 1], "file2");
    }
}

/* ------------------------------------------------------------------ */
/* 7. math                                                             */
/* ------------------------------------------------------------------ */

static void check_math(int argc, char **argv)
{
    volatile double pi = 3.14159265358979323846;   /* defeat constant folding */
    volatile double one = 1.0, two = 2.0, three = 3.0;
    const double tol = 1e-14;

    (void)argc; (void)argv;
    CHECK_NEAR(sin(pi / 6), 0.5, tol);
    CHECK_NEAR(sin(pi / 2), 1.0, tol);
    CHECK_NEAR(sin(pi), 0.0, tol);
    CHECK_NEAR(sin(100.0 * one), -0.50636564110975879, tol);
    CHECK_NEAR(cos(0.0 * one), 1.0, tol);
    CHECK_NEAR(cos(pi), -1.0, tol);
    CHECK_NEAR(cos(pi / 3), 0.5, tol);
    CHECK_NEAR(exp(one), 2.71828182845904523536, tol);
    CHECK_NEAR(exp(-two), 0.1353352832366127, tol);
    CHECK_NEAR(log(2.71828182845904523536 * one), 1.0, tol);
    CHECK_NEAR(log(10.0 * one), 2.302585092994046, tol);
    CHECK_DBL(pow(two, 10.0), 1024.0);
    CHECK_NEAR(pow(two, 0.5), 1.4142135623730951, tol);
    CHECK_NEAR(pow(10.0 * one, -3.0), 0.001, tol);
    CHECK_DBL(sqrt(two), 1.4142135623730951);      /* sqrt is correctly rounded */
    CHECK_DBL(sqrt(144.0 * one), 12.0);
    CHECK_DBL(fabs(-3.5 * one), 3.5);
    CHECK_DBL(floor(-2.5 * one), -3.0);
    CHECK_DBL(floor(2.5 * one), 2.0);
    CHECK_DBL(ceil(-2.5 * one), -2.0);
    CHECK_DBL(ceil(2.1 * one), 3.0);
    CHECK_DBL(fmod(10.5 * one, three), 1.5);
    CHECK_DBL(fmod(-7.0 * one, three), -1.0);
    CHECK_NEAR(atan2(one, one), pi / 4, tol);
    CHECK_NEAR(atan2(-one, -one), -3 * pi / 4, tol);
    CHECK_NEAR(atan2(one, 0.0 * one), pi / 2, tol);
    CHECK_DBL(log2(1024.0 * one), 10.0);
    CHECK_NEAR(log2(3.0 * one), 1.5849625007211562, tol);
    CHECK_NEAR(cbrt(27.0 * one), 3.0, tol);
    CHECK_NEAR(cbrt(-8.0 * one), -2.0, tol);
    CHECK_DBL(hypot(three, 4.0 * one), 5.0);
    CHECK_INT(lround(2.5 * one), 3);
    CHECK_INT(lround(-2.5 * one), -3);
    CHECK_INT(lround(2.4 * one), 2);
    CHECK(isnan(sqrt(-one)));
    CHECK(isinf(log(0.0 * one)));
}

/* ------------------------------------------------------------------ */
/* 8. clocks                                                           */
/* ------------------------------------------------------------------ */

static long long ts_ns(const struct timespec *ts)
{
    return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

#define EPOCH_2020 1577836800LL   /* 2020-01-01T00:00:00Z */

static void check_clock(int argc, char **argv)
{
    struct timespec t0, t, prev, r;
    struct timeval tv;
    long long first, back = 0, elapsed;
    long i;
    time_t now;
    int rc;

    (void)argc; (void)argv;
    rc = clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(rc, 0);
    CHECK(t0.tv_nsec >= 0 && t0.tv_nsec < 1000000000L);
    prev = t0;
    for (i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (ts_ns(&t) < ts_ns(&prev))
            back++;
        prev = t;
    }
    CHECK_MSG(back == 0, "CLOCK_MONOTONIC went backwards %lld times in 1000 calls", back);

    /* it must advance: spin until it changes */
    first = ts_ns(&t0);
    for (i = 0; i < 100000000L; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (ts_ns(&t) != first)
            break;
    }
    CHECK_MSG(ts_ns(&t) > first, "CLOCK_MONOTONIC did not advance (stuck at %lld ns)", first);

    /* nanosleep(50 ms) */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    {
        struct timespec req = { 0, 50000000L };
        rc = nanosleep(&req, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t);
    CHECK_INT(rc, 0);
    elapsed = ts_ns(&t) - ts_ns(&t0);
    CHECK_MSG(elapsed >= 50000000LL, "nanosleep(50 ms): only %lld ns passed", elapsed);
    CHECK_MSG(elapsed < 10000000000LL, "nanosleep(50 ms): %lld ns passed (> 10 s)", elapsed);

    /* wall clock */
    rc = gettimeofday(&tv, NULL);
    CHECK_INT(rc, 0);
    CHECK_MSG((long long)tv.tv_sec > EPOCH_2020, "gettimeofday: tv_sec=%lld before 2020",
              (long long)tv.tv_sec);
    CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    now = time(NULL);
    CHECK_MSG((long long)now > EPOCH_2020, "time(): %lld before 2020", (long long)now);
    rc = clock_gettime(CLOCK_REALTIME, &r);
    CHECK_INT(rc, 0);
    CHECK_MSG((long long)r.tv_sec > EPOCH_2020, "CLOCK_REALTIME: %lld before 2020",
              (long long)r.tv_sec);
    CHECK_MSG(llabs((long long)r.tv_sec - (long long)now) <= 2,
              "CLOCK_REALTIME %lld and time() %lld disagree", (long long)r.tv_sec,
              (long long)now);
}

/* ------------------------------------------------------------------ */
/* 9. big stack frame                                                  */
/* ------------------------------------------------------------------ */

#define STACK_BUF (512 * 1024)

static NOINLINE unsigned long stack_sum(unsigned seed)
{
    volatile char buf[STACK_BUF];
    unsigned long sum = 0;
    size_t i;

    for (i = 0; i < STACK_BUF; i++)
        buf[i] = (char)((i * 7 + seed) & 0x7f);
    for (i = 0; i < STACK_BUF; i++)
        sum += (unsigned char)buf[i];
    return sum;
}

static void check_stack(int argc, char **argv)
{
    unsigned long expect = 0;
    size_t i;
    unsigned seed = 3 + (unsigned)my_rank;

    (void)argc; (void)argv;
    for (i = 0; i < STACK_BUF; i++)
        expect += (i * 7 + seed) & 0x7f;
    CHECK_UINT(stack_sum(seed), expect);
}

/* ------------------------------------------------------------------ */
/* 10. strings and misc                                                */
/* ------------------------------------------------------------------ */

static const char *volatile hello_world = "hello world";

static void check_strings(int argc, char **argv)
{
    char buf[64], small[8], copy[32];
    char tokbuf[] = "alpha, beta,,gamma ;delta";
    const char *toks[8];
    int ntok = 0, n;
    char *tok;
    struct utsname u;
    long ps;
    const char *env_rank;

    (void)argc; (void)argv;

    /* memcpy / memmove */
    memcpy(buf, "0123456789", 11);
    CHECK_STR(buf, "0123456789");
    memmove(buf + 2, buf, 8);             /* forward overlap */
    buf[10] = '\0';
    CHECK_STR(buf, "0101234567");
    memcpy(buf, "0123456789", 11);
    memmove(buf, buf + 3, 8);             /* backward overlap (copies the NUL) */
    CHECK_STR(buf, "3456789");
    memset(buf, 'x', 5);
    buf[5] = '\0';
    CHECK_STR(buf, "xxxxx");
    CHECK(memcmp("abc", "abd", 3) < 0);
    CHECK(memchr("hello", 'l', 5) != NULL);

    /* comparisons */
    CHECK(strcmp("abc", "abc") == 0);
    CHECK(strcmp("abc", "abd") < 0);
    CHECK(strcmp("b", "abc") > 0);
    CHECK(strcmp("ab", "abc") < 0);
    CHECK(strncmp("abcdef", "abcxyz", 3) == 0);
    CHECK(strcasecmp("Hello", "hELLO") == 0);
    CHECK(strcasecmp("apple", "BANANA") < 0);
    CHECK(strncasecmp("ABCx", "abcy", 3) == 0);
    CHECK_INT(strlen("hello, world"), 12);
    CHECK_STR(strchr("hello", 'l'), "llo");
    CHECK_STR(strrchr("hello", 'l'), "lo");
    CHECK_STR(strstr("find the needle here", "needle"), "needle here");

    /* strncpy pads with NULs, and does not terminate when src is too long */
    memset(copy, 'Z', sizeof copy);
    strncpy(copy, "hi", 6);
    CHECK(copy[0] == 'h' && copy[1] == 'i' && copy[2] == 0 && copy[5] == 0 && copy[6] == 'Z');

    /* strtok */
    for (tok = strtok(tokbuf, " ,;"); tok != NULL && ntok < 8; tok = strtok(NULL, " ,;"))
        toks[ntok++] = tok;
    CHECK_INT(ntok, 4);
    if (ntok == 4) {
        CHECK_STR(toks[0], "alpha");
        CHECK_STR(toks[1], "beta");
        CHECK_STR(toks[2], "gamma");
        CHECK_STR(toks[3], "delta");
    }

    /* sprintf / snprintf truncation */
    n = sprintf(small, "%d-%c", 42, 'z');
    CHECK_INT(n, 4);
    CHECK_STR(small, "42-z");
    /* runtime strings, so the compiler cannot warn about the intended truncation */
    n = snprintf(small, sizeof small, "%s", hello_world);
    CHECK_INT(n, 11);
    CHECK_STR(small, "hello w");
    n = snprintf(NULL, 0, "%d", 123456);
    CHECK_INT(n, 6);
    n = snprintf(small, 1, "%s", hello_world + 8);   /* "rld" */
    CHECK_INT(n, 3);
    CHECK_INT(small[0], '\0');

    /* ctype */
    CHECK(isdigit('7') && !isdigit('a'));
    CHECK(isspace(' ') && isspace('\t'));
    CHECK_INT(toupper('q'), 'Q');

    /* process / system info */
    CHECK_MSG(getpid() > 0, "getpid() = %d", (int)getpid());
    n = uname(&u);
    CHECK_INT(n, 0);
    CHECK_MSG(n == 0 && u.sysname[0] != '\0', "uname: empty sysname");
    ps = sysconf(_SC_PAGESIZE);
    CHECK_INT(ps, 4096);
    CHECK_INT(getpagesize(), 4096);
    n = isatty(1);   /* 0 or 1, must just not crash */
    CHECK(n == 0 || n == 1);

    /* environment */
    env_rank = getenv("TORO_RANK");
    if (env_rank != NULL)
        CHECK_INT(atoi(env_rank), my_rank);
    CHECK(getenv("LIBC_CHECK_SURELY_UNSET_VARIABLE") == NULL);
    CHECK_INT(setenv("LIBC_CHECK_VAR", "xyz", 1), 0);
    CHECK_STR(getenv("LIBC_CHECK_VAR"), "xyz");
    CHECK_INT(setenv("LIBC_CHECK_VAR", "abc", 0), 0);   /* no overwrite */
    CHECK_STR(getenv("LIBC_CHECK_VAR"), "xyz");
    CHECK_INT(unsetenv("LIBC_CHECK_VAR"), 0);
    CHECK(getenv("LIBC_CHECK_VAR") == NULL);
}

/* ------------------------------------------------------------------ */
/* 11. stdio to stdout                                                 */
/* ------------------------------------------------------------------ */

static void check_stdio(int argc, char **argv)
{
    char line[64];
    int n, i;
    size_t w;

    (void)argc; (void)argv;
    n = snprintf(line, sizeof line, "[rank %d] stdio: fwrite line\n", my_rank);
    w = fwrite(line, 1, (size_t)n, stdout);
    CHECK_UINT(w, (unsigned long long)n);

    snprintf(line, sizeof line, "[rank %d] stdio: puts line", my_rank);
    CHECK(puts(line) >= 0);

    snprintf(line, sizeof line, "[rank %d] stdio: putchar line\n", my_rank);
    for (i = 0; line[i] != '\0'; i++)
        CHECK_INT(putchar(line[i]), (unsigned char)line[i]);

    CHECK(fputs("", stdout) >= 0);
    CHECK_INT(fflush(stdout), 0);
    CHECK(!ferror(stdout));
}

/* ------------------------------------------------------------------ */
/* Modes                                                               */
/* ------------------------------------------------------------------ */

static int mode_all(int argc, char **argv)
{
    say("all: running libc checks (rank %d of %d)", my_rank, n_ranks);
    fflush(stdout);

    run_check("privacy", check_privacy, argc, argv);
    run_check("printf", check_printf, argc, argv);
    run_check("malloc", check_malloc, argc, argv);
    run_check("qsort", check_qsort, argc, argv);
    run_check("strtod", check_strto, argc, argv);
    run_check("getopt_long", check_getopt, argc, argv);
    run_check("math", check_math, argc, argv);
    run_check("clock", check_clock, argc, argv);
    run_check("stack", check_stack, argc, argv);
    run_check("strings", check_strings, argc, argv);
    run_check("stdio", check_stdio, argc, argv);

    say("rank %d: %d checks, %d failed", my_rank, n_checks, n_failed);
    fflush(stdout);
    return n_failed ? 1 : 0;
}

/* Optional RANK argument at argv[idx]; returns dflt when absent. */
static int rank_arg(int argc, char **argv, int idx, int dflt)
{
    if (idx < argc)
        return atoi(argv[idx]);
    return dflt;
}

static int mode_hello(void)
{
    say("hello from rank %d of %d", my_rank, n_ranks);
    return 0;
}

static int mode_exit(int argc, char **argv)
{
    int code = argc > 2 ? atoi(argv[2]) : 0;

    if (argc > 3) {
        int target = atoi(argv[3]);
        if (my_rank != target) {
            say("exit: rank %d exits with %d; sleeping 200 ms then exiting 0", target, code);
            fflush(stdout);
            sleep_ms(200);
            exit(0);
        }
    }
    say("exit: exiting with status %d", code);
    fflush(stdout);
    exit(code);
}

static int mode_null(int argc, char **argv)
{
    int target = rank_arg(argc, argv, 2, 0);

    if (my_rank == target) {
        volatile int *p = 0;

        say("null: writing through a NULL pointer");
        fflush(stdout);
        *p = 1;
        say("null: survived the NULL write (unexpected)");
        return 2;
    }
    say("null: rank %d writes through NULL; sleeping 500 ms then exiting 0", target);
    fflush(stdout);
    sleep_ms(500);
    return 0;
}

static int mode_abort(int argc, char **argv)
{
    int target = rank_arg(argc, argv, 2, 0);

    if (my_rank == target) {
        say("abort: calling abort()");
        fflush(stdout);
        abort();
    }
    say("abort: rank %d calls abort(); sleeping 500 ms then exiting 0", target);
    fflush(stdout);
    sleep_ms(500);
    return 0;
}

static volatile long recursion_limit = LONG_MAX;   /* never reached */

static NOINLINE long recurse(long depth)
{
    volatile char buf[1024];

    buf[depth & 1023] = (char)depth;
    buf[(depth * 7) & 1023] = (char)(depth >> 3);
    if (depth >= recursion_limit)
        return buf[0];
    return recurse(depth + 1) + buf[(depth * 13) & 1023];
}

static int mode_overflow(int argc, char **argv)
{
    int target = rank_arg(argc, argv, 2, 0);

    if (my_rank == target) {
        long r;

        say("overflow: recursing without bound (1 KiB per frame)");
        fflush(stdout);
        r = recurse(0);
        say("overflow: recursion returned %ld (unexpected)", r);
        return 2;
    }
    say("overflow: rank %d overflows its stack; sleeping 500 ms then exiting 0", target);
    fflush(stdout);
    sleep_ms(500);
    return 0;
}

#define UNUSED_SYSCALL 400   /* 335..423 are not assigned on x86-64 */

static int mode_enosys(void)
{
    long r1, r2;
    int e1, e2, ok = 1;

    say("enosys: calling syscall(%d) twice, expecting -1/ENOSYS", UNUSED_SYSCALL);
    fflush(stdout);
    errno = 0;
    r1 = syscall(UNUSED_SYSCALL);
    e1 = errno;
    if (r1 == -1 && e1 == ENOSYS) {
        say("ok enosys");
    } else {
        say("FAIL enosys: expected -1 errno=%d (ENOSYS), got %ld errno=%d", ENOSYS, r1, e1);
        ok = 0;
    }
    fflush(stdout);
    errno = 0;
    r2 = syscall(UNUSED_SYSCALL);
    e2 = errno;
    if (r2 == -1 && e2 == ENOSYS) {
        say("ok enosys (second call)");
    } else {
        say("FAIL enosys (second call): expected -1 errno=%d (ENOSYS), got %ld errno=%d",
            ENOSYS, r2, e2);
        ok = 0;
    }
    return ok ? 0 : 1;
}

/* Parse a size in MiB; returns 0 and sets *bytes, or -1 on a bad argument. */
static int parse_mib(int argc, char **argv, unsigned long long *mib, size_t *bytes)
{
    char *end;

    if (argc < 3)
        return -1;
    errno = 0;
    *mib = strtoull(argv[2], &end, 10);
    if (errno != 0 || *end != '\0' || end == argv[2])
        return -1;
    *bytes = *mib > (SIZE_MAX >> 20) ? SIZE_MAX : (size_t)(*mib << 20);
    return 0;
}

static void touch_pages(volatile unsigned char *p, size_t bytes)
{
    size_t i;

    for (i = 0; i < bytes; i += 4096)
        p[i] = (unsigned char)(i >> 12);
    if (bytes > 0)
        p[bytes - 1] = 1;
}

static int mode_bigmalloc(int argc, char **argv)
{
    unsigned long long mib;
    size_t bytes;
    unsigned char *p;
    int e;

    if (parse_mib(argc, argv, &mib, &bytes) != 0) {
        say("bigmalloc: usage: bigmalloc SIZE_MIB");
        return 2;
    }
    say("bigmalloc: malloc(%llu MiB)", mib);
    fflush(stdout);
    errno = 0;
    p = malloc(bytes);
    e = errno;
    if (p == NULL) {
        if (e == ENOMEM) {
            say("bigmalloc: NULL errno=ENOMEM");
            return 0;
        }
        say("bigmalloc: NULL errno=%d (%s)", e, strerror(e));
        return 1;
    }
    touch_pages(p, bytes);
    say("bigmalloc: ok");
    free(p);
    return 0;
}

static int mode_mmapbig(int argc, char **argv)
{
    unsigned long long mib;
    size_t bytes;
    void *p;
    int e;

    if (parse_mib(argc, argv, &mib, &bytes) != 0) {
        say("mmapbig: usage: mmapbig SIZE_MIB");
        return 2;
    }
    say("mmapbig: mmap(%llu MiB, MAP_PRIVATE|MAP_ANONYMOUS)", mib);
    fflush(stdout);
    errno = 0;
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    e = errno;
    if (p == MAP_FAILED) {
        if (e == ENOMEM) {
            say("mmapbig: MAP_FAILED errno=ENOMEM");
            return 0;
        }
        say("mmapbig: MAP_FAILED errno=%d (%s)", e, strerror(e));
        return 1;
    }
    touch_pages(p, bytes);
    say("mmapbig: ok");
    munmap(p, bytes);
    return 0;
}

static int usage(const char *mode)
{
    say("unknown mode \"%s\"; modes: all hello exit null abort overflow enosys "
        "bigmalloc mmapbig", mode);
    return 2;
}

int main(int argc, char **argv)
{
    const char *mode = "all";

    setvbuf(stdout, NULL, _IOLBF, 0);
    my_rank = env_int("TORO_RANK", 0);
    n_ranks = env_int("TORO_NRANKS", 1);

    /* MODE is argv[1] unless it is missing or looks like an option */
    opt_start = 1;
    if (argc > 1 && argv[1][0] != '-') {
        mode = argv[1];
        opt_start = 2;
    }

    if (strcmp(mode, "all") == 0)
        return mode_all(argc, argv);
    if (strcmp(mode, "hello") == 0)
        return mode_hello();
    if (strcmp(mode, "exit") == 0)
        return mode_exit(argc, argv);
    if (strcmp(mode, "null") == 0)
        return mode_null(argc, argv);
    if (strcmp(mode, "abort") == 0)
        return mode_abort(argc, argv);
    if (strcmp(mode, "overflow") == 0)
        return mode_overflow(argc, argv);
    if (strcmp(mode, "enosys") == 0)
        return mode_enosys();
    if (strcmp(mode, "bigmalloc") == 0)
        return mode_bigmalloc(argc, argv);
    if (strcmp(mode, "mmapbig") == 0)
        return mode_mmapbig(argc, argv);
    return usage(mode);
}
