"""Host unit tests of the kernel (tests/unit/), built with AddressSanitizer
and UBSan by `make unit-kernel`: virtio/virtqueue.c driven as both sides,
then rings the device corrupted. The mutants check the test itself: each
copy of virtqueue.c with one of its checks of what the device wrote taken
out must make it fail."""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ("roundtrip", "wrap_and_reorder", "full_table", "bad_id", "huge_id", "not_a_head",
         "double_completion", "completion_beyond_in_flight", "idle_id", "bad_length",
         "huge_length", "index_jump", "index_back", "avail_head_out_of_range")
CHECK = re.compile(r"^(\s*)return mark_broken\(vq, (\"[^\"]*\").*\);$", re.M)


def build_and_run(target):
    build = subprocess.run(["make", "-s", target], cwd=ROOT, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    r = subprocess.run([os.path.join(ROOT, target)], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    return r.returncode, r.stdout + r.stderr


def test_virtqueue_unit():
    rc, out = build_and_run("build/unit/virtqueue_test")
    assert rc == 0, out
    assert f"virtqueue_test: {len(CASES)} passed, 0 failed" in out, out
    assert "runtime error" not in out and "AddressSanitizer" not in out, out
    for case in CASES:
        assert f"ok {case}\n" in out, out


def checks():
    with open(os.path.join(ROOT, "virtio/virtqueue.c")) as f:
        src = f.read()
    return src, list(CHECK.finditer(src))


def test_virtqueue_has_the_checks_the_mutants_remove():
    _, found = checks()
    reasons = {m.group(2) for m in found}
    assert len(found) == 5, reasons
    for word in ("used index ahead", "used id out of range", "used id not in flight",
                 "used length beyond", "available head out of range"):
        assert any(word in r for r in reasons), reasons


@pytest.mark.parametrize("k", range(5))
def test_virtqueue_mutant_fails(k):
    src, found = checks()
    m = found[k]
    mutant = src[:m.start()] + m.group(1) + "(void)0; /* mutant: check removed */" + src[m.end():]
    name = f"vq_check{k}"
    os.makedirs(os.path.join(ROOT, "build/unit/mut"), exist_ok=True)
    path = os.path.join(ROOT, f"build/unit/mut/{name}.c")
    old = open(path).read() if os.path.exists(path) else None
    if old != mutant:
        with open(path, "w") as f:
            f.write(mutant)
    rc, out = build_and_run(f"build/unit/mut/{name}")
    assert rc != 0, f"the test passed without the check {m.group(2)}:\n{out}"
    assert "FAIL " in out or "AddressSanitizer" in out or "runtime error" in out, out
