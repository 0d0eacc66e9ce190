"""Which accelerator a Toro job (and the Linux reference VM) runs on.

KVM is used only when a probe shows that it really runs a guest: a
`/dev/kvm` that opens is no proof (a nested, paravirtual KVM may start
QEMU and then fail the guest's first SSE instruction with "KVM internal
error. Suberror: 1"). The probe boots a 320-byte PVH kernel that turns
on SSE, adds two vectors in memory and reports the result through
isa-debug-exit. Its answer is cached per host kernel and QEMU version in
~/.cache/toro/kvm-probe.json ($XDG_CACHE_HOME/toro), so only the first
job on a machine pays for it (about 0.1 s where KVM works, at most
PROBE_TIMEOUT seconds where it hangs).

Environment: TORO_ACCEL=auto|kvm|tcg sets the default of --accel;
TORO_QEMU names the QEMU binary (default qemu-system-x86_64);
TORO_KVM_DEVICE the KVM device (default /dev/kvm; tests point it at a
fake one)."""
import json
import os
import select
import struct
import subprocess
import time

ACCELS = ("auto", "kvm", "tcg")
PROBE_TIMEOUT = 10      # seconds; a working KVM answers in about 0.1 s
PROBE_STATUS = 0x2a     # what the probe writes when the sum was right

# QEMU 7.2 with plain -cpu host copies the host's IA32_ARCH_CAPABILITIES
# (MSR 0x10a) into the guest and aborts when KVM refuses the value
# ("failed to set MSR 0x10a"). Toro does not read that MSR; every CPUID
# feature it uses (SSE/AVX, invariant TSC, x2APIC, 1 GiB pages) stays.
KVM_CPU = ["-accel", "kvm", "-cpu", "host,-arch-capabilities"]
TCG_CPU = ["-accel", "tcg,thread=multi", "-cpu", "max"]

# 32-bit code, entered in protected mode without paging (PVH):
#   mov %cr0,%eax; and $~4,%eax; or $2,%eax; mov %eax,%cr0   (FPU on: EM off, MP on)
#   mov %cr4,%eax; or $0x600,%eax; mov %eax,%cr4             (OSFXSR | OSXMMEXCPT)
#   movups one,%xmm0; addps %xmm0,%xmm0; movups %xmm0,two
#   cmpl $0x40000000,two+12; jne 1f                           (1.0 + 1.0 == 2.0f)
#   mov $0x2a,%eax; out %eax,$0xf4
#   1: mov $0x15,%eax; out %eax,$0xf4; 2: hlt; jmp 2b
# then, 16-byte aligned: one = 4 x 1.0f, two = 4 x 0.
PROBE_BASE, PROBE_NOTE, PROBE_ENTRY = 0x100000, 0xb0, 0xd0
PROBE_CODE = bytes.fromhex(
    "0f20c083e0fb83c8020f22c00f20e00d000600000f22e00f1005200110000f58"
    "c00f110530011000813d3c011000000000407507b82a000000e7f4b815000000"
    "e7f4f4ebfd8db426000000008d742600"
    "0000803f0000803f0000803f0000803f00000000000000000000000000000000")


def probe_image():
    """The probe kernel as an ELF64 file: one PT_LOAD at 1 MiB and the
    PT_NOTE with XEN_ELFNOTE_PHYS32_ENTRY (18) that makes QEMU boot it
    through PVH. QEMU reads the entry as a 64-bit value."""
    note = struct.pack("<III", 4, 8, 18) + b"Xen\0" + struct.pack("<Q", PROBE_BASE + PROBE_ENTRY)
    size = PROBE_ENTRY + len(PROBE_CODE)
    ehdr = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 2, 62, 1, PROBE_BASE + PROBE_ENTRY, 64, 0, 0, 64, 56, 2, 64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 7, 0, PROBE_BASE, PROBE_BASE, size, size, 0x1000)
    pnote = struct.pack("<IIQQQQQQ", 4, 4, PROBE_NOTE, PROBE_BASE + PROBE_NOTE, PROBE_BASE + PROBE_NOTE,
                        len(note), len(note), 4)
    img = (ehdr + load + pnote).ljust(PROBE_NOTE, b"\0") + note
    return img.ljust(PROBE_ENTRY, b"\0") + PROBE_CODE


def qemu_binary():
    return os.environ.get("TORO_QEMU", "qemu-system-x86_64")


def kvm_device():
    return os.environ.get("TORO_KVM_DEVICE", "/dev/kvm")


def cache_file():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "toro", "kvm-probe.json")


def cache_key(qemu):
    """Host kernel, QEMU version and the KVM device: what the answer depends on."""
    try:
        out = subprocess.run([qemu, "--version"], capture_output=True, text=True, timeout=10).stdout
        version = out.splitlines()[0] if out else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        version = "unknown"
    u = os.uname()
    return f"{u.release} {u.version} | {qemu}: {version} | {kvm_device()}"


def read_cache():
    try:
        with open(cache_file()) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_cache(key, ok, reason):
    data = read_cache()
    data[key] = {"kvm": ok, "reason": reason, "probed": time.strftime("%Y-%m-%d %H:%M:%S")}
    path = cache_file()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)
    except OSError:
        pass  # no cache: the next job probes again


def probe_kvm(qemu, workdir):
    """Boots the probe under KVM. Returns (True, "") or (False, why)."""
    path = os.path.join(workdir, "kvm-probe.elf")
    with open(path, "wb") as f:
        f.write(probe_image())
    cmd = [qemu, "-M", "microvm", *KVM_CPU, "-m", "16M", "-smp", "1", "-nodefaults", "-no-reboot",
           "-display", "none", "-serial", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-kernel", path]
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as e:
        return False, f"cannot start {qemu}: {e.strerror}"
    err, deadline = b"", time.monotonic() + PROBE_TIMEOUT
    try:
        while proc.poll() is None and b"KVM internal error" not in err:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if select.select([proc.stderr], [], [], min(left, 0.1))[0]:
                err += os.read(proc.stderr.fileno(), 65536)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()
    first = next((l.strip() for l in err.decode(errors="replace").splitlines() if l.strip()), "")
    if proc.returncode == (PROBE_STATUS << 1) | 1:
        return True, ""
    if "KVM internal error" in first:
        return False, f"the probe guest stopped with '{first}'"
    if proc.returncode < 0 and not first:
        return False, f"the probe guest did not finish within {PROBE_TIMEOUT} s"
    return False, f"QEMU ended the probe with status {proc.returncode}" + (f": {first}" if first else "")


def kvm_works(qemu, workdir):
    """(ok, reason): whether KVM runs guests here, from the cache or a probe."""
    dev = kvm_device()
    if not os.path.exists(dev):
        return False, f"{dev} is missing"
    if not os.access(dev, os.R_OK | os.W_OK):
        return False, f"no read/write access to {dev}"
    key = cache_key(qemu)
    hit = read_cache().get(key)
    if isinstance(hit, dict) and isinstance(hit.get("kvm"), bool):
        return hit["kvm"], hit.get("reason", "")
    ok, reason = probe_kvm(qemu, workdir)
    write_cache(key, ok, reason)
    return ok, reason


class AccelError(Exception):
    """--accel kvm where KVM cannot run guests (toro-run: status 125)."""


def default_accel():
    return os.environ.get("TORO_ACCEL", "auto") or "auto"


def choose(requested, workdir, warn):
    """The accelerator for `requested` (auto, kvm, tcg, or None for
    TORO_ACCEL's default). Calls warn(line) once when auto falls back to
    TCG; raises AccelError when kvm is asked for and does not work, or
    ValueError for a bad TORO_ACCEL."""
    accel = requested or default_accel()
    if accel not in ACCELS:
        raise ValueError(f"TORO_ACCEL={accel}: expected one of {', '.join(ACCELS)}")
    if accel == "tcg":
        return "tcg"
    ok, reason = kvm_works(qemu_binary(), workdir)
    if ok:
        return "kvm"
    if accel == "kvm":
        raise AccelError(f"--accel kvm: {kvm_device()} cannot run guests here ({reason})")
    dev = kvm_device()
    if not os.path.exists(dev):
        warn(f"{dev} is missing; using TCG")
    else:
        warn(f"{dev} cannot run guests here ({reason}); using TCG")
    return "tcg"


def cpu_args(accel):
    return list(KVM_CPU if accel == "kvm" else TCG_CPU)
