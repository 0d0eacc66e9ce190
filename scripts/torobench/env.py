"""ENV.md: the facts of the host and of the run."""
import os
import platform
import re
import shutil
import subprocess

from .config import ROOT


# ---------------------------------------------------------------- host facts

def cmd_out(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30, errors="replace")
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"({' '.join(cmd)}: {e})"


def write_env(out, info):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    topo = ""
    for cmd in (["lstopo-no-graphics", "--of", "console"], ["hwloc-ls", "--of", "console"]):
        if shutil.which(cmd[0]):
            topo = cmd_out(cmd)
            break
    commit = cmd_out(["git", "-C", ROOT, "rev-parse", "HEAD"])
    dirty = cmd_out(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    lines = [
        "# Environment of this benchmark run", "",
        f"- date: {info.get('date')}",
        f"- mode: {info.get('mode')} ({info.get('reps')} repetition(s) per benchmark, interleaved)",
        f"- command: `{info.get('command')}`",
        f"- git commit: {commit}{' (working tree has uncommitted changes)' if dirty else ''}",
        f"- CPU: {cpu}; {os.cpu_count()} logical CPUs; cores used for pinning: {info.get('cores')}",
        f"- host kernel: {' '.join(platform.uname()[0:3])} {platform.uname().version}",
        f"- QEMU: {cmd_out(['qemu-system-x86_64', '--version']).splitlines()[0]}",
        f"- accelerator: {info.get('accel')} (the Linux VM and Toro use the same one; host is native)",
        f"- Open MPI (host and Linux VM): {cmd_out(['mpirun', '--version']).splitlines()[0]}",
        f"- Linux VM: {info.get('linuxvm', 'not used')}",
        f"- host TSC: {info.get('tsc_khz', '?')} kHz",
        f"- guest memory: {info.get('mem')} for Toro and the Linux VM",
        f"- vCPU pinning: {info.get('pinning', '?')}",
        f"- load average at start / end: {info.get('load_start')} / {info.get('load_end')}",
        f"- run time: {info.get('elapsed', '?')}",
        "",
        "Noise: this machine has " + str(os.cpu_count()) + " cores and is shared with other jobs (tests run by "
        "other sessions at the same time), so repeated runs vary, sometimes by 2x or more. 4-rank runs put "
        "4 vCPUs (or 4 host ranks) on 2 cores: they are oversubscribed and marked so in the CSVs. Under TCG "
        "the absolute numbers are those of an emulator; compare only ratios within one run.",
        "",
        "## hwloc topology", "", "```", topo or "(hwloc not installed)", "```", "",
    ]
    with open(os.path.join(out, "ENV.md"), "w") as f:
        f.write("\n".join(lines))
