"""Shared helpers: paths and a runner for scripts/toro-run."""
import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
TORO_RUN = os.path.join(ROOT, "scripts", "toro-run")
SELFTEST = os.path.join(BUILD, "selftest.elf")


class Result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    def __repr__(self):
        return f"rc={self.rc}\n--- stdout ---\n{self.out}\n--- stderr ---\n{self.err}"


def toro_run(*args, timeout=300):
    """Runs toro-run with the given arguments; a hung job fails the test
    through the subprocess timeout rather than hanging the suite."""
    t0 = time.monotonic()
    p = subprocess.run([TORO_RUN, *map(str, args)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, errors="replace", timeout=timeout)
    return Result(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)

TORO_MPICC = os.path.join(ROOT, "scripts", "toro-mpicc")
PROGS = os.path.join(ROOT, "tests", "progs")
OUT = os.path.join(BUILD, "tests")


def toro_mpicc(*args, timeout=300):
    p = subprocess.run([TORO_MPICC, *map(str, args)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    return Result(p.returncode, p.stdout, p.stderr, 0)


def build_image(source, *flags):
    """Compiles tests/progs/SOURCE with toro-mpicc into build/tests/; returns the image path."""
    os.makedirs(OUT, exist_ok=True)
    image = os.path.join(OUT, os.path.splitext(os.path.basename(source))[0] + ".elf")
    r = toro_mpicc("-O2", "-Wall", *flags, os.path.join(PROGS, source), "-o", image)
    assert r.rc == 0, r
    return image
