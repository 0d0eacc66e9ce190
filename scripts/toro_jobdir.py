"""Where a toro-run job keeps its sockets and logs (virtiofsd's and the
vsock backend's) while it runs: one folder per job,

    $XDG_RUNTIME_DIR/toro/job.PID.START   (or /tmp/toro-UID/job.PID.START)

named after toro-run's process id and its start time (so that a reused
pid is not mistaken for the old job). A job removes its folder when it
ends by any path it can see; one killed outright (SIGKILL) leaves it, and
the next toro-run, or `toro-run --cleanup`, removes every folder whose
process is gone."""
import os
import re
import shutil
import socket
import glob

# root + "/job.PID.START/virtiofsd.sock" must fit in sun_path (108 bytes).
MAX_ROOT = 107 - len("/job.4194304.18446744073709551615/virtiofsd.sock")
JOB_RE = re.compile(r"^job\.(\d+)\.(\d+)$")
# What toro-run made before job folders existed (mkdtemp in /tmp).
LEGACY = ("toro-fs.*", "toro-vsock.*")


class JobDirError(Exception):
    pass


def root():
    """$XDG_RUNTIME_DIR/toro, unless that is too long for the sockets in
    it (a Unix socket path has at most 107 bytes): then /tmp/toro-UID."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isdir(base) and len(os.path.join(base, "toro")) <= MAX_ROOT:
        return os.path.join(base, "toro")
    return os.path.join("/tmp", f"toro-{os.getuid()}")


def start_time(pid):
    """The process's start time in clock ticks since boot (/proc/PID/stat
    field 22), or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[19])


def own_root():
    """The root folder, made private to this user; refuses one that is
    someone else's or a symbolic link."""
    path = root()
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError as e:
        raise JobDirError(f"cannot make {path}: {e.strerror}")
    if os.path.islink(path) or st.st_uid != os.getuid():
        raise JobDirError(f"{path} is not a folder of this user; remove it")
    return path


def sweep(path=None):
    """Removes the folders of jobs whose toro-run is gone; returns them."""
    path = path or root()
    removed = []
    try:
        names = os.listdir(path)
    except OSError:
        return removed
    for name in names:
        m = JOB_RE.match(name)
        if not m or start_time(int(m.group(1))) == int(m.group(2)):
            continue
        shutil.rmtree(os.path.join(path, name), True)
        removed.append(os.path.join(path, name))
    return removed


def socket_in_use(path):
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(path)
            return True
        except OSError:
            return False


def sweep_legacy():
    """The /tmp folders of older toro-run versions whose sockets nobody
    serves any more (folders of this user only)."""
    removed = []
    for d in sorted(set(p for pat in LEGACY for p in glob.glob(os.path.join("/tmp", pat)))):
        try:
            if os.lstat(d).st_uid != os.getuid() or os.path.islink(d):
                continue
        except OSError:
            continue
        socks = glob.glob(os.path.join(d, "*.sock"))
        if not any(socket_in_use(s) for s in socks):
            shutil.rmtree(d, True)
            removed.append(d)
    return removed


def make():
    """This job's folder (after sweeping stale ones)."""
    path = own_root()
    sweep(path)
    me = os.getpid()
    job = os.path.join(path, f"job.{me}.{start_time(me)}")
    os.makedirs(job, mode=0o700, exist_ok=True)
    return job
