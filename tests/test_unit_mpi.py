"""Host unit tests of the MPI library (tests/unit/), built with
AddressSanitizer and UBSan by `make unit-mpi`: a sanitizer report or a
failed case fails the test."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_datatype_unit():
    build = subprocess.run(["make", "-s", "build/unit/datatype_test"], cwd=ROOT,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    r = subprocess.run([os.path.join(ROOT, "build/unit/datatype_test")], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "datatype_test: " in out and " 0 failed" in out, out
    assert "runtime error" not in out and "AddressSanitizer" not in out, out
    for case in ("vector", "indexed", "struct", "subarray", "darray", "negative_stride",
                 "overlapping", "external32", "pack_errors"):
        assert f"ok {case}\n" in out, out


def run_match_test(path):
    r = subprocess.run([path], cwd=ROOT, capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def test_match_unit():
    """mpi/lib/match.c on tests/unit/match_shim.c's in-process bus."""
    build = subprocess.run(["make", "-s", "build/unit/match_test"], cwd=ROOT, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    rc, out = run_match_test(os.path.join(ROOT, "build/unit/match_test"))
    assert rc == 0, out
    assert "match_test: 8 passed, 0 failed" in out, out
    assert "runtime error" not in out and "AddressSanitizer" not in out, out


# Each mutant of match.c breaks one rule; the unit test must catch each.
MUTANTS = {
    "tag_ignored": ("(tag == MPI_ANY_TAG || tag == m->tag)", "(1)"),
    "context_ignored": ("return ctx == m->ctx && ", "return "),
    "no_truncation": ("if (n > r->bytes) {", "if (0) {"),
    "drain_to_empty": ("#define DRAIN_MAX 64 ", "#define DRAIN_MAX 100000 "),
    "no_wait_queue": ("if (waiting[dst].head || !try_send(r)) {", "if (!try_send(r)) {"),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_match_unit_catches_mutant(tmp_path, name):
    old, new = MUTANTS[name]
    src = open(os.path.join(ROOT, "mpi/lib/match.c")).read()
    assert src.count(old) == 1, f"mutant {name}: {old!r} is not in match.c once"
    mutant = tmp_path / "match.c"
    mutant.write_text(src.replace(old, new))
    exe = str(tmp_path / "match_test")
    build = subprocess.run(["gcc", "-std=c11", "-D_GNU_SOURCE", "-g", "-O1", "-fsanitize=address,undefined",
                            "-fno-sanitize-recover=all", "-Impi/include", "-Impi/lib", "-Itests/unit", str(mutant),
                            "tests/unit/match_shim.c", "tests/unit/match_test.c", "-o", exe],
                           cwd=ROOT, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    rc, out = run_match_test(exe)
    assert rc != 0 and "FAIL " in out, f"mutant {name} passed the unit test:\n{out}"
