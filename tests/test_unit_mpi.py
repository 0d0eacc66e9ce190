"""Host unit tests of the MPI library (tests/unit/), built with
AddressSanitizer and UBSan by `make unit-mpi`: a sanitizer report or a
failed case fails the test."""
import os
import subprocess

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
