"""The benchmark runner (scripts/toro-bench) and the Linux reference VM
builder (scripts/toro-linuxvm): OSU output parsing, CSV, plots, ratios,
the VM's init script, ldd parsing, cpio writing, vCPU pinning, argument
errors. Fast: nothing here runs a benchmark under QEMU; the one test that
boots the Linux VM runs only when its download cache exists."""
import csv
import gzip
import importlib.machinery
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from conftest import ROOT

SCRIPTS = os.path.join(ROOT, "scripts")
BENCH = os.path.join(SCRIPTS, "toro-bench")
LINUXVM = os.path.join(SCRIPTS, "toro-linuxvm")


def load(name):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), os.path.join(SCRIPTS, name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


sys.path.insert(0, SCRIPTS)  # scripts/torobench/, the package scripts/toro-bench runs
from torobench import config, osu, pinning, plots, runner  # noqa: E402
lv = load("toro-linuxvm")


# ------------------------------------------------------------ OSU parser

LATENCY = """# OSU MPI Latency Test v7.2
# Datatype: MPI_CHAR.
# Size       Latency (us)
0                       0.41
1                       0.42
8                       0.45
1048576               157.10
"""

BW = """# OSU MPI Bandwidth Test (Toro bench)
# Datatype: MPI_CHAR.
# Size      Bandwidth (MB/s)
1                     1.50
1048576           11980.25
"""

BIBW = """# OSU MPI Bi-Directional Bandwidth Test v7.2
# Size      Bandwidth (MB/s)
4194304           20000.00
"""

COLL_F = """
# OSU MPI Allreduce Latency Test (Toro bench)
# Datatype: MPI_CHAR.
# Size       Avg Latency(us)   Min Latency(us)   Max Latency(us)  Iterations
4                      17.80             16.00             19.60          50
8                      17.90             16.10             19.70          50
"""

COLL = """# OSU MPI Bcast Latency Test v7.2
# Size       Avg Latency(us)
1                       1.20
2                       1.30
"""

BARRIER = """# OSU MPI Barrier Latency Test v7.2
# Avg Latency(us)
             4.70
"""

BARRIER_F = """# OSU MPI Barrier Latency Test (Toro bench)
# Avg Latency(us)   Min Latency(us)   Max Latency(us)  Iterations
             4.70              4.34              5.06         100
"""


def test_osu_latency_format():
    fields, rows = osu.parse_osu(LATENCY)
    assert fields == ["size", "avg_us"]
    assert [r["size"] for r in rows] == [0, 1, 8, 1048576]
    assert rows[2]["avg_us"] == pytest.approx(0.45)
    assert isinstance(rows[3]["size"], int)


def test_osu_bandwidth_formats():
    fields, rows = osu.parse_osu(BW)
    assert fields == ["size", "mbs"] and rows[1] == {"size": 1048576, "mbs": pytest.approx(11980.25)}
    fields, rows = osu.parse_osu(BIBW)
    assert fields == ["size", "mbs"] and rows[0]["mbs"] == 20000.0


def test_osu_collective_with_f_and_without():
    fields, rows = osu.parse_osu(COLL_F)
    assert fields == ["size", "avg_us", "min_us", "max_us", "iterations"]
    assert rows[1] == {"size": 8, "avg_us": 17.9, "min_us": 16.1, "max_us": 19.7, "iterations": 50}
    fields, rows = osu.parse_osu(COLL)
    assert fields == ["size", "avg_us"] and len(rows) == 2


def test_osu_barrier_has_no_size():
    fields, rows = osu.parse_osu(BARRIER)
    assert fields == ["avg_us"] and rows == [{"avg_us": 4.7}]
    fields, rows = osu.parse_osu(BARRIER_F)
    assert fields == ["avg_us", "min_us", "max_us", "iterations"]
    assert rows[0]["iterations"] == 100 and rows[0]["max_us"] == 5.06


@pytest.mark.parametrize("text, message", [
    ("", "no OSU column header"),
    ("hello world\n", "line 1: a data row before any column header"),
    ("# OSU MPI Latency Test\n", "no OSU column header"),
    ("# Size  Latency (us)\n", "no data rows"),
    ("# Size  Latency (us)\n8  1.0  2.0\n", "line 2: expected 2 numbers (size, avg_us)"),
    ("# Size  Latency (us)\n8  fast\n", "line 2: expected 2 numbers"),
    ("# Size  Latency (us)\n8  1.0\nMPI error: MPI_Send on rank 1\n", "line 3: expected 2 numbers"),
    ("# Size  Latency (us)  Jitter (ns)\n8  1.0  3\n", "unknown column 'Jitter (ns)'"),
    ("# Size  Latency (us)\n8 1.0\n# Size  Latency (us)\n16 2.0\n", "line 3: a second table header"),
])
def test_osu_malformed_input_is_a_clear_error(text, message):
    with pytest.raises(osu.OSUParseError) as e:
        osu.parse_osu(text)
    assert message in str(e.value)


def test_floor_lines():
    assert osu.parse_floor("toro: something\nbounce_half_rtt_ns 812.5\n", "bounce_half_rtt_ns") == 812.5
    assert osu.parse_floor("memcpy_bw_mbs 9100\n", "memcpy_bw_mbs") == 9100.0
    with pytest.raises(osu.OSUParseError, match="no 'memcpy_bw_mbs <number>' line"):
        osu.parse_floor("memcpy_bw_mbs fast\n", "memcpy_bw_mbs")


# ------------------------------------------------------------ CSV, plots, ratios

def bench_rows(bench, text, system, ranks, rep=1, accel="tcg"):
    return osu.osu_csv_rows(bench, system, accel, ranks, ranks > 2, rep, osu.parse_osu(text)[1])


def test_csv_schema_and_rows(tmp_path):
    rows = bench_rows("osu_allreduce", COLL_F, "toro", 4) + bench_rows("osu_allreduce", BARRIER_F, "host", 2)
    path = tmp_path / "osu_allreduce.csv"
    osu.write_csv(str(path), rows, config.BENCH_FIELDS)
    with open(path, newline="") as f:
        back = list(csv.reader(f))
    assert back[0] == ["benchmark", "system", "accelerator", "ranks", "oversubscribed", "rep",
                       "size", "avg_us", "min_us", "max_us", "mbs", "iterations"]
    assert back[1] == ["osu_allreduce", "toro", "tcg", "4", "1", "1", "4", "17.8", "16.0", "19.6", "", "50"]
    assert back[3][:7] == ["osu_allreduce", "host", "tcg", "2", "0", "1", ""]  # barrier-style row: no size
    assert len(back) == 4
    assert not os.path.exists(str(path) + ".tmp")


def lat_text(values):
    return "# Size  Latency (us)\n" + "".join(f"{s} {v}\n" for s, v in values)


def make_fixture_results(out):
    """A small results folder: what a run writes before plotting."""
    lat = []
    for rep, k in ((1, 1.0), (2, 1.2), (3, 0.8)):  # medians: the k=1.0 repetition
        lat += bench_rows("osu_latency", lat_text([(0, 4 * k), (8, 4 * k), (1048576, 400 * k)]), "toro", 2, rep)
        lat += bench_rows("osu_latency", lat_text([(0, 2 * k), (8, 2 * k), (1048576, 2000 * k)]), "linuxvm", 2, rep)
        lat += bench_rows("osu_latency", lat_text([(0, 1 * k), (8, 1 * k), (1048576, 100 * k)]), "host", 2, rep, "native")
    osu.write_csv(os.path.join(out, "osu_latency.csv"), lat, config.BENCH_FIELDS)
    bw = []
    for system, v in (("toro", 1600), ("linuxvm", 400), ("host", 12000)):
        bw += bench_rows("osu_bw", f"# Size Bandwidth (MB/s)\n1 1.0\n1048576 {v}\n", system, 2)
    osu.write_csv(os.path.join(out, "osu_bw.csv"), bw, config.BENCH_FIELDS)
    coll = []
    for ranks in (2, 4):
        for system, v in (("toro", 20 * ranks), ("linuxvm", 100 * ranks), ("host", 5 * ranks)):
            coll += bench_rows("osu_allreduce", "# Size  Avg Latency(us)  Min Latency(us)  Max Latency(us)  Iterations\n"
                               f"4 {v} {v} {v} 10\n8 {v} {v} {v} 10\n", system, ranks)
    osu.write_csv(os.path.join(out, "osu_allreduce.csv"), coll, config.BENCH_FIELDS)
    bar = []
    for ranks in (2, 4):
        for system in ("toro", "linuxvm", "host"):
            bar += bench_rows("osu_barrier", BARRIER_F, system, ranks)
    osu.write_csv(os.path.join(out, "osu_barrier.csv"), bar, config.BENCH_FIELDS)
    osu.write_csv(os.path.join(out, "floors.csv"), [
        dict(floor="bounce", system="toro", accelerator="tcg", ranks=2, rep=1, value=800, unit="ns"),
        dict(floor="memcpy_bw", system="toro", accelerator="tcg", ranks=1, rep=1, value=9000, unit="MB/s")],
        config.FLOOR_FIELDS)
    boot = []
    for rep in (1, 2, 3):
        boot += [dict(system="empty_pvh", accelerator="tcg", program="empty", ranks=1, rep=rep, first_line_s="", exit_s=0.12),
                 dict(system="toro", accelerator="tcg", program="hello", ranks=1, rep=rep, first_line_s=0.18, exit_s=0.2 * rep),
                 dict(system="linuxvm", accelerator="tcg", program="hello", ranks=1, rep=rep, first_line_s=3.3, exit_s=4.0),
                 dict(system="host", accelerator="native", program="hello", ranks=1, rep=rep, first_line_s=0.004, exit_s=0.005)]
    osu.write_csv(os.path.join(out, "boot.csv"), boot, config.BOOT_FIELDS)
    osu.write_csv(os.path.join(out, "size.csv"), [
        dict(system="toro", item="hello image, stripped", bytes=150000),
        dict(system="linuxvm", item="kernel (vmlinuz)", bytes=14000000)], config.SIZE_FIELDS)
    osu.write_csv(os.path.join(out, "mem.csv"), [
        dict(system="toro", accelerator="tcg", program="hello", ranks=4, min_mem_mib=8)], config.MEM_FIELDS)


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib", reason="python3-matplotlib is not installed (scripts/toro-setup installs it)")
    out = str(tmp_path)
    make_fixture_results(out)
    written = plots.make_plots(out)
    names = sorted(os.path.basename(p) for p in written)
    assert names == ["boot.png", "osu_allreduce.png", "osu_barrier.png", "osu_bw.png", "osu_latency.png", "size.png"]
    for p in written:
        assert is_png(p) and os.path.getsize(p) > 5000, p


def test_medians_and_ratio_table(tmp_path):
    out = str(tmp_path)
    make_fixture_results(out)
    lines = {l[0]: l for l in plots.headline(out)}
    what, unit, better, t, l, h = lines["latency, 8 B, 2 ranks"]
    assert (unit, better, t, l, h) == ("us", "lower", 4.0, 2.0, 1.0)  # medians of 3 repetitions
    assert lines["bandwidth, 1 MiB, 2 ranks"][3:] == (1600.0, 400.0, 12000.0)
    assert lines["allreduce, 8 B, 4 ranks"][3:] == (80.0, 400.0, 20.0)
    assert lines["boot to exit, hello, 1 rank"][3:] == (0.4, 4.0, 0.005)
    table = plots.ratio_table(list(lines.values()))
    row = next(r for r in table.splitlines() if r.startswith("| latency, 8 B"))
    assert row == "| latency, 8 B, 2 ranks (us) | lower | 4 | 2 | 1 | 2 | 4 |"
    row = next(r for r in table.splitlines() if r.startswith("| bandwidth, 1 MiB"))
    assert row.endswith("| 4 | 0.13 |")  # 1600/400, 1600/12000


def test_summary_names_failures(tmp_path):
    out = str(tmp_path)
    make_fixture_results(out)
    plots.write_summary(out, ["osu_bcast linuxvm n=4: status 125"], ["a note"], "quick")
    text = open(os.path.join(out, "summary.md")).read()
    assert "| allreduce, 8 B, 4 ranks (us) | lower | 80 | 400 | 20 | 0.2 | 4 |" in text
    assert "- osu_bcast linuxvm n=4: status 125" in text
    assert "bounce = 800 ns" in text and "toro hello 4 rank(s): 8 MiB" in text


def test_replot_command(tmp_path):
    pytest.importorskip("matplotlib", reason="python3-matplotlib is not installed (scripts/toro-setup installs it)")
    out = str(tmp_path)
    make_fixture_results(out)
    p = subprocess.run([BENCH, "--replot", "--out", out], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert is_png(os.path.join(out, "osu_latency.png"))
    assert "| latency, 8 B, 2 ranks (us) | lower | 4 | 2 | 1 | 2 | 4 |" in open(os.path.join(out, "summary.md")).read()


def test_bisection_finds_the_smallest():
    tried = []
    def ok(n):
        tried.append(n)
        return n >= 37
    assert runner.bisect_min(ok, 2, 1024) == 37
    assert len(tried) <= 12
    assert runner.bisect_min(lambda n: True, 2, 1024) == 2
    assert runner.bisect_min(lambda n: False, 2, 1024) is None


def test_host_run_end_to_end(tmp_path):
    """A real (tiny) run on the host only: CSV, summary, exit 0."""
    if not shutil.which("mpicc") or not shutil.which("mpirun"):
        pytest.skip("Open MPI is not installed (scripts/toro-setup installs it)")
    out = str(tmp_path / "r")
    p = subprocess.run([BENCH, "--quick", "--systems", "host", "--only", "osu_latency", "--skip-boot",
                        "--skip-mem", "--out", out], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "[1/2] osu_latency host n=2 ..." in p.stderr
    rows = list(csv.DictReader(open(os.path.join(out, "osu_latency.csv"))))
    assert {r["system"] for r in rows} == {"host"} and rows[0]["accelerator"] == "native"
    assert [int(r["size"]) for r in rows][:3] == [0, 1, 2] and float(rows[0]["avg_us"]) > 0
    env = open(os.path.join(out, "ENV.md")).read()
    assert "Open MPI" in env and "QEMU" in env and "git commit" in env


def test_mt_benchmarks_run_unbound_with_threads_per_rank():
    line = ["mpirun", "--allow-run-as-root", "--mca", "btl", "self,vader", "-np", "2", "--bind-to", "core",
            "/bench/osu_latency_mt", "-t", "2:2"]
    assert pinning.unbind(line) == ["mpirun", "--allow-run-as-root", "--mca", "btl", "self,vader", "--bind-to", "none",
                               "-np", "2", "/bench/osu_latency_mt", "-t", "2:2"]
    over = ["mpirun", "-np", "4", "--oversubscribe", "--bind-to", "core:overload-allowed", "x"]
    assert pinning.unbind(over) == ["mpirun", "--bind-to", "none", "-np", "4", "--oversubscribe", "x"]
    assert "osu_latency_mt" in config.P2P and config.MT["osu_latency_mt"] == 2
    for mode in config.MODES.values():   # as many threads as each rank has cores
        args = mode["args"]["osu_latency_mt"]
        assert args[args.index("-t") + 1] == "2:2"


def test_host_run_mt_end_to_end(tmp_path):
    """osu_latency_mt on the host: 2 threads a rank, not bound to a core each."""
    if not shutil.which("mpicc") or not shutil.which("mpirun"):
        pytest.skip("Open MPI is not installed (scripts/toro-setup installs it)")
    out = str(tmp_path / "r")
    p = subprocess.run([BENCH, "--quick", "--systems", "host", "--only", "osu_latency_mt", "--skip-boot",
                        "--skip-mem", "--out", out], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(open(os.path.join(out, "osu_latency_mt.csv"))))
    assert [int(r["size"]) for r in rows][:3] == [0, 1, 2] and all(float(r["avg_us"]) > 0 for r in rows)
    log = open(os.path.join(out, "bench.log")).read()
    assert "--bind-to none -np 2" in log and "-t 2:2" in log


def test_failures_are_recorded_and_named(tmp_path):
    out = str(tmp_path / "r")
    env = dict(os.environ, PATH="/nonexistent")  # no mpicc, no mpirun
    p = subprocess.run([BENCH, "--quick", "--systems", "host", "--only", "osu_latency", "--skip-boot",
                        "--skip-mem", "--out", out], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 1
    assert "toro-bench: these failed:" in p.stderr and "osu_latency host n=2: not built" in p.stderr
    assert "build osu_latency for host" in open(os.path.join(out, "summary.md")).read()
    assert "No such file or directory: 'mpicc'" in open(os.path.join(out, "bench.log")).read()


# ------------------------------------------------------------ vCPU pinning

def test_vcpu_threads_are_found_and_pinned():
    if not shutil.which("qemu-system-x86_64"):
        pytest.skip("QEMU is not installed")
    cores = pinning.host_cores()
    assert cores and set(cores) <= os.sched_getaffinity(0)
    q = subprocess.Popen(["qemu-system-x86_64", "-M", "microvm", "-smp", "2", "-m", "16M", "-nodefaults",
                          "-display", "none", "-S", "-accel", "tcg,thread=multi", "-name", "t,debug-threads=on"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        msg = pinning.pin_qemu(q.pid, 2, cores, timeout=20)
        assert msg.startswith("pinned"), msg
        th = pinning.vcpu_threads(q.pid)
        assert sorted(th) == [0, 1]
        for n, tid in th.items():
            assert os.sched_getaffinity(tid) == {cores[n % len(cores)]}
    finally:
        q.kill()
        q.wait()


# ------------------------------------------------------------ Linux VM builder

def test_init_script():
    text = lv.init_script()
    assert text.startswith("#!/bin/sh\n")
    for needed in ("mount -t proc proc /proc", "mount -t sysfs sysfs /sys", "mount -t devtmpfs devtmpfs /dev",
                   "mount -t tmpfs -o mode=1777 tmpfs /dev/shm", "mount -t tmpfs -o mode=1777 tmpfs /tmp",
                   "OMPI_MCA_plm_rsh_agent=false", "base64 -d", "/bench.sh", "poweroff -f",
                   lv.START_MARK, lv.EXIT_MARK + " $status"):
        assert needed in text, needed
    assert subprocess.run(["sh", "-n"], input=text, text=True).returncode == 0


def test_init_script_runs_the_command_and_reports_its_status(tmp_path):
    """The init script's command part, run by the host's sh with the
    system parts stubbed: the command from toro.cmd runs, its status is in
    the exit line."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name in ("mount", "mdev", "hostname", "ip", "ifconfig", "poweroff", "reboot", "sync", "mkdir"):
        (stubs / name).write_text("#!/bin/sh\nexit 0\n")
        (stubs / name).chmod(0o755)
    cmdline = lv.kernel_cmdline(2000000, "echo 'it ran'; exit 7")
    assert "tsc=reliable tsc_early_khz=2000000 lpj=8000000" in cmdline and "console=ttyS0" in cmdline
    (tmp_path / "cmdline").write_text(cmdline + "\n")
    script = lv.init_script().replace("/proc/cmdline", str(tmp_path / "cmdline")).replace("cd /tmp", f"cd {tmp_path}")
    env = dict(os.environ, PATH=f"{stubs}:/usr/bin:/bin")
    p = subprocess.run(["sh", "-c", script.replace("export PATH=", "export OLDPATH=")], capture_output=True, text=True, env=env)
    lines = p.stdout.splitlines()
    assert lines == [lv.START_MARK, "it ran", lv.EXIT_MARK + " 7"], p.stdout + p.stderr


def test_kernel_cmdline_limits():
    with pytest.raises(lv.VMError, match="too long for the kernel command line"):
        lv.kernel_cmdline(2000000, "x" * 3000)


def test_mpirun_command():
    assert lv.mpirun_command(2, 2, "/bench/osu_latency", ["-m", "8"]) == [
        "mpirun", "--allow-run-as-root", "--mca", "btl", "self,vader", "-np", "2", "--bind-to", "core",
        "/bench/osu_latency", "-m", "8"]
    over = lv.mpirun_command(4, 2, "x")
    assert "--oversubscribe" in over and "core:overload-allowed" in over
    assert lv.shell_join(["echo", "a b", "it's"]) == "echo 'a b' 'it'\\''s'"


LDD = """\tlinux-vdso.so.1 (0x00007ffd6b5f2000)
\tlibmpi.so.40 => /lib/x86_64-linux-gnu/libmpi.so.40 (0x00007f0e1c000000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0e1be1f000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f0e1c3a1000)
"""


def test_parse_ldd():
    assert lv.parse_ldd(LDD) == ["/lib/x86_64-linux-gnu/libmpi.so.40", "/lib/x86_64-linux-gnu/libc.so.6",
                                 "/lib64/ld-linux-x86-64.so.2"]
    assert lv.parse_ldd("\tnot a dynamic executable\n") == []
    with pytest.raises(lv.VMError, match="ldd finds no libfoo.so.1"):
        lv.parse_ldd(LDD + "\tlibfoo.so.1 => not found\n", "prog")
    with pytest.raises(lv.VMError, match="cannot read this line"):
        lv.parse_ldd("garbage here\n")


def test_ldd_on_a_real_binary():
    libs = lv.ldd_libraries(["/bin/ls"])
    assert any(os.path.basename(l) == "libc.so.6" for l in libs)
    assert any("ld-linux" in l for l in libs)


def read_newc(data):
    """A minimal reader of cpio newc archives: {name: (mode, data)}."""
    out, pos = {}, 0
    while True:
        assert data[pos:pos + 6] == b"070701", f"bad magic at {pos}"
        f = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = f[1], f[6], f[11]
        name = data[pos + 110:pos + 110 + namesize - 1].decode()
        pos = (pos + 110 + namesize + 3) & ~3
        body = data[pos:pos + size]
        pos = (pos + size + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out[name] = (mode, body)


def make_tree(root):
    os.makedirs(os.path.join(root, "bin"))
    with open(os.path.join(root, "init"), "w") as f:
        f.write("#!/bin/sh\necho hi\n")
    os.chmod(os.path.join(root, "init"), 0o755)
    with open(os.path.join(root, "bin", "data"), "wb") as f:
        f.write(b"abc")  # odd size: padding
    os.symlink("data", os.path.join(root, "bin", "link"))


def test_cpio_writer(tmp_path):
    root = str(tmp_path / "root")
    make_tree(root)
    plain = lv.cpio_newc(root, str(tmp_path / "a.cpio"), compress=False)
    gz = lv.cpio_newc(root, str(tmp_path / "a.cpio.gz"))
    data = open(plain, "rb").read()
    assert gzip.decompress(open(gz, "rb").read()) == data
    entries = read_newc(data)
    assert sorted(entries) == ["bin", "bin/data", "bin/link", "init"]
    assert stat.S_ISDIR(entries["bin"][0])
    assert entries["init"][0] == stat.S_IFREG | 0o755 and entries["init"][1] == b"#!/bin/sh\necho hi\n"
    assert entries["bin/data"][1] == b"abc"
    assert stat.S_ISLNK(entries["bin/link"][0]) and entries["bin/link"][1] == b"data"
    # the same tree gives the same bytes (the cache key relies on inputs, not on archive times)
    assert open(lv.cpio_newc(root, str(tmp_path / "b.cpio"), compress=False), "rb").read() == data
    if shutil.which("cpio"):
        p = subprocess.run(["cpio", "-t"], input=data, capture_output=True)
        assert p.returncode == 0 and p.stdout.decode().split() == ["bin", "bin/data", "bin/link", "init"]


def test_stager_keeps_links_and_merged_usr(tmp_path):
    root = str(tmp_path / "root")
    st = lv.Stager(root)
    for lib in lv.ldd_libraries(["/bin/ls"]):
        st.add(lib)
    st.add("/bin/ls", as_path="/bench/ls")
    assert os.readlink(os.path.join(root, "lib")) == "usr/lib"
    assert os.path.isfile(os.path.join(root, "usr/lib/x86_64-linux-gnu/libc.so.6"))
    assert os.path.lexists(os.path.join(root, "usr/lib64/ld-linux-x86-64.so.2"))
    assert os.access(os.path.join(root, "bench/ls"), os.X_OK) and not os.path.islink(os.path.join(root, "bench/ls"))


def test_parse_depends():
    assert lv.parse_depends("linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)") == \
        ("linux-image-6.1.0-56-cloud-amd64", "6.1.192-2")
    with pytest.raises(lv.VMError):
        lv.parse_depends("libc6 (>= 2.36)")


def test_cache_dir(monkeypatch):
    monkeypatch.setenv("TORO_CACHE", "/x/cache")
    assert lv.cache_dir() == "/x/cache/linuxvm"
    assert lv.cache_dir("/y") == "/y"
    monkeypatch.delenv("TORO_CACHE")
    assert lv.cache_dir().endswith("/.cache/toro/linuxvm")


def test_linuxvm_boots_from_the_cache():
    """Needs the downloaded kernel (toro-linuxvm fetch): skipped without it."""
    cache = lv.cache_dir()
    if not lv.read_manifest(cache):
        pytest.skip(f"no Linux VM package cache in {cache} (run scripts/toro-linuxvm fetch, which downloads)")
    m = lv.fetch(cache)  # cached: no download
    with open(m["kernel"], "rb") as f:
        assert f.read(0x206)[0x202:] == b"HdrS"  # a bzImage
    t0 = time.monotonic()
    p = subprocess.run([LINUXVM, "run", "-n", "1", "--mem", "256M", "--timeout", "120", "--",
                        "echo in the vm; grep -c processor /proc/cpuinfo; exit 7"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 7, p.stderr
    assert p.stdout.splitlines() == ["in the vm", "1"]
    assert time.monotonic() - t0 < 120


# ------------------------------------------------------------ argument errors

@pytest.mark.parametrize("args, message", [
    ([], "one of the arguments --quick --full --replot is required"),
    (["--quick", "--full"], "not allowed with argument"),
    (["--quick", "--bogus"], "unrecognized arguments: --bogus"),
    (["--quick", "--systems", "toro,bsd"], "unknown system(s) bsd"),
    (["--quick", "--mem", "lots"], "bad size 'lots'"),
    (["--quick", "--reps", "0"], "--reps must be at least 1"),
    (["--quick", "--only", "osu_nothing", "--out", "/tmp/toro-bench-test-unused"], "no bench/osu_nothing.c"),
])
def test_bench_argument_errors(args, message):
    p = subprocess.run([BENCH, *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: STEP"),
    (["boot"], "invalid choice: 'boot'"),
    (["run", "--mem", "1M", "--", "true"], "needs at least 32M"),
    (["run"], "give the command to run after --"),
    (["run", "-n", "0", "--", "true"], "-n must be between 1 and 64"),
])
def test_linuxvm_argument_errors(args, message):
    p = subprocess.run([LINUXVM, *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr


def test_help_of_both_scripts():
    for script, words in ((BENCH, ["--quick", "--full", "--out", "linuxvm"]), (LINUXVM, ["fetch", "build", "run"])):
        p = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0
        for w in words:
            assert w in p.stdout
