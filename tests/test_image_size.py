"""The image holds the program without its debug information, which
toro-mpicc writes beside the image (IMAGE.debug) for gdb; the program is
linked with --gc-sections, so only the library functions it reaches are in
it (README, "Building a program")."""
import importlib.machinery
import importlib.util
import os
import re
import shutil
import socket
import struct
import subprocess
import zlib

import pytest

from conftest import OUT, PROGS, ROOT, TORO_RUN, build_image, toro_mpicc, toro_run


def embedded_program(image, tmp_path):
    """The program embedded in the image (section .app), as a file."""
    app = str(tmp_path / (os.path.basename(image) + ".app"))
    subprocess.run(["objcopy", "-O", "binary", "--only-section=.app", image, app], check=True)
    assert os.path.getsize(app) > 0, f"{image} has no .app section"
    return app


def section_names(elf):
    out = subprocess.run(["readelf", "-SW", elf], capture_output=True, text=True, check=True).stdout
    return re.findall(r"^\s*\[\s*\d+\]\s+(\S+)", out, re.M)


def functions(elf):
    """The names of the functions in elf's symbol table."""
    out = subprocess.run(["readelf", "-sW", elf], capture_output=True, text=True, check=True).stdout
    return {l.split()[7] for l in out.splitlines() if len(l.split()) == 8 and l.split()[3] == "FUNC"}


def dump_section(elf, name, tmp_path):
    dest = tmp_path / ("section" + name)
    subprocess.run(["objcopy", "--dump-section", f"{name}={dest}", elf, str(tmp_path / "scratch")],
                   check=True, capture_output=True)
    return dest.read_bytes()


@pytest.fixture(scope="module")
def mpi_hello():
    os.makedirs(OUT, exist_ok=True)
    image = os.path.join(OUT, "size_mpi_hello.elf")
    r = toro_mpicc("-O2", "-g", os.path.join(ROOT, "apps", "mpi_hello.c"), "-o", image)
    assert r.rc == 0, r
    return image


def test_image_holds_no_debug_info_but_function_names(mpi_hello, tmp_path):
    app = embedded_program(mpi_hello, tmp_path)
    names = section_names(app)
    assert ".symtab" in names and ".text" in names, names
    debug = [n for n in names if n.startswith(".debug")]
    assert not debug, f"the embedded program keeps {debug}"
    funcs = functions(app)
    # the kernel's fault reports name these (kernel/loader.c, app_symbol)
    assert {"main", "PMPI_Init", "MPI_Init"} <= funcs, sorted(funcs)[:50]


def test_debug_copy_beside_image_belongs_to_it(mpi_hello, tmp_path):
    debug = mpi_hello + ".debug"
    assert os.path.isfile(debug), "toro-mpicc wrote no .debug file beside the image"
    names = section_names(debug)
    assert ".debug_info" in names and ".debug_line" in names, names
    app = embedded_program(mpi_hello, tmp_path)
    build_id = dump_section(app, ".note.gnu.build-id", tmp_path)
    assert len(build_id) > 16 and dump_section(debug, ".note.gnu.build-id", tmp_path) == build_id
    # .gnu_debuglink: the debug file's name, NUL padded to 4, then its CRC-32 (gdb checks both)
    link = dump_section(app, ".gnu_debuglink", tmp_path)
    name = link[:link.index(b"\0")].decode()
    crc, = struct.unpack_from("<I", link, len(link) - 4)
    with open(debug, "rb") as f:
        assert name == os.path.basename(debug) and crc == zlib.crc32(f.read())


def test_program_links_only_the_library_functions_it_calls(mpi_hello, tmp_path):
    hello = functions(embedded_program(mpi_hello, tmp_path))
    roots = functions(embedded_program(build_image("gc_roots.c"), tmp_path))
    for name in ("PMPI_Win_allocate", "MPI_Win_allocate", "PMPI_Comm_join"):
        assert name not in hello, f"{name} is in MPI hello, which never calls it"
        assert name in roots, f"{name} is missing from gc_roots, which calls it"
    # a function no program here calls is in neither
    assert "PMPI_Neighbor_alltoallw" not in hello | roots


def test_what_no_call_reaches_is_kept():
    image = build_image("gc_roots.c")
    r = toro_run("-n", 2, "--timeout", 120, image)
    assert r.rc == 0, r
    for rank in (0, 1):
        assert f"gc_roots: rank {rank} ok (0 failures)" in r.out, r
    assert r.out.count("gc_roots: destructor ran") == 2, r


def load_toro_run():
    loader = importlib.machinery.SourceFileLoader("toro_run", TORO_RUN)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def test_gdb_gets_the_debug_copy_only_if_it_matches(mpi_hello, tmp_path, capsys):
    tr = load_toro_run()
    assert tr.gdb_symbols(mpi_hello, str(tmp_path)) == os.path.abspath(mpi_hello + ".debug")
    # another program's debug file beside the image: gdb gets the embedded program
    image = str(tmp_path / "copy.elf")
    shutil.copy(mpi_hello, image)
    shutil.copy(build_image("gc_roots.c") + ".debug", image + ".debug")
    got = tr.gdb_symbols(image, str(tmp_path))
    assert got == os.path.join(str(tmp_path), "app.elf"), got
    assert "is not this image's" in capsys.readouterr().err
    assert ".debug_info" not in section_names(got) and "main" in functions(got)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


GDB_SCRIPT = """set pagination off
set confirm off
target remote 127.0.0.1:{port}
break enter_user
continue
python gdb.execute("add-symbol-file {debug} -o %d" % int(gdb.parse_and_eval("procs[0]->base")))
hbreak main
continue
info line PMPI_Comm_rank
kill
"""


@pytest.mark.skipif(not shutil.which("gdb"), reason="gdb is not installed")
def test_gdb_shows_source_lines_of_program_and_library(mpi_hello, tmp_path):
    port = free_port()
    script = tmp_path / "cmds.gdb"
    script.write_text(GDB_SCRIPT.format(port=port, debug=mpi_hello + ".debug"))
    run = subprocess.Popen([TORO_RUN, "-n", "1", "--timeout", "200", "--gdb", str(port), mpi_hello],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    try:
        g = subprocess.run(["gdb", "-q", "-batch", "-x", str(script), mpi_hello],
                           capture_output=True, text=True, errors="replace", timeout=200)
    finally:
        try:
            out = run.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            run.kill()
            out = run.communicate()[0]
    assert re.search(r"main \(argc=1, argv=0x[0-9a-f]+\) at \S*apps/mpi_hello\.c:\d+", g.stdout), g.stdout + g.stderr
    assert re.search(r'Line \d+ of "\S*mpi/lib/\S+\.c"', g.stdout), g.stdout + g.stderr
    assert f"add-symbol-file {mpi_hello}.debug -o 0x" in out, out
