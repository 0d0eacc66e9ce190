"""What every part of toro-bench shares: the folders, the systems, the
benchmark groups, the CSV fields, the sizes and counts of each mode."""
import importlib.machinery
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts")
SYSTEMS = ["toro", "linuxvm", "host"]
RMA = {"osu_put_latency", "osu_get_latency", "osu_put_bw", "osu_get_bw", "osu_acc_latency"}
# threads per rank of the MPI_THREAD_MULTIPLE programs (-t T:T): toro-run
# --threads-per-rank T, a Linux VM of 2 x T vCPUs, mpirun --bind-to none
MT = {"osu_latency_mt": 2}
P2P = {"osu_latency", "osu_bw", "osu_bibw"} | RMA | set(MT)
FLOORS = {"bounce": ("bounce_half_rtt_ns", "ns"), "memcpy_bw": ("memcpy_bw_mbs", "MB/s"),
          # one 8-byte MPI round trip split with the TSC (bench/rtt_breakdown.c)
          "rtt_breakdown": (("floor_rtt_ns", "ring_rtt_ns", "mpi_rtt_ns", "library_ns", "send_ns",
                             "recv_arrived_ns", "wait_ns"), "ns")}
TWO_RANK_FLOORS = {"bounce", "rtt_breakdown"}

BENCH_FIELDS = ["benchmark", "system", "accelerator", "ranks", "oversubscribed", "rep",
                "size", "avg_us", "min_us", "max_us", "mbs", "iterations"]
FLOOR_FIELDS = ["floor", "system", "accelerator", "ranks", "rep", "value", "unit"]
BOOT_FIELDS = ["system", "accelerator", "program", "ranks", "rep", "first_line_s", "exit_s"]
SIZE_FIELDS = ["system", "item", "bytes"]
MEM_FIELDS = ["system", "accelerator", "program", "ranks", "min_mem_mib"]

MODES = {
    # sizes and counts per mode: options passed to every bench program
    "quick": {
        "reps": 1, "boot_reps": 3, "timeout": 240,
        "args": {"osu_latency": ["-m", "0:1048576", "-i", "100", "-x", "10"],
                 "osu_latency_mt": ["-m", "0:65536", "-i", "100", "-x", "10", "-t", "2:2"],
                 "osu_bw": ["-m", "1:1048576", "-i", "10", "-x", "2"],
                 "osu_bibw": ["-m", "1:1048576", "-i", "10", "-x", "2"],
                 "osu_barrier": ["-i", "100", "-x", "10", "-f"],
                 **{b: ["-m", "0:65536", "-i", "100", "-x", "10"] for b in RMA},
                 "*": ["-m", "1:65536", "-i", "50", "-x", "5", "-f"]},
    },
    "full": {
        # 4-rank collectives in the Linux VM take ~10 ms an operation here
        # (4 busy-polling vCPUs on 2 cores): 100 iterations keep the run near 30 min.
        "reps": 3, "boot_reps": 7, "timeout": 600,
        "args": {"osu_latency": ["-m", "0:4194304"],
                 "osu_latency_mt": ["-m", "0:1048576", "-t", "2:2"],
                 "osu_bw": ["-m", "1:4194304"],
                 "osu_bibw": ["-m", "1:4194304"],
                 "osu_barrier": ["-i", "1000", "-x", "100", "-f"],
                 **{b: ["-m", "0:1048576"] for b in RMA},
                 "*": ["-m", "1:1048576", "-i", "100", "-x", "10", "-f"]},
    },
}


def load_script(name):
    """Imports scripts/NAME (no .py suffix) as a module."""
    path = os.path.join(SCRIPTS, name)
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod
