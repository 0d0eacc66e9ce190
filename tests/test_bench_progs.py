"""The benchmark programs in bench/: the OSU-style MPI benchmarks built
with toro-mpicc and with Open MPI's mpicc, run small (2 ranks, a few
sizes, 5 iterations) under Toro and under mpirun, their output parsed as
the benchmark runner parses OSU output; and the two floors without MPI
(bounce, memcpy_bw) under Toro and on this host.

Nothing here asserts a timing: the machine is shared and TCG is slow.
Values are only checked to be numbers above zero and, with -f, min <=
avg <= max."""
import os
import re
import subprocess

import pytest

from conftest import OUT, ROOT, toro_mpicc, toro_run
from test_mpi import CFLAGS, MPICC, MPIRUN, NO_OMPI, Builds, mpirun, run_toro

BENCH = os.path.join(ROOT, "bench")
TIMEOUT = 120       # seconds a job may take before it counts as hung (they take about 0.5 s)

# name: (title after "# OSU MPI ", column)
P2P = {
    "osu_latency": ("Latency Test", "Latency (us)"),
    "osu_bw": ("Bandwidth Test", "Bandwidth (MB/s)"),
    "osu_bibw": ("Bi-Directional Bandwidth Test", "Bandwidth (MB/s)"),
    "osu_put_latency": ("MPI_Put Latency Test", "Latency (us)"),
    "osu_get_latency": ("MPI_Get Latency Test", "Latency (us)"),
    "osu_put_bw": ("MPI_Put Bandwidth Test", "Bandwidth (MB/s)"),
    "osu_get_bw": ("MPI_Get Bandwidth Test", "Bandwidth (MB/s)"),
    "osu_acc_latency": ("MPI_Accumulate latency Test", "Latency (us)"),
    "osu_latency_mt": ("Multi-threaded Latency Test", "Latency (us)"),
}
# name: (title, datatype, smallest size with a row: one element)
COLL = {
    "osu_bcast": ("Broadcast Latency Test", "MPI_CHAR", 1),
    "osu_reduce": ("Reduce Latency Test", "MPI_FLOAT", 4),
    "osu_allreduce": ("Allreduce Latency Test", "MPI_FLOAT", 4),
    "osu_gather": ("Gather Latency Test", "MPI_CHAR", 1),
    "osu_scatter": ("Scatter Latency Test", "MPI_CHAR", 1),
    "osu_allgather": ("Allgather Latency Test", "MPI_CHAR", 1),
    "osu_alltoall": ("All-to-All Personalized Exchange Latency Test", "MPI_CHAR", 1),
}
BARRIER = "osu_barrier"
OSU = sorted([*P2P, *COLL, BARRIER])
ITERS = 5

# Bandwidth runs start at 64 bytes, so that a slow first window on a busy
# machine cannot print 0.00 MB/s; 32 KiB takes the rendezvous path.
P2P_SIZES = {"osu_latency": (0, 1024), "osu_bw": (64, 32768), "osu_bibw": (64, 32768),
             "osu_put_latency": (0, 1024), "osu_get_latency": (0, 1024), "osu_acc_latency": (4, 1024),
             "osu_put_bw": (64, 32768), "osu_get_bw": (64, 32768), "osu_latency_mt": (0, 1024)}
COLL_SIZES = (1, 1024)


def bench_source(name):
    return os.path.join(BENCH, name + ".c")


def bench_warnings(rc, out, err, path):
    """Builds' own check sees warnings in NAME.c only; one in a bench/
    header (osu_common.h) fails the build as well."""
    if any("warning:" in l and "bench/" in l for l in err.splitlines()):
        rc = rc or 1
    return rc, out, err, path


@pytest.fixture(scope="module")
def toro_bench():
    def compile(name, path):
        image = path + ".elf"
        r = toro_mpicc(*CFLAGS, bench_source(name), "-o", image)
        return bench_warnings(r.rc, r.out, r.err, image)
    return Builds(os.path.join(OUT, "bench"), compile)


@pytest.fixture(scope="module")
def ompi_bench():
    if not (MPICC and MPIRUN):
        pytest.skip(NO_OMPI)

    def compile(name, path):
        p = subprocess.run([MPICC, *CFLAGS, bench_source(name), "-o", path], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=300)
        return bench_warnings(p.returncode, p.stdout, p.stderr, path)
    return Builds(os.path.join(OUT, "bench-openmpi"), compile)


@pytest.fixture(scope="module")
def host_bench():
    """bounce and memcpy_bw built with the host's gcc, as the runner
    builds them for the host and the Linux VM."""
    def compile(name, path):
        p = subprocess.run(["gcc", *CFLAGS, "-pthread", bench_source(name), "-o", path],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        return bench_warnings(p.returncode, p.stdout, p.stderr, path)
    return Builds(os.path.join(OUT, "bench-host"), compile)


def powers(lo, hi):
    """The sizes an OSU sweep visits from lo to hi: 0 (if lo is 0), then
    powers of two from lo."""
    sizes, n = [], lo
    while n <= hi:
        sizes.append(n)
        n = n * 2 if n else 1
    return sizes


def number(text):
    try:
        return float(text)
    except ValueError:
        raise AssertionError(f"not a number: {text!r}")


def parse_osu(out, title):
    """Splits OSU output into its comment lines and its rows (lists of
    numbers). The first non-blank line is the title; the last comment line
    is the column header."""
    lines = [l for l in out.splitlines() if l.strip()]
    assert lines, "no output"
    # OSU names one-sided tests "# OSU MPI_Put Latency Test", the others "# OSU MPI Latency Test"
    assert lines[0] in (f"# OSU MPI {title} (Toro bench)", f"# OSU {title} (Toro bench)"), lines[0]
    comments = [l for l in lines if l.startswith("#")]
    rows = [l for l in lines if not l.startswith("#")]
    assert lines[:len(comments)] == comments, "comment lines after the first row"
    return comments, [[number(f) for f in row.split()] for row in rows]


def header_fields(line):
    """Column names of an OSU header line, split at runs of 2+ spaces."""
    return [f for f in re.split(r"\s{2,}", line.lstrip("# ").strip()) if f]


def check_p2p(name, out, threads=(2, 2)):
    title, column = P2P[name]
    comments, rows = parse_osu(out, title)
    assert ("# Datatype: MPI_INT." if name == "osu_acc_latency" else "# Datatype: MPI_CHAR.") in comments
    if name.startswith(("osu_put", "osu_get", "osu_acc")):
        assert "# Window creation: MPI_Win_allocate" in comments and "# Synchronization: MPI_Win_flush" in comments
    if name == "osu_latency_mt":
        send, recv = threads
        assert comments[2:4] == [f"# Number of Sender threads: {send}", f"# Number of Receiver threads: {recv}"], out
    assert header_fields(comments[-1]) == ["Size", column], comments[-1]
    assert [int(r[0]) for r in rows] == powers(*P2P_SIZES[name]), out
    for r in rows:
        assert len(r) == 2 and r[1] > 0, r


def check_coll(name, out, full, sizes=COLL_SIZES):
    title, dtype, unit = COLL[name]
    comments, rows = parse_osu(out, title)
    assert f"# Datatype: {dtype}." in comments
    want = ["Size", "Avg Latency(us)"] + (["Min Latency(us)", "Max Latency(us)", "Iterations"] if full else [])
    assert header_fields(comments[-1]) == want, comments[-1]
    assert [int(r[0]) for r in rows] == [s for s in powers(*sizes) if s >= unit], out
    for r in rows:
        check_latencies(r[1:], full)


def check_barrier(out, full):
    comments, rows = parse_osu(out, "Barrier Latency Test")
    want = ["Avg Latency(us)"] + (["Min Latency(us)", "Max Latency(us)", "Iterations"] if full else [])
    assert header_fields(comments[-1]) == want, comments[-1]
    assert len(rows) == 1, out
    check_latencies(rows[0], full)


def check_latencies(r, full):
    assert len(r) == (4 if full else 1), r
    assert r[0] > 0, r
    if full:
        avg, lo, hi, iters = r
        assert 0 < lo <= avg <= hi, r
        assert iters == ITERS, r


def run_args(name, full):
    args = ["-i", ITERS, "-x", 1]
    if name in P2P:
        lo, hi = P2P_SIZES[name]
        return ["-m", f"{lo}:{hi}", *args]
    if full:
        args.append("-f")
    return args if name == BARRIER else ["-m", "%d:%d" % COLL_SIZES, *args]


def check_output(name, r, full, **kw):
    assert r.rc != 124, f"{name} hung\n{r}"
    assert r.rc == 0, r
    if name in P2P:
        check_p2p(name, r.out)
    elif name == BARRIER:
        check_barrier(r.out, full)
    else:
        check_coll(name, r.out, full, **kw)


def full_cases():
    """(name, full): -f and without for the collectives, once for p2p."""
    return [(n, f) for n in OSU for f in ((False,) if n in P2P else (False, True))]


# ---- the OSU-style benchmarks ----

@pytest.mark.parametrize("name", OSU)
def test_builds_with_toro_mpicc(toro_bench, name):
    image = toro_bench(name)   # fails on a build error or a warning in the source
    assert os.path.getsize(image) > 0


@pytest.mark.parametrize("name", OSU)
def test_builds_with_mpicc(ompi_bench, name):
    assert os.access(ompi_bench(name), os.X_OK)


@pytest.mark.parametrize("name,full", full_cases())
def test_osu_output_toro(toro_bench, name, full):
    r = run_toro(2, toro_bench(name), *run_args(name, full), timeout=TIMEOUT)
    check_output(name, r, full)


@pytest.mark.parametrize("name,full", full_cases())
def test_osu_output_openmpi(ompi_bench, name, full):
    r = mpirun(2, ompi_bench(name), *run_args(name, full))
    check_output(name, r, full)


@pytest.mark.parametrize("name", sorted([*COLL, BARRIER]))
def test_collectives_on_three_ranks_toro(toro_bench, name):
    """A rank count that is not a power of two (other tree shapes and
    pairings in the library), with the min/max/avg reduction over 3 ranks."""
    args = ["-i", ITERS, "-x", 1, "-f"] + ([] if name == BARRIER else ["-m", "1:64"])
    r = run_toro(3, toro_bench(name), *args, timeout=TIMEOUT)
    check_output(name, r, True, sizes=(1, 64))


def bad_option(name):
    return ["-m", "1:x"] if name != BARRIER else ["-m", "1:4"]   # the barrier has no sizes


def check_usage(name, r):
    assert r.rc not in (0, 124), r
    assert f"Usage: {name} [options]" in r.out + r.err, r
    assert "# OSU MPI" not in r.out, r


@pytest.mark.parametrize("name", OSU)
def test_bad_option_gives_usage_toro(toro_bench, name):
    check_usage(name, run_toro(2, toro_bench(name), *bad_option(name), timeout=TIMEOUT))


@pytest.mark.parametrize("name", OSU)
def test_bad_option_gives_usage_openmpi(ompi_bench, name):
    check_usage(name, mpirun(2, ompi_bench(name), *bad_option(name)))


@pytest.mark.parametrize("args,why", [
    (["-m", "4:2"], "invalid sizes: MIN 4 is above MAX 2"),
    (["-m", "-1:4"], "invalid argument -m -1:4"),
    (["-m"], "option -m needs an argument"),
    (["-i", "0"], "invalid argument -i 0"),
    (["-x", "abc"], "invalid argument -x abc"),
    (["-q"], "invalid option -q"),
    (["extra"], "unexpected argument extra"),
])
def test_bad_command_lines_toro(toro_bench, args, why):
    r = run_toro(2, toro_bench("osu_allreduce"), *args, timeout=TIMEOUT)
    check_usage("osu_allreduce", r)
    assert r.out.count(f"osu_allreduce: {why}\n") == 1, r   # rank 0 only


def test_help_exits_zero_toro(toro_bench):
    r = run_toro(2, toro_bench("osu_bcast"), "-h", timeout=TIMEOUT)
    assert r.rc == 0, r
    assert r.out.count("Usage: osu_bcast [options]") == 1 and "-f " in r.out, r


def test_wrong_rank_counts_toro(toro_bench):
    p2p = run_toro(3, toro_bench("osu_latency"), timeout=TIMEOUT)
    assert p2p.rc not in (0, 124) and "osu_latency: this test requires exactly two processes" in p2p.out, p2p
    coll = run_toro(1, toro_bench("osu_gather"), timeout=TIMEOUT)
    assert coll.rc not in (0, 124) and "osu_gather: this test requires at least two processes" in coll.out, coll


# ---- osu_latency_mt: threads of both ranks at once ----

MT_ARGS = ["-m", "0:1024", "-i", 20, "-x", 2]


@pytest.mark.parametrize("tpr,threads", [(2, (2, 2)), (2, (3, 1)), (1, (1, 4))])
def test_latency_mt_threads_toro(toro_bench, tpr, threads):
    """Sender and receiver threads on the rank's own cores (and more
    threads than cores, sharing them); every ping-pong must be matched by
    its tag, or the job hangs."""
    image = toro_bench("osu_latency_mt")
    r = toro_run("-n", 2, "--threads-per-rank", tpr, "--timeout", TIMEOUT, image, "--", *MT_ARGS,
                 "-t", "%d:%d" % threads, timeout=TIMEOUT + 60)
    assert r.rc != 124, f"osu_latency_mt hung\n{r}"
    assert r.rc == 0, r
    check_p2p("osu_latency_mt", r.out, threads)


def test_latency_mt_threads_openmpi(ompi_bench):
    r = mpirun(2, ompi_bench("osu_latency_mt"), *MT_ARGS, "-t", "3:2")
    assert r.rc == 0, r
    check_p2p("osu_latency_mt", r.out, (3, 2))


REFUSAL = "MPI_Init_thread must return MPI_THREAD_MULTIPLE!"
LOWER_LEVEL = "-DBENCH_THREAD_LEVEL=MPI_THREAD_SERIALIZED"   # as an MPI without MPI_THREAD_MULTIPLE grants


def test_latency_mt_refuses_without_thread_multiple_toro():
    image = os.path.join(OUT, "bench", "osu_latency_mt_serialized.elf")
    b = toro_mpicc(*CFLAGS, LOWER_LEVEL, bench_source("osu_latency_mt"), "-o", image)
    assert b.rc == 0, b
    r = run_toro(2, image, timeout=TIMEOUT)
    assert r.rc not in (0, 124), r
    assert r.out.count(REFUSAL) == 1 and "# OSU MPI" not in r.out, r   # rank 0 only


def test_latency_mt_refuses_without_thread_multiple_openmpi():
    if not (MPICC and MPIRUN):
        pytest.skip(NO_OMPI)
    exe = os.path.join(OUT, "bench-openmpi", "osu_latency_mt_serialized")
    subprocess.run([MPICC, *CFLAGS, LOWER_LEVEL, bench_source("osu_latency_mt"), "-o", exe], check=True)
    r = mpirun(2, exe)
    assert r.rc != 0 and (r.out + r.err).count(REFUSAL) == 1 and "# OSU MPI" not in r.out, r


@pytest.mark.parametrize("arg", ["0:2", "2:0", "65", "2:x", "2:2:2"])
def test_latency_mt_bad_threads_toro(toro_bench, arg):
    r = run_toro(2, toro_bench("osu_latency_mt"), "-t", arg, timeout=TIMEOUT)
    check_usage("osu_latency_mt", r)
    assert r.out.count(f"osu_latency_mt: invalid argument -t {arg}\n") == 1, r


# ---- the floors: bounce and memcpy_bw ----

def keyvals(out):
    return dict(l.split(None, 1) for l in out.splitlines() if re.match(r"^(bounce|memcpy)_\w+ \S+$", l))


def check_bounce(rc, out, mode):
    assert rc == 0, out
    kv = keyvals(out)
    assert kv.get("bounce_mode") == mode, out
    assert kv.get("bounce_iterations") == "2000" and kv.get("bounce_rounds") == "2", out
    assert number(kv["bounce_half_rtt_ns"]) > 0, out
    assert out.count("bounce_half_rtt_ns") == 1, out   # player 0 only


def check_memcpy(rc, out):
    assert rc == 0, out
    kv = keyvals(out)
    assert kv.get("memcpy_bytes") == "1048576" and kv.get("memcpy_copies") == "8", out
    assert number(kv["memcpy_bw_mbs"]) > 0, out
    assert out.count("memcpy_bw_mbs") == 1, out   # rank 0 only


@pytest.mark.parametrize("n", [2, 3])
def test_bounce_toro(toro_bench, n):
    """Ranks 0 and 1 bounce a line of the shared area (a rank beyond them
    exits at once); if the area were not shared the job would hang."""
    r = run_toro(n, toro_bench("bounce"), "-i", 2000, "-r", 2, timeout=TIMEOUT)
    check_bounce(r.rc, r.out, "toro")


def test_bounce_needs_two_ranks_toro(toro_bench):
    r = run_toro(1, toro_bench("bounce"), timeout=TIMEOUT)
    assert r.rc not in (0, 124) and "bounce: needs 2 ranks" in r.out, r


def test_bounce_host_threads(host_bench):
    """Not under Toro: two threads pinned to two CPUs, same output."""
    p = subprocess.run([host_bench("bounce"), "-i", "2000", "-r", "2"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    check_bounce(p.returncode, p.stdout + p.stderr, "pthread")


@pytest.mark.parametrize("n", [1, 2])
def test_memcpy_bw_toro(toro_bench, n):
    r = run_toro(n, toro_bench("memcpy_bw"), "-n", 8, "-r", 2, timeout=TIMEOUT)
    check_memcpy(r.rc, r.out)


def test_memcpy_bw_host(host_bench):
    p = subprocess.run([host_bench("memcpy_bw"), "-n", "8", "-r", "2"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    check_memcpy(p.returncode, p.stdout + p.stderr)


@pytest.mark.parametrize("name,args", [("bounce", ["-i", "0"]), ("memcpy_bw", ["-s", "x"])])
def test_floor_bad_option_toro(toro_bench, name, args):
    r = run_toro(2, toro_bench(name), *args, timeout=TIMEOUT)
    assert r.rc not in (0, 124) and "Usage: " in r.out, r
