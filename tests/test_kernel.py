"""The kernel boots on 1 to 16 vCPUs, schedules, allocates, keeps time,
reports faults and exits with the guest's status (issue 2)."""
import re

import pytest

from conftest import SELFTEST, toro_run

CHECKS = [
    "every core reports in",
    "threads created on every core from every core run there",
    "yields interleave on every core",
    "a sleeping thread wakes after its time on every core",
    "memory pools are disjoint, one per core",
    "pool exhaustion returns NULL after handing out every page",
    "freed pages return to their pool",
    "kmalloc larger than memory returns NULL",
    "allocated memory is mapped and page 0 is not",
    "the clock advances",
]


@pytest.mark.parametrize("n", [1, 2, 4, 8])
def test_selftest_passes(n):
    r = toro_run("-n", n, "--timeout", 240, SELFTEST)
    assert r.rc == 0, r
    assert f"cpus online: {n}" in r.out, r
    for core in range(n):
        assert f"core {core} reporting" in r.out, r
    for check in CHECKS:
        assert re.search(r"^ok \d+ - " + re.escape(check) + "$", r.out, re.M), (check, r)
    if n > 1:
        assert re.search(r"^ok \d+ - a halted core wakes on IPI$", r.out, re.M), r
    assert "not ok" not in r.out
    assert re.search(r"selftest: \d+ passed, 0 failed", r.out), r


def test_sixteen_vcpus_boot():
    r = toro_run("-n", 16, "--timeout", 280, SELFTEST)
    assert r.rc == 0, r
    assert "cpus online: 16" in r.out
    assert all(f"core {c} reporting" in r.out for c in range(16)), r


def test_null_dereference_reports_fault_and_139():
    r = toro_run("-n", 2, "--timeout", 60, SELFTEST, "--", "null")
    assert r.rc == 139, r
    assert 'thread "victim" (core 1): page fault (#PF): NULL pointer dereference at address 0x0 (write)' in r.out, r
    assert re.search(r"rip 0x[0-9a-f]+ <null_deref\+0x[0-9a-f]+>", r.out), r
    assert "backtrace:" in r.out and "<thread_entry+" in r.out, r
    assert "job ends with status 139 (SIGSEGV)" in r.out
    assert "the victim thread returned" not in r.out


def test_deep_recursion_hits_guard_page():
    r = toro_run("-n", 2, "--timeout", 60, SELFTEST, "--", "overflow")
    assert r.rc == 139, r
    assert "stack overflow" in r.out, r
    assert "<recurse+" in r.out, r


def test_invalid_opcode_gives_sigill_status():
    r = toro_run("-n", 1, "--timeout", 60, SELFTEST, "--", "ud")
    assert r.rc == 132, r
    assert "invalid opcode (#UD)" in r.out


@pytest.mark.parametrize("status", [0, 3, 42, 127, 200, 255])
def test_guest_status_is_job_status(status):
    r = toro_run("-n", 2, "--timeout", 60, SELFTEST, "--", "exit", status)
    assert r.rc == status, r
    assert f"exiting with status {status}" in r.out


def test_timeout_returns_124():
    r = toro_run("-n", 2, "--timeout", 5, SELFTEST, "--", "hang", timeout=120)
    assert r.rc == 124, r
    assert "did not finish within 5 s" in r.err
    assert r.seconds >= 5


def test_triple_fault_is_an_error_not_success():
    r = toro_run("-n", 1, "--timeout", 60, SELFTEST, "--", "triple")
    assert r.rc == 125, r
    assert "reset or triple-faulted" in r.err


def test_small_memory_boots_two_cpus():
    r = toro_run("-n", 2, "--mem", "4M", "--timeout", 120, SELFTEST)
    assert r.rc == 0, r
    assert "cpus online: 2" in r.out


def test_arguments_pass_through_intact():
    args = ["plain", "with space", "100%", "tab\there", "ünï", "", "%-", "last"]
    r = toro_run("-n", 1, "--timeout", 60, SELFTEST, "--", "args", *args)
    assert r.rc == 0, r
    for i, a in enumerate(["args"] + args):
        assert f"arg {i} [{a}]" in r.out, r
    assert f"arg {len(args) + 1} [" not in r.out, r


def test_verbose_shows_qemu_and_boot_messages():
    r = toro_run("-n", 2, "--verbose", "--timeout", 60, SELFTEST, "--", "exit", 0)
    assert r.rc == 0, r
    assert "qemu-system-x86_64" in r.err and "-smp 2" in r.err
    assert "toro: booting" in r.out and "smp: 2 CPUs online" in r.out


@pytest.mark.parametrize("argv,message", [
    (["--bogus", SELFTEST], "unrecognized arguments"),
    (["-n", "0", SELFTEST], "between 1 and 64"),
    (["-n", "65", SELFTEST], "between 1 and 64"),
    (["-n", "two", SELFTEST], "invalid int value"),
    (["--mem", "lots", SELFTEST], "bad --mem"),
    (["--mem", "1M", SELFTEST], "at least 2M"),
    (["--accel", "xen", SELFTEST], "invalid choice"),
    (["--timeout", "-1", SELFTEST], "positive"),
    (["-n", "2"], "no IMAGE given"),
    (["/nonexistent/image.elf"], "no such file"),
    (["/bin/true"], "not a Toro image"),
])
def test_bad_command_lines_get_usage_and_status_2(argv, message):
    r = toro_run(*argv)
    assert r.rc == 2, r
    assert message in r.err, r
