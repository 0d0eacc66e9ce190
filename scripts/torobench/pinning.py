"""Host cores and QEMU vCPU thread pinning; mpirun without core binding."""
import os
import re
import shutil
import subprocess
import time


# ---------------------------------------------------------------- host facts

def host_cores():
    """OS indices of one PU per core we may run on: hwloc-calc when there,
    else the affinity mask."""
    allowed = sorted(os.sched_getaffinity(0))
    if shutil.which("hwloc-calc"):
        try:
            n = int(subprocess.run(["hwloc-calc", "-N", "core", "all"], capture_output=True, text=True,
                                   timeout=10).stdout.strip())
            cores = []
            for i in range(n):
                p = subprocess.run(["hwloc-calc", "--po", "-I", "pu", f"core:{i}"], capture_output=True,
                                   text=True, timeout=10)
                pus = [int(x) for x in p.stdout.strip().split(",") if x.strip().isdigit()]
                pus = [x for x in pus if x in allowed]
                if pus:
                    cores.append(pus[0])
            if cores:
                return cores
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
    return allowed


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rfind(")") + 2:].split()
        if fields and int(fields[1]) == pid:
            out.append((int(d), st[st.find("(") + 1:st.rfind(")")]))
    return out


def vcpu_threads(qpid):
    """{vCPU index: thread id} of a QEMU started with -name X,debug-threads=on."""
    out = {}
    try:
        for tid in os.listdir(f"/proc/{qpid}/task"):
            try:
                with open(f"/proc/{qpid}/task/{tid}/comm") as f:
                    m = re.match(r"CPU (\d+)/(TCG|KVM)", f.read())
            except OSError:
                continue
            if m:
                out[int(m.group(1))] = int(tid)
    except OSError:
        pass
    return out


def pin_qemu(qpid, vcpus, cores, timeout=15.0, stop=None):
    """Pins vCPU n of QEMU qpid to cores[n % len(cores)]; returns a line
    saying what was done, or why not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        th = vcpu_threads(qpid)
        if len(th) >= vcpus:
            try:
                for n, tid in sorted(th.items()):
                    os.sched_setaffinity(tid, {cores[n % len(cores)]})
            except OSError as e:
                return f"pinning failed: {e}"
            return "pinned " + ", ".join(f"vCPU {n}->core {cores[n % len(cores)]}" for n in sorted(th))
        time.sleep(0.005)
    return f"pinning failed: QEMU {qpid} showed no {vcpus} 'CPU n/TCG' threads"


def pin_child_qemu(parent, vcpus, cores, stop, result):
    """For toro-run: waits for its QEMU child, then pins it."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not stop.is_set():
        q = [pid for pid, comm in children_of(parent) if comm.startswith("qemu")]
        if q:
            result.append(pin_qemu(q[0], vcpus, cores, stop=stop))
            return
        time.sleep(0.005)
    result.append("pinning failed: toro-run started no QEMU")


def unbind(cmd):
    """An mpirun line with --bind-to none: a rank's threads may use any core."""
    out, skip = [], False
    for w in cmd:
        if skip:
            skip = False
        elif w == "--bind-to":
            skip = True
        else:
            out.append(w)
    i = out.index("-np")
    return out[:i] + ["--bind-to", "none"] + out[i:]
