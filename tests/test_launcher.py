"""toro-run as a launcher (issue 11): the accelerator choice (a KVM probe
whose answer is cached), the status rules (a job that did not report a
status never exits 0), the command-line checks, and the job folders a
killed toro-run leaves behind.

KVM here is faked: TORO_KVM_DEVICE points at a file standing for
/dev/kvm and TORO_QEMU at a wrapper of QEMU that either behaves like a
broken KVM (prints QEMU's "KVM internal error" and hangs, as a nested
paravirtual KVM does) or like a working one (runs the same command
under TCG). The wrapper logs every command line it gets."""
import json
import os
import pathlib
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, ROOT, SELFTEST, TORO_RUN, Result, build_image

QEMU = shutil.which("qemu-system-x86_64")
EMPTY_PVH = os.path.join(BUILD, "empty_pvh.elf")

BROKEN_KVM = r"""#!/bin/sh
echo "$*" >> "$QEMU_LOG"
case " $* " in
*" -accel kvm "*)
    echo "KVM internal error. Suberror: 1" >&2
    echo "extra data[0]: 0x0000000000000001" >&2
    sleep 60; exit 1 ;;
esac
exec qemu-system-x86_64 "$@"
"""

# A KVM that works: the same command under TCG (the guest cannot tell).
WORKING_KVM = r"""#!/bin/sh
echo "$*" >> "$QEMU_LOG"
for a in "$@"; do
    shift
    case "$a" in
    kvm) set -- "$@" "tcg,thread=multi" ;;
    host,-arch-capabilities) set -- "$@" max ;;
    *) set -- "$@" "$a" ;;
    esac
done
exec qemu-system-x86_64 "$@"
"""

# A QEMU that runs the empty PVH kernel whatever it is asked to boot: the
# guest stops the VM through isa-debug-exit without Toro's exit line.
EMPTY_GUEST = r"""#!/bin/sh
for a in "$@"; do
    shift
    if [ "$prev" = -kernel ]; then a="$EMPTY_PVH"; fi
    prev="$a"
    set -- "$@" "$a"
done
exec qemu-system-x86_64 "$@"
"""


@pytest.fixture(scope="module")
def images():
    hello = build_image(os.path.join(ROOT, "apps", "hello.c"))
    return {"hello": hello, "args": build_image("args_sum.c"), "env": build_image("env_show.c")}


def script(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def hosts(tmp_path):
    """FakeHost(wrapper) factory; removes their job folders afterwards."""
    made = []
    yield lambda wrapper=None: made.append(FakeHost(tmp_path, wrapper)) or made[-1]
    for h in made:
        shutil.rmtree(h.runtime, True)


class FakeHost:
    """An environment for toro-run with a fake /dev/kvm, a QEMU wrapper,
    its own cache and its own folder for job files."""

    def __init__(self, tmp_path, wrapper=None):
        self.tmp = tmp_path
        self.log = tmp_path / "qemu.log"
        self.cache = tmp_path / "cache"
        # short: job folders hold Unix sockets (toro_jobdir.MAX_ROOT)
        self.runtime = pathlib.Path(tempfile.mkdtemp(prefix="toro-test."))
        kvm = tmp_path / "kvm"
        kvm.write_text("")
        self.env = dict(os.environ, TORO_KVM_DEVICE=str(kvm), XDG_CACHE_HOME=str(self.cache),
                        XDG_RUNTIME_DIR=str(self.runtime), QEMU_LOG=str(self.log), EMPTY_PVH=EMPTY_PVH)
        self.env.pop("TORO_ACCEL", None)
        if wrapper:
            self.env["TORO_QEMU"] = script(tmp_path / "qemu", wrapper)

    def run(self, *args, timeout=120, **env):
        t0 = time.monotonic()
        p = subprocess.run([TORO_RUN, *map(str, args)], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, errors="replace", timeout=timeout, env=dict(self.env, **env))
        return Result(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)

    def qemu_calls(self):
        return self.log.read_text().splitlines() if self.log.exists() else []

    def probes(self):
        return [c for c in self.qemu_calls() if "kvm-probe.elf" in c]

    def cached(self):
        with open(self.cache / "toro" / "kvm-probe.json") as f:
            return list(json.load(f).values())


# --- the accelerator ---

def test_broken_kvm_falls_back_to_tcg_once_probed(tmp_path, images, hosts):
    host = hosts(BROKEN_KVM)
    r = host.run("-n", 2, images["hello"])
    assert r.rc == 0 and r.out.count("hello from rank") == 2, r
    line = "cannot run guests here (the probe guest stopped with 'KVM internal error. Suberror: 1'); using TCG"
    assert line in r.err, r
    assert len(host.probes()) == 1
    assert "-accel tcg,thread=multi" in host.qemu_calls()[-1]
    assert [e["kvm"] for e in host.cached()] == [False]
    r = host.run(images["hello"])          # the answer comes from the cache
    assert r.rc == 0 and line in r.err, r
    assert len(host.probes()) == 1


def test_accel_kvm_on_broken_kvm_is_status_125_with_the_reason(tmp_path, images, hosts):
    host = hosts(BROKEN_KVM)
    for r in (host.run("--accel", "kvm", images["hello"]), host.run(images["hello"], TORO_ACCEL="kvm")):
        assert r.rc == 125 and "--accel kvm" in r.err and "KVM internal error" in r.err, r
        assert "hello" not in r.out


def test_working_kvm_is_used_with_a_cpu_model_qemu_accepts(tmp_path, images, hosts):
    host = hosts(WORKING_KVM)
    r = host.run("-n", 2, images["hello"])
    assert r.rc == 0 and r.out.count("hello from rank") == 2, r
    assert "using TCG" not in r.err, r
    job = host.qemu_calls()[-1]
    assert "-accel kvm -cpu host,-arch-capabilities" in job, job
    assert [e["kvm"] for e in host.cached()] == [True]


def test_tcg_asked_for_runs_no_probe(tmp_path, images, hosts):
    host = hosts(BROKEN_KVM)
    for r in (host.run("--accel", "tcg", images["hello"]), host.run(images["hello"], TORO_ACCEL="tcg")):
        assert r.rc == 0 and "using TCG" not in r.err, r
    assert host.probes() == []


def test_missing_kvm_device_says_so(tmp_path, images, hosts):
    host = hosts()
    r = host.run(images["hello"], TORO_KVM_DEVICE=str(tmp_path / "nokvm"))
    assert r.rc == 0 and f"{tmp_path / 'nokvm'} is missing; using TCG" in r.err, r


def test_bad_toro_accel_is_a_usage_error(tmp_path, images, hosts):
    r = hosts().run(images["hello"], TORO_ACCEL="xen")
    assert r.rc == 2 and "TORO_ACCEL=xen" in r.err, r


@pytest.mark.skipif(not QEMU, reason="qemu-system-x86_64 is not installed")
def test_probe_image_runs_under_tcg(tmp_path):
    """The probe kernel itself works: under TCG it reports the right sum."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(TORO_RUN)))
    import toro_accel
    path = tmp_path / "probe.elf"
    path.write_bytes(toro_accel.probe_image())
    p = subprocess.run([QEMU, "-M", "microvm", *toro_accel.TCG_CPU, "-m", "16M", "-nodefaults", "-no-reboot",
                        "-display", "none", "-serial", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                        "-kernel", str(path)], capture_output=True, timeout=60)
    assert p.returncode == (toro_accel.PROBE_STATUS << 1) | 1, p


# --- the status rules ---

def test_qemu_that_cannot_start_is_125_with_its_message(tmp_path, images, hosts):
    r = hosts().run("--accel", "tcg", "--qemu-arg=-bogus", images["hello"])
    assert r.rc == 125, r
    assert "-bogus: invalid option" in r.err and "did not report a status" in r.err, r


def test_guest_stopping_without_the_exit_line_is_125(tmp_path, images, hosts):
    assert os.path.exists(EMPTY_PVH), "make builds build/empty_pvh.elf"
    r = hosts(EMPTY_GUEST).run("--accel", "tcg", images["hello"])
    assert r.rc == 125 and "did not report a status" in r.err, r


def test_qemu_killed_mid_job_is_125(tmp_path, images, hosts):
    host = hosts()
    p = subprocess.Popen([TORO_RUN, "--accel", "tcg", SELFTEST, "--", "hang"], env=host.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qemu = []
        deadline = time.monotonic() + 60
        while not qemu and time.monotonic() < deadline:
            time.sleep(0.2)
            qemu = subprocess.run(["pgrep", "-P", str(p.pid), "qemu-system"], capture_output=True,
                                  text=True).stdout.split()
        assert qemu, "QEMU did not start"
        time.sleep(1)
        os.kill(int(qemu[0]), signal.SIGKILL)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 125 and "killed by signal 9" in err, (p.returncode, out, err)


# --- the command line ---

@pytest.mark.parametrize("args, message", [
    (["--timeout", "inf"], "'inf' is not a positive number of seconds"),
    (["--timeout", "nan"], "'nan' is not a positive number of seconds"),
    (["--timeout", "0"], "'0' is not a positive number of seconds"),
    (["--fs-timeout", "inf"], "'inf' is not a positive number of seconds"),
    (["--fs-timeout", "nan"], "'nan' is not a positive number of seconds"),
    (["--gdb", "99999"], "'99999' is not a TCP port"),
    (["--gdb", "0"], "'0' is not a TCP port"),
    (["--fs", "/tmp", "--fs", "/tmp"], "--fs given twice"),
    (["--fs", ""], "--fs: the value is empty"),
    (["--mem", "300G"], "more than this host's memory"),
    (["--vsock-wait", "-1", "--vsock-forward", "5000:7"], "--vsock-wait -1"),
    (["--accel", "xen"], "invalid choice"),
    (["-x", "1BAD=2"], "NAME must be letters, digits and '_'"),
    (["-x", "=2"], "NAME must be letters, digits and '_'"),
    (["-x", "TORO_TEST_SURELY_UNSET"], "TORO_TEST_SURELY_UNSET is not set in this environment"),
    ([a for i in range(33) for a in ("-x", f"V{i}=1")], "-x given 33 times; at most 32"),
])
def test_bad_options_are_usage_errors(tmp_path, images, args, message, hosts):
    r = hosts().run("--accel", "tcg", *args, images["hello"]) if "--accel" not in args else \
        hosts().run(*args, images["hello"])
    assert r.rc == 2 and message in r.err, r
    assert "Traceback" not in r.err


def test_env_option_sets_variables_in_every_rank(tmp_path, images, hosts):
    """-x NAME=VALUE and -x NAME (this environment's value) reach every
    rank, spaces and '=' included; -x overrides a default like HOME."""
    r = hosts().run("--accel", "tcg", "-n", 2, "-x", "ALPHA=one two=3", "-x", "FROM_HOST", "-x", "HOME=/data",
                    "-x", "EMPTY=", images["env"], "--", "ALPHA", "FROM_HOST", "HOME", "EMPTY", "NOT_GIVEN",
                    FROM_HOST="host value")
    assert r.rc == 0, r
    for line in ["ALPHA=[one two=3]", "FROM_HOST=[host value]", "HOME=[/data]", "EMPTY=[]", "NOT_GIVEN unset"]:
        assert r.out.count(line) == 2, (line, r)


def test_no_image_is_a_usage_error(tmp_path, hosts):
    r = hosts().run("-n", 2)
    assert r.rc == 2 and "no IMAGE given" in r.err, r


def test_4096_arguments_and_64_kib_arrive_whole(tmp_path, images, hosts):
    args = [f"a{i} with space" if i % 7 == 0 else str(i) for i in range(4096)]
    host = hosts()
    r = host.run("--accel", "tcg", images["args"], "--", *args)
    assert r.rc == 0, r
    h = 1469598103934665603
    for a in args:
        for b in a.encode() + b"\0":
            h = ((h ^ b) * 1099511628211) & (1 << 64) - 1
    assert f"args 4096 bytes {sum(len(a) for a in args)} hash {h:016x}" in r.out, r
    big = ["x" * 1000] * 64                      # 64 KB of plain bytes: just under the limit
    r = host.run("--accel", "tcg", images["args"], "--", *big[:63], "y" * 900)
    assert r.rc == 0 and "args 64 bytes 63900" in r.out, r


def test_too_many_or_too_long_arguments_are_refused(tmp_path, images, hosts):
    host = hosts()
    r = host.run("--accel", "tcg", images["args"], "--", *map(str, range(4097)))
    assert r.rc == 2 and "4097 program arguments: Toro passes at most 4096" in r.err, r
    r = host.run("--accel", "tcg", images["args"], "--", *[" " * 1000] * 30)   # a space is 3 bytes encoded
    assert r.rc == 2 and "the program's arguments are too long" in r.err, r
    assert host.qemu_calls() == []


def test_too_little_memory_names_the_mem_option(tmp_path, images, hosts):
    r = hosts().run("--accel", "tcg", "--mem", "2M", "-n", 4, images["hello"])
    assert r.rc != 0 and "give toro-run more --mem" in r.out + r.err, r


# --- job folders ---

def job_dirs(host):
    root = host.runtime / "toro"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_stale_job_folders_are_swept(tmp_path, images, hosts):
    host = hosts()
    root = host.runtime / "toro"
    root.mkdir(mode=0o700)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = root / f"job.{dead.pid}.12345"
    stale.mkdir()
    (stale / "vsock.sock").write_text("")
    r = host.run("--accel", "tcg", images["hello"])
    assert r.rc == 0, r
    assert job_dirs(host) == []               # the stale one and this job's own are gone


def test_cleanup_removes_what_a_killed_job_left(tmp_path, images, hosts):
    host = hosts()
    p = subprocess.Popen([TORO_RUN, "--accel", "tcg", "--vsock-unix", str(tmp_path / "v.sock"), SELFTEST,
                          "--", "hang"], env=host.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not any((host.runtime / "toro" / d / "vsock.log").exists() for d in job_dirs(host)):
            assert time.monotonic() < deadline and p.poll() is None, "the job did not start its backend"
            time.sleep(0.1)
        live = host.run("--cleanup")
        assert live.rc == 0 and "0 stale job folder(s) removed" in live.out, live
        assert len(job_dirs(host)) == 1      # a live job's folder is kept
        p.kill()
        p.wait(30)
    finally:
        if p.poll() is None:
            p.kill()
    assert len(job_dirs(host)) == 1          # SIGKILL: nothing could clean up
    r = host.run("--cleanup")
    assert r.rc == 0 and "1 stale job folder(s) removed" in r.out, r
    assert job_dirs(host) == []
