"""Unmodified C programs as multicore microVMs: private per-rank images,
the Linux syscall subset, toro-mpicc and toro-run (issue 3)."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import OUT, PROGS, build_image, toro_mpicc, toro_run

GETOPT_ARGS = ["all", "--alpha", "3", "-b", "--name=hello", "file1", "file2"]


@pytest.fixture(scope="module")
def libc_check():
    return build_image("libc_check.c", "-lm")


@pytest.mark.parametrize("n", [1, 2, 4])
def test_libc_checks_pass_on_every_rank(libc_check, n):
    r = toro_run("-n", n, "--timeout", 240, libc_check, "--", *GETOPT_ARGS)
    assert r.rc == 0, r
    assert "FAIL" not in r.out, r
    for rank in range(n):
        assert f"[rank {rank}] rank {rank}: 11 checks, 0 failed" in r.out, r
        for check in ["privacy", "printf", "malloc", "qsort", "strtod", "getopt_long", "math",
                      "clock", "stack", "strings", "stdio"]:
            assert f"[rank {rank}] ok {check}\n" in r.out, (check, r)
        assert f"[rank {rank}] all: running libc checks (rank {rank} of {n})" in r.out


def test_output_and_status_match_linux(libc_check):
    """The same source built with musl-gcc -static and run on Linux prints
    the same lines and exits the same way."""
    if not shutil.which("musl-gcc"):
        pytest.skip("musl-gcc is not installed")
    native = os.path.join(OUT, "libc_check.native")
    subprocess.run(["musl-gcc", "-static", "-O2", os.path.join(PROGS, "libc_check.c"), "-o", native, "-lm"], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TORO_")}
    for args in (GETOPT_ARGS, ["hello"], ["exit", "7"]):
        linux = subprocess.run([native, *args], capture_output=True, text=True, env=env, timeout=120)
        toro = toro_run("-n", 1, "--timeout", 120, libc_check, "--", *args)
        assert toro.rc == linux.returncode, (args, toro)
        assert toro.out == linux.stdout, (args, toro.out, linux.stdout)


def test_rank_exit_status_is_job_status(libc_check):
    r = toro_run("-n", 4, "--timeout", 60, libc_check, "--", "exit", 3, 1)
    assert r.rc == 3, r


def test_null_dereference_names_rank(libc_check):
    r = toro_run("-n", 2, "--timeout", 60, libc_check, "--", "null", 1)
    assert r.rc == 139, r
    assert "toro: rank 1 (core 1): page fault (#PF): NULL pointer dereference at address 0x0 (write)" in r.out, r
    assert re.search(r"rip 0x[0-9a-f]+ <main\+0x[0-9a-f]+>", r.out), r


def test_abort_gives_134(libc_check):
    r = toro_run("-n", 2, "--timeout", 60, libc_check, "--", "abort", 0)
    assert r.rc == 134, r
    assert "rank 0 (core 0): killed by SIGABRT" in r.out, r


def test_stack_overflow_names_the_option(libc_check):
    r = toro_run("-n", 2, "--timeout", 60, libc_check, "--", "overflow", 1)
    assert r.rc == 139, r
    assert "rank 1 (core 1): page fault (#PF): stack overflow" in r.out, r
    assert "the stack is 1024 KiB, raise it with toro-run --stack SIZE" in r.out, r


def test_stack_option_sets_rank_stack(libc_check):
    r = toro_run("-n", 1, "--stack", "4M", "--timeout", 60, libc_check, "--", "overflow", 0)
    assert r.rc == 139 and "the stack is 4096 KiB" in r.out, r
    small = toro_run("-n", 1, "--stack", "256K", "--timeout", 60, libc_check, "--", "all")
    assert small.rc == 139 and "stack overflow" in small.out, small  # the 512 KiB local array


def test_unknown_syscall_is_named_once(libc_check):
    r = toro_run("-n", 2, "--timeout", 60, libc_check, "--", "enosys")
    assert r.rc == 0, r
    assert r.out.count("unknown syscall 400; returning ENOSYS") == 1, r
    assert r.out.count("ok enosys (second call)") == 2


@pytest.mark.parametrize("mode", ["bigmalloc", "mmapbig"])
def test_too_big_allocation_gives_enomem(libc_check, mode):
    r = toro_run("-n", 2, "--mem", "64M", "--timeout", 60, libc_check, "--", mode, 100)
    assert r.rc == 0, r
    assert r.out.count("errno=ENOMEM") == 2, r


def test_memory_is_split_fairly(libc_check):
    """Each of 2 ranks gets about half of 128M: 40 MiB fits, 80 MiB does not."""
    ok = toro_run("-n", 2, "--mem", "128M", "--timeout", 60, libc_check, "--", "bigmalloc", 40)
    assert ok.rc == 0 and ok.out.count("bigmalloc: ok") == 2, ok
    no = toro_run("-n", 2, "--mem", "128M", "--timeout", 60, libc_check, "--", "bigmalloc", 80)
    assert no.rc == 0 and no.out.count("errno=ENOMEM") == 2, no


def test_lines_of_ranks_never_mix():
    image = build_image("lines.c")
    r = toro_run("-n", 4, "--timeout", 120, image)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    body = [l for l in lines if "ends without" not in l]
    assert len(body) == 4 * 300, len(body)
    for line in body:
        m = re.fullmatch(r"rank (\d) line (\d{3}) ([a-z]{60})", line)
        assert m, line
        rank = int(m.group(1))
        assert m.group(3) == "".join(chr(97 + (rank + j) % 26) for j in range(60)), line
    tails = [l for l in lines if "ends without" in l]
    assert sorted(tails) == [f"rank {i} ends without a newline" for i in range(4)], tails


def test_hello_example_runs():
    image = os.path.join(OUT, "hello.elf")
    r = toro_mpicc("-O2", os.path.join(os.path.dirname(PROGS), "..", "apps", "hello.c"), "-o", image)
    assert r.rc == 0, r
    run = toro_run("-n", 3, "--timeout", 60, image, "--", "x", "y z")
    assert run.rc == 0, run
    for i in range(3):
        assert f"hello from rank {i} of 3 ({image}, 2 arguments)" in run.out


def test_multi_file_build_with_objects_and_flags(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "sq.h").write_text("double square(double);\n")
    (tmp_path / "sq.c").write_text('#include "sq.h"\ndouble square(double x) { return x * x; }\n')
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include <math.h>\n#include "sq.h"\n'
        'int main(void) { printf("%s %.3f\\n", GREETING, sqrt(square(3.0))); return 0; }\n')
    obj = tmp_path / "sq.o"
    assert toro_mpicc("-c", "-O2", "-I", tmp_path / "inc", tmp_path / "sq.c", "-o", obj).rc == 0
    image = tmp_path / "app.elf"
    r = toro_mpicc("-O2", "-Wall", "-DGREETING=\"hi\"", "-I", tmp_path / "inc", tmp_path / "main.c", obj, "-lm", "-o", image)
    assert r.rc == 0, r
    run = toro_run("-n", 1, "--timeout", 60, image)
    assert run.rc == 0 and run.out == "hi 3.000\n", run


def test_compile_errors_come_out_with_status(tmp_path):
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { return undefined_thing }\n")
    r = toro_mpicc("-O2", bad, "-o", tmp_path / "bad.elf")
    assert r.rc != 0
    assert "bad.c:1" in r.err and "error" in r.err, r
    assert not (tmp_path / "bad.elf").exists()


def test_link_errors_come_out_with_status(tmp_path):
    src = tmp_path / "u.c"
    src.write_text("void nowhere(void);\nint main(void) { nowhere(); return 0; }\n")
    r = toro_mpicc(src, "-o", tmp_path / "u.elf")
    assert r.rc != 0 and "nowhere" in r.err, r


def test_mpicc_version_help_and_show():
    v = toro_mpicc("--version")
    assert v.rc == 0 and v.out.startswith("toro-mpicc (Toro "), v
    h = toro_mpicc("--help")
    assert h.rc == 0 and "static PIE" in h.out
    s = toro_mpicc("-show", "x.c", "-o", "x.elf")
    assert s.rc == 0 and "rcrt1.o" in s.out and "toro-link" in s.out, s
    assert toro_mpicc("-shared", "x.c").rc != 0


def test_run_rejects_a_program_that_is_not_an_image(tmp_path):
    src = tmp_path / "p.c"
    src.write_text("int main(void) { return 0; }\n")
    plain = tmp_path / "p"
    subprocess.run(["gcc", src, "-o", plain], check=True)
    r = toro_run("-n", 1, plain)
    assert r.rc == 2 and "not a Toro image" in r.err, r


@pytest.mark.parametrize("n", [1, 2, 4, 8])
def test_virtio_bus_delivers_in_order(n):
    """Ranks use the kernel's service table directly: 300 messages of 1 to
    5 slots to every rank, more than a ring holds, each checked for order,
    length, content and its sender's pending bit."""
    image = build_image("bus_check.c")
    r = toro_run("-n", n, "--timeout", 120, image)
    assert r.rc == 0, r
    for rank in range(n):
        assert f"rank {rank}: received {300 * n} messages, 0 errors" in r.out, r
    if n >= 2:
        assert re.search(r"ping-pong: [\d.]+ us per round trip", r.out), r


def test_too_little_memory_for_ranks_says_which_option():
    image = build_image("lines.c")
    r = toro_run("-n", 4, "--mem", "4M", "--timeout", 60, image)
    assert r.rc == 134, r
    assert "not enough memory" in r.out and "--mem" in r.out, r
