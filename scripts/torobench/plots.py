"""The matplotlib plots, the headline ratios, the goals table and summary.md."""
import os
import statistics
import sys
import textwrap

from .config import FLOORS, SYSTEMS
from .osu import bench_value_field, medians, num, read_csv


# ---------------------------------------------------------------- plots

COLORS = {"toro": "tab:blue", "linuxvm": "tab:orange", "host": "tab:green", "empty_pvh": "tab:gray",
          "toro-run": "tab:cyan"}
LABELS = {"toro": "Toro (microVM)", "linuxvm": "Linux VM + Open MPI", "host": "host Open MPI",
          "empty_pvh": "empty PVH kernel", "toro-run": "Toro (toro-run command)"}


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


PLOT_ORDER = ["empty_pvh", "toro", "toro-run", "linuxvm", "host"]


def _systems(rows):
    present = {r["system"] for r in rows}
    return [s for s in PLOT_ORDER if s in present] + sorted(present - set(PLOT_ORDER))


def plot_vs_size(path, title, rows, floors=(), accel=""):
    """One panel per rank count: the median value against message size,
    log axes, one line per system; floors as horizontal lines. Returns path."""
    plt = _plt()
    field = bench_value_field(rows)
    ylabel = "bandwidth (MB/s)" if field == "mbs" else "latency (us)"
    med = medians(rows, field)
    ranks = sorted({int(r["ranks"]) for r in rows})
    fig, axes = plt.subplots(1, len(ranks), figsize=(6.4 * len(ranks), 4.6), squeeze=False)
    for ax, n in zip(axes[0], ranks):
        for s in _systems(rows):
            pts = sorted((int(k[2]), v) for k, v in med.items() if k[0] == s and k[1] == str(n) and k[2] != ""
                         and int(k[2]) > 0)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3,
                        color=COLORS.get(s), label=LABELS.get(s, s))
        for label, value in floors:
            ax.axhline(value, color="black", ls="--", lw=1, label=label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("message size (bytes)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title}, {n} ranks" + (f" ({accel})" if accel else ""))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_bars(path, title, groups, ylabel, log=False):
    """Grouped bars: groups is [(group label, {series: value})]. Returns path."""
    plt = _plt()
    series = []
    for _, vals in groups:
        for s in vals:
            if s not in series:
                series.append(s)
    fig, ax = plt.subplots(figsize=(max(6.4, 1.4 * len(groups) + 2), 4.6))
    width = 0.8 / max(1, max(len(vals) for _, vals in groups))
    for s in series:
        # each group's bars are centred on it, whichever series it has
        xs, ys = [], []
        for g, (_, vals) in enumerate(groups):
            if s in vals:
                present = [x for x in series if x in vals]
                xs.append(g + (present.index(s) - (len(present) - 1) / 2) * width)
                ys.append(vals[s])
        bars = ax.bar(xs, ys, width, label=LABELS.get(s, s), color=COLORS.get(s))
        for b, y in zip(bars, ys):
            ax.annotate(f"{y:.3g}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g for g, _ in groups], fontsize=8)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def floor_values(floor_rows):
    """{floor name: median value} from floors.csv rows."""
    out = {}
    for (name,), v in medians(floor_rows, "value", ("floor",)).items():
        out[name] = v
    return out


def make_plots(out):
    """All plots from the CSVs in out; returns the PNG paths written."""
    written = []
    floors = floor_values(read_csv(os.path.join(out, "floors.csv"))) if os.path.exists(os.path.join(out, "floors.csv")) else {}
    accel = ""
    for name in sorted(os.listdir(out)):
        if not (name.startswith("osu_") and name.endswith(".csv")):
            continue
        bench = name[:-4]
        rows = read_csv(os.path.join(out, name))
        if not rows:
            continue
        accel = next((r["accelerator"] for r in rows if r["system"] != "host"), accel)
        title = bench.replace("osu_", "")
        png = os.path.join(out, bench + ".png")
        if all(r.get("size", "") == "" for r in rows):  # barrier: one value per system and rank count
            med = medians(rows, "avg_us", ("ranks", "system"))
            groups = [(f"{n} ranks", {s: v for (rk, s), v in med.items() if rk == n})
                      for n in sorted({k[0] for k in med}, key=int)]
            written.append(plot_bars(png, f"{title} latency (median, {accel})", groups, "latency (us)", log=True))
            continue
        fl = []
        if bench == "osu_latency" and "bounce" in floors:
            fl.append((f"floor: Toro bus bounce, half round trip ({floors['bounce'] / 1000:.3g} us)", floors["bounce"] / 1000))
        if bench in ("osu_bw", "osu_bibw") and "memcpy_bw" in floors:
            fl.append((f"floor: memcpy inside Toro ({floors['memcpy_bw']:.0f} MB/s)", floors["memcpy_bw"]))
        written.append(plot_vs_size(png, title, rows, fl, accel))
    boot = os.path.join(out, "boot.csv")
    if os.path.exists(boot):
        rows = read_csv(boot)
        groups = []
        for key in sorted({(r["program"], r["ranks"]) for r in rows}, key=lambda k: (k[0], int(k[1]))):
            vals = {}
            for s in _systems(rows):
                xs = [num(r["exit_s"]) for r in rows if (r["program"], r["ranks"]) == key and r["system"] == s]
                xs = [x for x in xs if x is not None]
                if xs:
                    vals[s] = statistics.median(xs)
            if vals:
                groups.append((f"{key[0]}\n{key[1]} rank(s)", vals))
        if groups:
            written.append(plot_bars(os.path.join(out, "boot.png"),
                                     "start to exit, wall time (median)", groups, "seconds", log=True))
    size = os.path.join(out, "size.csv")
    if os.path.exists(size):
        rows = read_csv(size)
        groups = [(textwrap.fill(r["item"], 22), {r["system"]: int(r["bytes"]) / 1024}) for r in rows]
        if groups:
            written.append(plot_bars(os.path.join(out, "size.png"), "image size", groups, "KiB", log=True))
    return written


# ---------------------------------------------------------------- ratios

def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def headline(out):
    """The headline figures: [(what, unit, better, toro, linuxvm, host)]
    from the CSVs in out (medians over repetitions)."""
    lines = []
    def bench_point(bench, field, ranks, size, what, unit, better):
        path = os.path.join(out, bench + ".csv")
        if not os.path.exists(path):
            return
        med = medians(read_csv(path), field)
        vals = {s: med.get((s, str(ranks), str(size))) for s in SYSTEMS}
        if any(v is not None for v in vals.values()):
            lines.append((what, unit, better, vals["toro"], vals["linuxvm"], vals["host"]))
    bench_point("osu_latency", "avg_us", 2, 8, "latency, 8 B, 2 ranks", "us", "lower")
    bench_point("osu_latency", "avg_us", 2, 1048576, "latency, 1 MiB, 2 ranks", "us", "lower")
    bench_point("osu_latency_mt", "avg_us", 2, 8, "multi-threaded latency (2:2 threads), 8 B, 2 ranks", "us", "lower")
    bench_point("osu_bw", "mbs", 2, 1048576, "bandwidth, 1 MiB, 2 ranks", "MB/s", "higher")
    bench_point("osu_bibw", "mbs", 2, 1048576, "bi-bandwidth, 1 MiB, 2 ranks", "MB/s", "higher")
    bench_point("osu_put_latency", "avg_us", 2, 8, "MPI_Put latency, 8 B, 2 ranks", "us", "lower")
    bench_point("osu_get_latency", "avg_us", 2, 8, "MPI_Get latency, 8 B, 2 ranks", "us", "lower")
    bench_point("osu_acc_latency", "avg_us", 2, 8, "MPI_Accumulate latency, 8 B, 2 ranks", "us", "lower")
    bench_point("osu_put_bw", "mbs", 2, 65536, "MPI_Put bandwidth, 64 KiB, 2 ranks", "MB/s", "higher")
    bench_point("osu_allreduce", "avg_us", 4, 8, "allreduce, 8 B, 4 ranks", "us", "lower")
    bench_point("osu_allreduce", "avg_us", 2, 8, "allreduce, 8 B, 2 ranks", "us", "lower")
    bench_point("osu_bcast", "avg_us", 4, 8, "bcast, 8 B, 4 ranks", "us", "lower")
    bench_point("osu_alltoall", "avg_us", 4, 8, "alltoall, 8 B, 4 ranks", "us", "lower")
    bench_point("osu_barrier", "avg_us", 4, "", "barrier, 4 ranks", "us", "lower")
    boot = os.path.join(out, "boot.csv")
    if os.path.exists(boot):
        rows = read_csv(boot)
        for prog, ranks, what in (("hello", "1", "boot to exit, hello, 1 rank"),
                                  ("mpi_hello", "2", "start to exit, MPI hello, 2 ranks")):
            med = medians([r for r in rows if r["program"] == prog and r["ranks"] == ranks], "exit_s", ("system",))
            vals = {s: med.get((s,)) for s in SYSTEMS}
            if any(v is not None for v in vals.values()):
                lines.append((what, "s", "lower", vals["toro"], vals["linuxvm"], vals["host"]))
    return lines


# Issue 14's goals: (what, benchmark, ranks, size, at most this ratio to the Linux VM)
GOALS = [("8-byte latency", "osu_latency", 2, 8, 0.5),
         ("1 KiB latency", "osu_latency", 2, 1024, 0.5),
         ("8 KiB latency", "osu_latency", 2, 8192, 0.5),
         ("2-rank allreduce, 8 B", "osu_allreduce", 2, 8, 0.5),
         ("2-rank barrier", "osu_barrier", 2, "", 0.5),
         ("2-rank bcast, 8 B", "osu_bcast", 2, 8, 0.5),
         ("4-rank allreduce, 8 B", "osu_allreduce", 4, 8, None),
         ("4-rank barrier", "osu_barrier", 4, "", None),
         ("4-rank bcast, 8 B", "osu_bcast", 4, 8, None)]


def goals_table(out):
    """Toro / Linux VM for each goal of the fast path, and the 8-byte
    latency over Toro's bounce floor (goal: at most 3)."""
    rows = ["| goal | Toro (us) | Linux VM (us) | Toro / Linux VM | target | met |", "|---|---|---|---|---|---|"]
    lat8 = None
    for what, bench, ranks, size, target in GOALS:
        path = os.path.join(out, bench + ".csv")
        if not os.path.exists(path):
            continue
        med = medians(read_csv(path), "avg_us")
        t, l = med.get(("toro", str(ranks), str(size))), med.get(("linuxvm", str(ranks), str(size)))
        if bench == "osu_latency" and size == 8:
            lat8 = t
        r = ratio(t, l)
        met = "-" if r is None or target is None else ("yes" if r <= target else "no")
        rows.append(f"| {what} | {fmt(t)} | {fmt(l)} | {fmt(r, 2)} | "
                    f"{'<= ' + str(target) if target else 'not worse than before'} | {met} |")
    floors = os.path.join(out, "floors.csv")
    fl = floor_values(read_csv(floors)) if os.path.exists(floors) else {}
    if lat8 is not None and fl.get("bounce"):
        r = ratio(lat8, fl["bounce"] / 1000)
        rows.append(f"| 8-byte latency over the bounce floor ({fmt(fl['bounce'] / 1000)} us) | {fmt(lat8)} | - | "
                    f"{fmt(r, 2)} (to the floor) | <= 3 | {'yes' if r is not None and r <= 3 else 'no'} |")
    return "\n".join(rows) + "\n" if len(rows) > 2 else ""


def breakdown_text(out):
    floors = os.path.join(out, "floors.csv")
    fl = floor_values(read_csv(floors)) if os.path.exists(floors) else {}
    keys = FLOORS["rtt_breakdown"][0]
    if not any(f"rtt_breakdown.{k}" in fl for k in keys):
        return ""
    return ("One 8-byte MPI round trip in Toro (bench/rtt_breakdown.c, ns): " +
            ", ".join(f"{k[:-3]} {fmt(fl[f'rtt_breakdown.{k}'])}" for k in keys if f"rtt_breakdown.{k}" in fl) + "\n")


def fmt(v, digits=3):
    if v is None:
        return "-"
    return f"{v:.{digits}g}" if abs(v) < 10 ** digits else f"{v:.0f}"


def ratio_table(lines):
    """A Markdown table of the headline figures and the ratios Toro/Linux VM
    and Toro/host (of the raw values: below 1 is better for Toro where
    lower is better, above 1 where higher is better)."""
    out = ["| measure | better | Toro | Linux VM | host | Toro / Linux VM | Toro / host |",
           "|---|---|---|---|---|---|---|"]
    for what, unit, better, t, l, h in lines:
        out.append(f"| {what} ({unit}) | {better} | {fmt(t)} | {fmt(l)} | {fmt(h)} | "
                   f"{fmt(ratio(t, l), 2)} | {fmt(ratio(t, h), 2)} |")
    return "\n".join(out) + "\n"


def write_summary(out, failures=(), notes=(), mode=""):
    lines = headline(out)
    text = [f"# Benchmark summary{(' (' + mode + ')') if mode else ''}", "",
            "Medians over the repetitions of one run (see ENV.md for the machine). "
            "Under TCG the absolute numbers are emulation; the ratios within this run are the figures that travel.",
            "", ratio_table(lines)]
    goals = goals_table(out)
    if goals:
        text += ["## Fast-path goals (issue 14)", "", goals]
    bd = breakdown_text(out)
    if bd:
        text.append(bd)
    floors = os.path.join(out, "floors.csv")
    if os.path.exists(floors):
        fl = floor_values(read_csv(floors))
        if fl:
            text.append("Floors inside Toro: " + ", ".join(
                f"{k} = {fmt(v)} {FLOORS.get(k, ('', ''))[1]}" for k, v in sorted(fl.items())
                if not k.startswith("rtt_breakdown.")) + "\n")
    mem = os.path.join(out, "mem.csv")
    if os.path.exists(mem):
        rows = read_csv(mem)
        if rows:
            text.append("Smallest --mem that runs: " + ", ".join(
                f"{r['system']} {r['program']} {r['ranks']} rank(s): {r['min_mem_mib']} MiB" for r in rows) + "\n")
    size = os.path.join(out, "size.csv")
    if os.path.exists(size):
        rows = read_csv(size)
        if rows:
            text.append("Sizes: " + ", ".join(f"{r['item']} ({r['system']}): {int(r['bytes']) / 1024:.0f} KiB"
                                               for r in rows) + "\n")
    for n in notes:
        text.append(f"- {n}")
    if notes:
        text.append("")
    text.append("## Failures\n")
    text.append("\n".join(f"- {f}" for f in failures) + "\n" if failures else "None.\n")
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(text))
    return lines


def finish(out, failures, notes, mode):
    """Plots and summary from the CSVs in out."""
    try:
        pngs = make_plots(out)
    except ImportError as e:
        failures = list(failures) + [f"plots: matplotlib is not installed ({e}): apt-get install python3-matplotlib"]
        pngs = []
    with open(os.path.join(out, "failures.txt"), "w") as f:
        f.write("".join(x + "\n" for x in failures))
    lines = write_summary(out, failures, notes, mode)
    sys.stderr.write(ratio_table(lines))
    return pngs
