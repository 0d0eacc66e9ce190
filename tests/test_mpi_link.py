"""What MPI programs link against: the OSU Micro-Benchmarks' needs (DESIGN.md
section 10), and the list of unimplemented functions kept in the README."""
import os
import re
import subprocess

from conftest import BUILD, ROOT, build_image, toro_run


def test_osu_functions_link_and_unsupported_ones_say_so():
    image = build_image("osu_link.c", "-lm")
    r = toro_run("-n", 2, "--timeout", 120, image, "--", "--iterations", "7")
    assert r.rc == 0, r
    assert "osu_link: ok (0 failures)" in r.out, r


def test_readme_lists_every_unsupported_function():
    listed = os.path.join(BUILD, "mpi", "unsupported.txt")
    with open(listed) as f:
        unsupported = [l.split()[0] for l in f if l.strip()]
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    section = readme.split("### MPI functions not implemented yet", 1)
    assert len(section) == 2, "README has no list of unimplemented MPI functions"
    missing = [name for name in unsupported if not re.search(r"\b" + re.escape(name) + r"\b", section[1])]
    assert not missing, f"not in the README's list: {missing}"


def test_profiling_interface_wraps_program_calls_only():
    image = build_image("pmpi_wrap.c")
    r = toro_run("-n", 3, "--timeout", 120, image)
    assert r.rc == 0, r
    assert "rank 0: value 0, 2 sends and 1 barriers seen by the wrapper" in r.out, r
    for rank in (1, 2):
        assert f"rank {rank}: value {rank}, 0 sends and 1 barriers seen by the wrapper" in r.out, r


def test_library_exports_only_mpi_names():
    """Every global libtorompi.a defines is an MPI_ or PMPI_ function (the
    MPI_ ones weak, for the profiling interface): a program may use any
    other name itself (MPI-3.1 section 2.6.2 reserves MPI_ and PMPI_)."""
    lib = os.path.join(BUILD, "libtorompi.a")
    out = subprocess.run(["nm", "-g", "--defined-only", lib], capture_output=True,
                         text=True, check=True).stdout
    syms = [l.split() for l in out.splitlines() if len(l.split()) == 3]
    assert len(syms) > 400, out[:2000]
    bad = [name for _, kind, name in syms
           if not (kind == "W" and name.startswith("MPI_"))
           and not (kind in "TW" and name.startswith("PMPI_"))]
    assert not bad, f"libtorompi.a exports names outside MPI_/PMPI_: {bad}"
    weak = {name for _, kind, name in syms if kind == "W"}
    strong = {name for _, kind, name in syms if kind == "T"}
    assert "MPI_Send" in weak and "PMPI_Send" in strong


def test_program_may_define_the_librarys_internal_names():
    image = build_image("own_names.c")
    r = toro_run("-n", 2, "--timeout", 120, image)
    assert r.rc == 0, r
    assert "own_names: sum 2, mine 16" in r.out, r
