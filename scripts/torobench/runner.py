"""The run steps: build, the benchmarks on each system, floors, boot times,
image sizes, the smallest --mem."""
import datetime
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import toro_accel  # scripts/toro_accel.py (the command puts scripts/ on sys.path)

from .config import (BENCH_FIELDS, BOOT_FIELDS, FLOOR_FIELDS, FLOORS, MEM_FIELDS, MODES, MT, P2P, ROOT,
                     SCRIPTS, SIZE_FIELDS, TWO_RANK_FLOORS, load_script)
from .env import write_env
from .osu import OSUParseError, osu_csv_rows, parse_floor, parse_osu, write_csv
from .pinning import host_cores, pin_child_qemu, pin_qemu, unbind
from .plots import finish


def bisect_min(ok, lo, hi):
    """The smallest n in [lo, hi] for which ok(n) holds, by bisection
    (ok is taken to be monotonic); None if even ok(hi) fails."""
    if ok(lo):
        return lo
    if not ok(hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


# ---------------------------------------------------------------- the runner

class Runner:
    def __init__(self, args):
        self.args = args
        self.out = os.path.abspath(args.out)
        self.mode = "full" if args.full else "quick"
        self.cfg = dict(MODES[self.mode])
        if args.reps:
            self.cfg["reps"] = args.reps
        self.timeout = args.timeout or self.cfg["timeout"]
        self.systems = args.systems
        self.build = os.path.join(ROOT, "build", "bench")
        self.failures = []
        self.notes = []
        self.step = 0
        self.total = 0
        self.cores = host_cores()
        self.pin_results = []
        with tempfile.TemporaryDirectory(prefix="toro-bench.") as tmp:
            try:
                self.accel = toro_accel.choose(args.accel, tmp, lambda line: sys.stderr.write(f"toro-bench: {line}\n"))
            except (toro_accel.AccelError, ValueError) as e:
                sys.exit(f"toro-bench: {e}")
        self.mem = args.mem
        self.mem_mib = int(re.match(r"(\d+)", args.mem).group(1)) << {"M": 0, "G": 10}[args.mem[-1].upper()]
        self.vm = None
        self.vm_error = None
        self.lvm = None
        self.toro_run_mod = None
        os.makedirs(self.out, exist_ok=True)
        self.logf = open(os.path.join(self.out, "bench.log"), "w")

    # -- output
    def log(self, text):
        self.logf.write(text.rstrip("\n") + "\n")
        self.logf.flush()

    def progress(self, what):
        self.step += 1
        msg = f"[{self.step}/{self.total}] {what} ..."
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()
        self.log(f"\n==== {msg}")

    def fail(self, what, err):
        short = err.strip().splitlines()[-1] if err.strip() else "failed"
        self.failures.append(f"{what}: {short[:200]}")
        sys.stderr.write(f"    FAILED: {short[:200]}\n")
        self.log(f"FAILED {what}:\n{err}")

    # -- commands
    def run_cmd(self, cmd, timeout, env=None, pin=None):
        """Runs cmd; returns (rc, stdout, stderr, seconds). pin=(vcpus) pins
        the QEMU that cmd (toro-run) starts."""
        self.log("$ " + " ".join(cmd))
        t0 = time.monotonic()
        stop, res = threading.Event(), []
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=env, text=True, errors="replace")
        except OSError as e:
            return 127, "", str(e), 0.0
        th = None
        if pin and not self.args.no_pin:
            th = threading.Thread(target=pin_child_qemu, args=(p.pid, pin, self.cores, stop, res), daemon=True)
            th.start()
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            err += f"\n(killed after {timeout} s)"
            p.returncode = 124
        stop.set()
        if th:
            th.join()
            self.note_pin(res[0] if res else "pinning: not done")
        dt = time.monotonic() - t0
        self.log(f"rc={p.returncode} in {dt:.2f} s\n--- stdout\n{out}--- stderr\n{err}")
        return p.returncode, out, err, dt

    def note_pin(self, line):
        self.pin_results.append(line)
        self.log(line)

    def host_env(self):
        env = dict(os.environ)
        env.update(OMPI_MCA_plm_rsh_agent="false", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        return env

    def host_mpirun(self, ranks, program, args):
        over = ranks > len(self.cores)
        cmd = ["mpirun", "--mca", "btl", "self,vader", "-np", str(ranks)]
        if os.geteuid() == 0:
            cmd.insert(1, "--allow-run-as-root")
        cmd += ["--oversubscribe", "--bind-to", "core:overload-allowed"] if over else ["--bind-to", "core"]
        return cmd + [program] + list(args), over

    def toro_run(self, ranks, image, args, timeout, mem=None, tpr=1):
        cmd = [os.path.join(SCRIPTS, "toro-run"), "-n", str(ranks), "--mem", mem or self.mem,
               "--timeout", str(timeout), "--accel", self.accel] + (["--threads-per-rank", str(tpr)] if tpr > 1 else [])
        if not self.args.no_pin:
            cmd += ["--qemu-arg=-name", f"--qemu-arg=toro,debug-threads=on"]
        return self.run_cmd(cmd + [image, "--"] + list(args), timeout + 30, pin=ranks * tpr)

    def linuxvm_run(self, vcpus, shell_cmd, timeout, mem_mib=None):
        """Runs shell_cmd in the Linux VM; returns (rc, stdout, err, result)."""
        if not self.vm:
            return 125, "", "the Linux VM is not available: " + (self.vm_error or "?"), None
        res, stop, threads = [], threading.Event(), []
        def on_start(pid):
            if not self.args.no_pin:
                th = threading.Thread(target=lambda: res.append(pin_qemu(pid, vcpus, self.cores, stop=stop)),
                                      daemon=True)
                th.start()
                threads.append(th)
        extra = [] if self.args.no_pin else ["-name", "linuxvm,debug-threads=on"]
        cmd = self.vm.command(shell_cmd, vcpus, mem_mib or self.mem_mib, extra)
        self.log("$ [linuxvm] " + shell_cmd + "\n  " + " ".join(cmd))
        r = self.lvm.run_vm(cmd, timeout, on_start=on_start)
        stop.set()
        for th in threads:
            th.join()
        if not self.args.no_pin:
            self.note_pin(res[0] if res else "pinning: not done")
        out = "\n".join(r.lines) + ("\n" if r.lines else "")
        self.log(f"status={r.status} qemu_rc={r.qemu_rc} exit marker at {r.t_exit} s, end {r.t_end:.2f} s\n"
                 f"--- output\n{out}--- console tail\n" + "\n".join(r.console[-15:]) + f"\n--- qemu stderr\n{r.stderr}")
        if r.timed_out:
            return 124, out, f"timeout after {timeout} s; console tail:\n" + "\n".join(r.console[-10:]), r
        if r.status is None:
            return 125, out, (f"the VM ended (QEMU status {r.qemu_rc}) without the exit line; console tail:\n"
                              + "\n".join(r.console[-10:]) + "\n" + r.stderr), r
        return r.status, out, "", r

    # -- steps
    def discover(self):
        bench = os.path.join(ROOT, "bench")
        names = sorted(f[:-2] for f in os.listdir(bench) if f.endswith(".c"))
        osu = [n for n in names if n.startswith("osu_")]
        if self.args.only:
            osu = [n for n in osu if n in self.args.only]
        floors = [n for n in FLOORS if n in names and (not self.args.only or n in self.args.only)]
        for f in FLOORS:
            if f not in names:
                self.notes.append(f"bench/{f}.c does not exist: its floor is not measured")
        return osu, floors

    def build_all(self, osu, floors):
        """Builds every program for Toro and the host; returns {(system, name): path}."""
        built = {}
        os.makedirs(os.path.join(self.build, "toro"), exist_ok=True)
        os.makedirs(os.path.join(self.build, "host"), exist_ok=True)
        jobs = []
        want_toro = "toro" in self.systems
        want_host = "host" in self.systems or "linuxvm" in self.systems  # the VM runs the host binaries
        for n in osu + floors:
            if want_toro:
                jobs.append(("toro", n, os.path.join(ROOT, "bench", n + ".c")))
            if want_host and n in osu:
                jobs.append(("host", n, os.path.join(ROOT, "bench", n + ".c")))
        for app in ("hello", "mpi_hello"):
            if want_toro:
                jobs.append(("toro", app, os.path.join(ROOT, "apps", app + ".c")))
            if want_host:
                jobs.append(("host", app, os.path.join(ROOT, "apps", app + ".c")))
        for system, n, src in jobs:
            if system == "toro":
                dest = os.path.join(self.build, "toro", n + ".elf")
                cmd = [os.path.join(SCRIPTS, "toro-mpicc"), "-O2", src, "-o", dest]
            else:
                dest = os.path.join(self.build, "host", n)
                cmd = ["mpicc", "-O2", src, "-o", dest]
            self.log("$ " + " ".join(cmd))
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
            except OSError as e:
                self.fail(f"build {n} for {system}", f"{' '.join(cmd)}: {e}")
                continue
            if p.returncode == 0:
                built[(system, n)] = dest
            else:
                self.fail(f"build {n} for {system}", f"{' '.join(cmd)}: status {p.returncode}\n{p.stdout}{p.stderr}")
        return built

    def setup_linuxvm(self, built):
        if "linuxvm" not in self.systems:
            return
        try:
            self.lvm = load_script("toro-linuxvm")
            bins = [p for (s, n), p in built.items() if s == "host"]
            sys.stderr.write("preparing the Linux VM (download and initramfs, cached) ...\n")
            self.vm = self.lvm.LinuxVM(self.args.cache, bins, self.accel, None,
                                       log=lambda m: (self.log("toro-linuxvm: " + m), sys.stderr.write(m + "\n")))
        except Exception as e:  # recorded; the other systems go on
            self.vm_error = f"{type(e).__name__}: {e}"
            self.fail("linuxvm setup", self.vm_error)

    def oversub(self, system, ranks):
        return ranks > len(self.cores)

    def run_osu(self, bench, system, ranks, rep, built, bargs):
        what = f"{bench} {system} n={ranks}" + (f" rep {rep}" if self.cfg["reps"] > 1 else "")
        self.progress(what)
        key = ("toro" if system == "toro" else "host", bench)
        if key not in built:
            self.fail(what, "not built (see the build failure)")
            return []
        tpr = MT.get(bench, 1)
        if system == "toro":
            rc, out, err, dt = self.toro_run(ranks, built[key], bargs, self.timeout, tpr=tpr)
        elif system == "host":
            cmd, _ = self.host_mpirun(ranks, built[key], bargs)
            rc, out, err, dt = self.run_cmd(unbind(cmd) if tpr > 1 else cmd, self.timeout, env=self.host_env())
        else:
            lcmd = self.lvm.mpirun_command(ranks, ranks * tpr, "/bench/" + bench, bargs) if self.lvm else []
            lcmd = self.lvm.shell_join(unbind(lcmd) if tpr > 1 else lcmd) if self.lvm else ""
            t0 = time.monotonic()
            rc, out, err, _ = self.linuxvm_run(ranks * tpr, lcmd, self.timeout)
            dt = time.monotonic() - t0
        if rc != 0:
            self.fail(what, f"status {rc}\n{err.strip()}\n{out[-2000:]}")
            return []
        try:
            _, rows = parse_osu(out)
        except OSUParseError as e:
            self.fail(what, f"output not in OSU format: {e}\n{out[-2000:]}")
            return []
        sys.stderr.write(f"    ok, {dt:.1f} s\n")
        accel = "native" if system == "host" else self.accel
        return osu_csv_rows(bench, system, accel, ranks, self.oversub(system, ranks * tpr), rep, rows)

    def run_benchmarks(self, osu, built):
        bargs_of = self.cfg["args"]
        for bench in osu:
            ranks_list = [2] if bench in P2P else [2, 4]
            rows = []
            bargs = bargs_of.get(bench, bargs_of["*"])
            for ranks in ranks_list:
                for rep in range(1, self.cfg["reps"] + 1):
                    order = self.systems[rep - 1:] + self.systems[:rep - 1]  # no system always first
                    for system in order:
                        try:
                            rows += self.run_osu(bench, system, ranks, rep, built, bargs)
                        except Exception:  # recorded; the run goes on
                            self.fail(f"{bench} {system} n={ranks} rep {rep}", traceback.format_exc())
            write_csv(os.path.join(self.out, bench + ".csv"), rows, BENCH_FIELDS)

    def run_floors(self, floors, built):
        rows = []
        for name in floors:
            keys, unit = FLOORS[name]
            keys = (keys,) if isinstance(keys, str) else keys
            ranks = 2 if name in TWO_RANK_FLOORS else 1
            for rep in range(1, self.cfg["reps"] + 1):
                what = f"floor {name} toro n={ranks}" + (f" rep {rep}" if self.cfg["reps"] > 1 else "")
                self.progress(what)
                if ("toro", name) not in built:
                    self.fail(what, "not built")
                    continue
                rc, out, err, dt = self.toro_run(ranks, built[("toro", name)], [], self.timeout)
                try:
                    if rc != 0:
                        raise OSUParseError(f"status {rc}\n{err}")
                    values = {key: parse_floor(out, key) for key in keys}
                except OSUParseError as e:
                    self.fail(what, f"{e}\n{out[-1000:]}")
                    continue
                for key, v in values.items():
                    sys.stderr.write(f"    {key} = {v:g}\n")
                    floor = name if len(keys) == 1 else f"{name}.{key}"
                    rows.append(dict(floor=floor, system="toro", accelerator=self.accel, ranks=ranks, rep=rep,
                                     value=v, unit=unit))
        write_csv(os.path.join(self.out, "floors.csv"), rows, FLOOR_FIELDS)

    def time_process(self, cmd, timeout, marker=None, pin=0):
        """Runs cmd; returns (rc, seconds to the first output line, seconds
        to exit, output). Lines containing marker (an exit escape) do not
        count as output."""
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=self.host_env())
        except OSError as e:
            return 127, None, 0.0, str(e)
        stop, res, th = threading.Event(), [], None
        if pin and not self.args.no_pin:
            th = threading.Thread(target=lambda: res.append(pin_qemu(p.pid, pin, self.cores, stop=stop)), daemon=True)
            th.start()
        first, lines = None, []
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        try:
            for raw in p.stdout:
                line = raw.decode(errors="replace")
                if marker and marker in raw:
                    line = line[:line.find(marker.decode(errors="replace"))]
                if line.strip() and first is None:
                    first = time.monotonic() - t0
                lines.append(line)
            err = p.stderr.read().decode(errors="replace")
            rc = p.wait()
        finally:
            timer.cancel()
            stop.set()
        end = time.monotonic() - t0
        if th:
            th.join()
            self.note_pin(res[0] if res else "pinning: not done")
        self.log("$ " + " ".join(cmd) + f"\nrc={rc} first={first} end={end:.3f}\n" + "".join(lines) + err)
        return rc, first, end, "".join(lines) + err

    def toro_qemu_command(self, image, ranks):
        """The QEMU command toro-run would run for image (no toro-run
        process in between), or None when toro-run's internals changed."""
        try:
            if not self.toro_run_mod:
                self.toro_run_mod = load_script("toro-run")
            m = self.toro_run_mod
            a = m.build_parser().parse_args(["-n", str(ranks), "--mem", self.mem, "--accel", self.accel, image])
            a.mem_bytes = m.parse_size(a.mem, "--mem")
            a.fs_socket = None
            a.vsock = None
            a.qemu_arg = [] if self.args.no_pin else ["-name", "toro,debug-threads=on"]
            cmdline = f"toro.name={m.encode_arg(image)} toro.epoch_ns={time.time_ns()} --"
            return m.qemu_command(a, cmdline)
        except Exception as e:  # toro-run changed: fall back to timing the whole command
            self.log(f"cannot build toro-run's QEMU command directly: {type(e).__name__}: {e}")
            return None

    def run_boot(self, built):
        rows = []
        reps = self.cfg["boot_reps"]
        tmo = 120
        def add(system, program, ranks, rep, rc, first, end, out, expect, what):
            if rc != 0 or (expect and expect not in out):
                self.fail(what, f"status {rc}, output:\n{out[-1500:]}")
                return
            rows.append(dict(system=system, accelerator="native" if system == "host" else self.accel,
                             program=program, ranks=ranks, rep=rep,
                             first_line_s="" if first is None else f"{first:.4f}", exit_s=f"{end:.4f}"))
        empty = os.path.join(ROOT, "build", "empty_pvh.elf")
        for rep in range(1, reps + 1):
            # the floor: QEMU booting a PVH kernel that exits at once (status 0 -> QEMU exit 1)
            if "toro" in self.systems:
                what = f"boot empty_pvh n=1 rep {rep}"
                self.progress(what)
                if os.path.exists(empty):
                    cmd = [toro_accel.qemu_binary(), "-M", "microvm", "-smp", "1", "-m", f"{self.mem_mib}M",
                           "-nodefaults", "-no-reboot", "-display", "none", "-serial", "stdio",
                           "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", empty]
                    cmd += toro_accel.cpu_args(self.accel)
                    rc, first, end, out = self.time_process(cmd, tmo)
                    add("empty_pvh", "empty", 1, rep, 0 if rc == 1 else rc, None, end, out, None, what)
                else:
                    self.fail(what, f"{empty} is missing (make all builds it)")
                for prog, ranks_list, expect in (("hello", (1, 4), "hello from rank"), ("mpi_hello", (2,), "Hello from rank")):
                    for ranks in ranks_list:
                        what = f"boot {prog} toro n={ranks} rep {rep}"
                        self.progress(what)
                        img = built.get(("toro", prog))
                        if not img:
                            self.fail(what, "not built")
                            continue
                        cmd = self.toro_qemu_command(img, ranks)
                        if cmd:
                            rc, first, end, out = self.time_process(cmd, tmo, marker=b"\x1btoro-exit:", pin=ranks)
                            add("toro", prog, ranks, rep, 0 if rc == 1 else rc, first, end, out, expect, what)
                        tr = [os.path.join(SCRIPTS, "toro-run"), "-n", str(ranks), "--mem", self.mem, "--accel", self.accel, img]
                        rc, first, end, out = self.time_process(tr, tmo)
                        add("toro-run", prog, ranks, rep, rc, first, end, out, expect, what + " (toro-run)")
            if "linuxvm" in self.systems:
                for prog, ranks_list in (("hello", (1, 4)), ("mpi_hello", (2,))):
                    for ranks in ranks_list:
                        what = f"boot {prog} linuxvm n={ranks} rep {rep}"
                        self.progress(what)
                        if prog == "hello":
                            sh, expect = "echo hello from rank 0", "hello from rank"
                        else:
                            sh = self.lvm.shell_join(self.lvm.mpirun_command(ranks, ranks, "/bench/mpi_hello")) if self.lvm else ""
                            expect = "Hello from rank"
                        rc, out, err, r = self.linuxvm_run(ranks, sh, tmo)
                        if r is None:
                            self.fail(what, err)
                            continue
                        add("linuxvm", prog, ranks, rep, rc, r.t_first, r.t_end, out + err, expect, what)
            if "host" in self.systems:
                for prog, ranks in (("hello", 1), ("mpi_hello", 2)):
                    what = f"start {prog} host n={ranks} rep {rep}"
                    self.progress(what)
                    exe = built.get(("host", prog))
                    if not exe:
                        self.fail(what, "not built")
                        continue
                    cmd = [exe] if prog == "hello" else self.host_mpirun(ranks, exe, [])[0]
                    rc, first, end, out = self.time_process(cmd, tmo)
                    add("host", prog, ranks, rep, rc, first, end, out, "ello from rank", what)
        write_csv(os.path.join(self.out, "boot.csv"), rows, BOOT_FIELDS)

    def run_size(self, built):
        rows = []
        self.progress("image sizes")
        for prog in ("hello", "mpi_hello", "osu_latency"):
            img = built.get(("toro", prog))
            if not img:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                s = os.path.join(tmp, "image.elf")
                p = subprocess.run(["strip", "-o", s, img], capture_output=True, text=True)  # binutils: toro-mpicc needs it
                if p.returncode == 0:
                    rows.append(dict(system="toro", item=f"{prog} image, stripped (kernel + program)",
                                     bytes=os.path.getsize(s)))
                else:
                    self.fail(f"size of {prog}", p.stderr)
        if self.vm:
            rows.append(dict(system="linuxvm", item="kernel (vmlinuz)", bytes=os.path.getsize(self.vm.kernel)))
            base = self.lvm.build_base(self.vm.cache, self.vm.manifest)
            rows.append(dict(system="linuxvm", item="initramfs (busybox + Open MPI, gzip)", bytes=os.path.getsize(base)))
        exe = built.get(("host", "hello"))
        if exe:
            with tempfile.TemporaryDirectory() as tmp:
                s = os.path.join(tmp, "hello")
                if subprocess.run(["strip", "-o", s, exe]).returncode == 0:
                    rows.append(dict(system="host", item="hello binary, stripped (dynamic, mpicc)", bytes=os.path.getsize(s)))
        write_csv(os.path.join(self.out, "size.csv"), rows, SIZE_FIELDS)

    def run_mem(self, built):
        rows = []
        img = built.get(("toro", "hello"))
        if "toro" in self.systems and img:
            for ranks in (1, 2, 4):
                self.progress(f"smallest --mem toro hello n={ranks}")
                def ok(mib):
                    rc, out, err, _ = self.toro_run(ranks, img, [], 60, mem=f"{mib}M")
                    return rc == 0 and out.count("hello from rank") == ranks
                v = bisect_min(ok, 2, self.mem_mib)
                if v is None:
                    self.fail(f"smallest --mem toro n={ranks}", f"hello does not run even with {self.mem}")
                    continue
                sys.stderr.write(f"    {v} MiB\n")
                rows.append(dict(system="toro", accelerator=self.accel, program="hello", ranks=ranks, min_mem_mib=v))
        if "linuxvm" in self.systems and self.vm:
            cases = [("hello", 1)] + ([("mpi_hello", 2)] if self.mode == "full" else [])
            for prog, ranks in cases:
                self.progress(f"smallest --mem linuxvm {prog} n={ranks}")
                sh = "echo hello from rank 0" if prog == "hello" else \
                    self.lvm.shell_join(self.lvm.mpirun_command(ranks, ranks, "/bench/mpi_hello"))
                def ok(mib):
                    rc, out, err, r = self.linuxvm_run(ranks, sh, 60, mem_mib=mib)
                    return rc == 0 and out.lower().count("hello from rank") == ranks
                v = bisect_min(ok, 32, self.mem_mib)
                if v is None:
                    self.fail(f"smallest --mem linuxvm {prog} n={ranks}", f"does not run even with {self.mem}")
                    continue
                sys.stderr.write(f"    {v} MiB\n")
                rows.append(dict(system="linuxvm", accelerator=self.accel, program=prog, ranks=ranks, min_mem_mib=v))
        write_csv(os.path.join(self.out, "mem.csv"), rows, MEM_FIELDS)

    def count_steps(self, osu, floors):
        n = 0
        for b in osu:
            n += (1 if b in P2P else 2) * self.cfg["reps"] * len(self.systems)
        n += len(floors) * self.cfg["reps"] if "toro" in self.systems else 0
        if not self.args.skip_boot:
            per = (1 + 3 if "toro" in self.systems else 0) + (3 if "linuxvm" in self.systems else 0) + \
                  (2 if "host" in self.systems else 0)
            n += per * self.cfg["boot_reps"]
        n += 1  # sizes
        if not self.args.skip_mem:
            n += (3 if "toro" in self.systems else 0) + \
                 ((2 if self.mode == "full" else 1) if "linuxvm" in self.systems else 0)
        return n

    def main(self):
        t_start = time.monotonic()
        info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                "mode": self.mode, "reps": self.cfg["reps"], "accel": self.accel, "mem": self.mem,
                "command": " ".join(["scripts/toro-bench"] + sys.argv[1:]), "cores": self.cores,
                "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg())}
        osu, floors = self.discover()
        sys.stderr.write(f"toro-bench ({self.mode}): {len(osu)} benchmarks ({', '.join(osu)}), floors: "
                         f"{', '.join(floors) or 'none'}; systems: {', '.join(self.systems)}; accelerator {self.accel}; "
                         f"host cores {self.cores}; log in {os.path.join(self.out, 'bench.log')}\n")
        built = self.build_all(osu, floors)
        self.setup_linuxvm(built)
        if self.vm:
            info["linuxvm"] = (f"{self.vm.manifest['kernel_package']} {self.vm.manifest['kernel_version']}, "
                               f"busybox-static {self.vm.manifest['busybox_version']}, initramfs "
                               f"{os.path.basename(self.vm.initrd)}")
            info["tsc_khz"] = self.vm.tsc_khz
        self.total = self.count_steps(osu, floors)
        phases = [("benchmarks", lambda: self.run_benchmarks(osu, built))]
        if "toro" in self.systems:
            phases.append(("floors", lambda: self.run_floors(floors, built)))
        if not self.args.skip_boot:
            phases.append(("boot times", lambda: self.run_boot(built)))
        phases.append(("image sizes", lambda: self.run_size(built)))
        if not self.args.skip_mem:
            phases.append(("smallest --mem", lambda: self.run_mem(built)))
        for name, phase in phases:
            try:
                phase()
            except Exception:  # recorded; the next phase goes on
                self.fail(name, traceback.format_exc())
        pinned = sum(1 for p in self.pin_results if p.startswith("pinned"))
        info["pinning"] = ("off (--no-pin)" if self.args.no_pin else
                           f"{pinned} of {len(self.pin_results)} QEMU runs pinned (vCPU n -> core n mod {len(self.cores)})")
        if not self.args.no_pin and pinned < len(self.pin_results):
            self.notes.append(f"vCPU pinning failed in {len(self.pin_results) - pinned} QEMU run(s); see bench.log")
        elapsed = time.monotonic() - t_start
        info["elapsed"] = f"{elapsed / 60:.1f} min"
        info["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        write_env(self.out, info)
        finish(self.out, self.failures, self.notes, self.mode)
        sys.stderr.write(f"toro-bench: done in {elapsed / 60:.1f} min; results in {self.out}\n")
        if self.failures:
            sys.stderr.write("toro-bench: these failed:\n" + "".join(f"  {f}\n" for f in self.failures))
            return 1
        return 0
