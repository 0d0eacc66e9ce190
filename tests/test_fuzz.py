"""libFuzzer targets (tests/unit/fuzz_*.c, `make fuzz` for a longer run):
a fixed number of inputs each, from a fixed seed. The virtqueue target is
also built on a copy of virtio/virtqueue.c without its checks of what the
device wrote, where it must find a crash: its invariants bite. The
vhost-user target likewise on copies of tools/vsockd/vhost_user.c: one
without GET_CONFIG's offset check (ASan/UBSan must catch the read past the
config), one that keeps the fds of every message (its fd count check must
catch the leak)."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = 200000

pytestmark = pytest.mark.skipif(
    shutil.which("clang") is None,
    reason="clang is not installed: libFuzzer needs clang and libclang-rt-14-dev (scripts/toro-setup)")


def build(target):
    r = subprocess.run(["make", "-s", target], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return os.path.join(ROOT, target)


def fuzz(binary, tmp_path, *args):
    """Runs the fuzzer in tmp_path (its crash files land there); its log
    goes to a file, as toro-vsockd logs every malformed packet."""
    log = tmp_path / "fuzz.log"
    with open(log, "w") as f:
        r = subprocess.run([binary, f"-runs={RUNS}", "-seed=1", *args], cwd=tmp_path,
                           stdout=f, stderr=subprocess.STDOUT, timeout=600)
    return r.returncode, log.read_text(errors="replace")[-6000:]


@pytest.mark.parametrize("target,args", [("fuzz_virtqueue", []), ("fuzz_vsockd", ["-close_fd_mask=2"]),
                                               ("fuzz_vhost_user", ["-close_fd_mask=2", "-timeout=10"])])
def test_fuzz_target(target, args, tmp_path):
    rc, out = fuzz(build(f"build/fuzz/{target}"), tmp_path, *args)
    assert rc == 0, out
    assert f"Done {RUNS} runs" in out, out


def write_mutant(name, mutant):
    os.makedirs(os.path.join(ROOT, "build/unit/mut"), exist_ok=True)
    path = os.path.join(ROOT, f"build/unit/mut/{name}.c")
    if not os.path.exists(path) or open(path).read() != mutant:
        with open(path, "w") as f:
            f.write(mutant)


def test_fuzz_finds_a_virtqueue_without_checks(tmp_path):
    with open(os.path.join(ROOT, "virtio/virtqueue.c")) as f:
        src = f.read()
    mutant, n = re.subn(r"return mark_broken\(vq, .*\);", "(void)0;", src)
    assert n == 5
    write_mutant("vq_unchecked", mutant)
    rc, out = fuzz(build("build/fuzz/fuzz_virtqueue_vq_unchecked"), tmp_path)
    assert rc != 0, out
    assert "deadly signal" in out or "AddressSanitizer" in out or "runtime error" in out, out


@pytest.mark.parametrize("name,old,new", [
    ("vu_config_unchecked", "off > VU_CONFIG_MAX - size || ", ""),
    ("vu_fd_leak", "\tint r = dispatch(m, h);\n\tclose_fds(m);\n", "\tint r = dispatch(m, h);\n"),
])
def test_fuzz_finds_a_vhost_user_mutant(name, old, new, tmp_path):
    with open(os.path.join(ROOT, "tools/vsockd/vhost_user.c")) as f:
        src = f.read()
    assert src.count(old) == 1
    write_mutant(name, src.replace(old, new))
    rc, out = fuzz(build(f"build/fuzz/fuzz_vhost_user_{name}"), tmp_path, "-close_fd_mask=2")
    assert rc != 0, out
    assert "deadly signal" in out or "AddressSanitizer" in out or "runtime error" in out, out
