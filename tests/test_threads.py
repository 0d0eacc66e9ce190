"""Threads inside a rank (issue 15): toro-run --threads-per-rank, the
pthread conformance program at T = 1, 2, 4 and on the host, a crashing
thread's report, and MPI_THREAD_MULTIPLE with threads per rank 2 (and
under Open MPI on the host)."""
import os
import shutil
import subprocess

import pytest

from conftest import OUT, PROGS, build_image, toro_mpicc, toro_run
from test_mpi import CFLAGS, MPICC, MPIRUN, NO_OMPI, check_passed, mpirun

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKS = ["create_join_100", "mutex_counter", "condvar_pingpong", "condvar_timedwait", "barrier", "rwlock",
          "once", "tls_per_thread", "thread_specific_data", "detached", "exit_status", "gettid", "affinity"]


@pytest.fixture(scope="module")
def pthreads():
    return build_image("pthreads.c")


@pytest.fixture(scope="module")
def crash():
    return build_image("thread_crash.c")


def check_pthreads(out, ranks=1):
    assert "FAIL" not in out, out
    lines = out.splitlines()
    for name in CHECKS:
        assert lines.count(f"ok {name}") == ranks, (name, out)
    assert lines.count(f"pthreads: {len(CHECKS)} passed, 0 failed") == ranks, out


@pytest.mark.parametrize("t", [1, 2, 4])
def test_pthreads_conformance(pthreads, t):
    r = toro_run("-n", 1, "--threads-per-rank", t, "--timeout", 240, pthreads, "--", t)
    assert r.rc == 0, r
    check_pthreads(r.out)


def test_pthreads_two_ranks_two_cores_each(pthreads):
    """Each rank sees its own two cores; the ranks' threads do not mix."""
    r = toro_run("-n", 2, "--threads-per-rank", 2, "--timeout", 240, pthreads, "--", 2)
    assert r.rc == 0, r
    check_pthreads(r.out, ranks=2)


@pytest.mark.parametrize("compiler", ["gcc", "musl-gcc"])
def test_pthreads_on_the_host(compiler):
    if not shutil.which(compiler):
        pytest.skip(f"{compiler} is not installed")
    os.makedirs(OUT, exist_ok=True)
    exe = os.path.join(OUT, f"pthreads.{compiler}")
    subprocess.run([compiler, "-O2", "-pthread", os.path.join(PROGS, "pthreads.c"), "-o", exe], check=True)
    p = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    check_pthreads(p.stdout)


@pytest.mark.parametrize("mode,what", [("null", "NULL pointer dereference at address 0x0 (write)"),
                                       ("overflow", "stack overflow at address")])
def test_crashing_thread_ends_job_naming_rank_and_thread(crash, mode, what):
    r = toro_run("-n", 2, "--threads-per-rank", 2, "--timeout", 120, crash, "--", mode)
    assert r.rc == 139, r
    assert "joined" not in r.out, r
    lines = [l for l in r.out.splitlines() if "page fault (#PF)" in l]
    assert lines and "toro: rank " in lines[0] and " thread 1" in lines[0] and what in lines[0], r
    assert "job ends with status 139 (SIGSEGV)" in r.out, r


@pytest.mark.parametrize("args,msg", [(["--threads-per-rank", "0"], "--threads-per-rank 0"),
                                      (["-n", "33", "--threads-per-rank", "2"], "at most 64 vCPUs"),
                                      (["--threads-per-rank", "x"], "invalid int value")])
def test_bad_threads_per_rank_is_a_usage_error(pthreads, args, msg):
    r = toro_run(*args, pthreads)
    assert r.rc == 2, r
    assert msg in r.err, r


@pytest.fixture(scope="module")
def threads_mt():
    os.makedirs(os.path.join(OUT, "mpi"), exist_ok=True)
    image = os.path.join(OUT, "mpi", "threads_mt_t.elf")
    r = toro_mpicc(*CFLAGS, os.path.join(ROOT, "tests", "mpi", "threads_mt.c"), "-o", image, "-lm")
    assert r.rc == 0, r
    return image


@pytest.mark.parametrize("n", [1, 2, 3])
def test_mpi_thread_multiple_two_threads_per_rank(threads_mt, n):
    r = toro_run("-n", n, "--threads-per-rank", 2, "--timeout", 240, threads_mt, timeout=300)
    check_passed("threads_mt", r)
    for name in ["init_thread_multiple", "threads_distinct_tags", "threads_wildcards", "threads_rendezvous",
                 "threads_collectives"]:
        assert f"ok {name}\n" in r.out, (name, r)


@pytest.mark.parametrize("n", [2, 3])
def test_mpi_thread_multiple_openmpi(n):
    if not (MPICC and MPIRUN):
        pytest.skip(NO_OMPI)
    exe = os.path.join(OUT, "threads_mt.openmpi")
    subprocess.run([MPICC, *CFLAGS, os.path.join(ROOT, "tests", "mpi", "threads_mt.c"), "-o", exe, "-lm"],
                   check=True)
    check_passed("threads_mt", mpirun(n, exe))
