#!/usr/bin/env python
"""nnscratch benchmark suite: framework vs plain NumPy (and PyTorch / scikit-learn when installed).

    python benchmarks/run.py                       # everything, 1 BLAS thread and all cores
    python benchmarks/run.py --quick               # smoke run, under two minutes
    python benchmarks/run.py --only mnist_epoch --reps 5 --json out.json --plot out.png
    python benchmarks/run.py --list                # the workloads

Design: this parent process spawns one worker per (workload, thread count):
``python benchmarks/run.py --worker NAME --threads T --worker-out FILE`` with OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS / MKL_NUM_THREADS = T set before NumPy loads (and threadpoolctl limits too, when
installed; torch and nnscratch get ``set_num_threads(T)``). A fresh worker per workload also gives a clean peak-RSS
measurement. The parent collects the workers' JSON, derives ratios (ours/impl), fractions of the
measured matmul peak and thread speedups, prints the tables and writes ``--json`` atomically.
See benchmarks/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")
SCHEMA = "nnscratch-benchmarks/1"

# The headline figures the issue asks for.
TARGETS = {"xor_overhead_us": 40.0, "epoch_ours_over_torch": 0.7, "fraction_of_peak": 0.55, "memory_increment_mb": 100.0,
           "cnn_epoch_ours_over_torch": 1.0, "cnn_peak_rss_mb": 1024.0}
IMPL_ORDER = ["nnscratch", "nnscratch train_step loop", "numpy per-sample (classic)", "numpy vectorized script",
              "torch", "sklearn MLPClassifier"]
SUMMARY_COLUMNS = [("xor_classic", "XOR classic"), ("xor_vectorized", "XOR full batch"),
                   ("mnist_classic", "MNIST classic"), ("mnist_vectorized", "MNIST batch 32"),
                   ("mnist_epoch", "MNIST epoch b128 f32"), ("mnist_cnn_epoch", "MNIST CNN epoch b64")]


class UsageError(Exception):
    """A bad command line: reported as one line, exit status 2."""


# ============================================================================ formatting helpers
def fmt_seconds(seconds: float | None) -> str:
    """A duration with a readable unit: ``812 us``, ``12.3 ms``, ``1.23 s``."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def fmt_gflops(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return "<0.01" if value < 0.01 else (f"{value:.2f}" if value < 10 else f"{value:.1f}")


def fmt_percent(fraction: float | None) -> str:
    if fraction is None or not math.isfinite(fraction):
        return "-"
    return "<1%" if fraction < 0.01 else f"{100 * fraction:.0f}%"


def fmt_num(value: float | None, digits: int = 2, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}{suffix}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A plain-text table: ``align`` has one letter per column, ``l`` or ``r`` (default: first left, rest right)."""
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in row] for row in rows]
    ncols = len(headers)
    for row in cells:
        if len(row) != ncols:
            raise ValueError(f"row has {len(row)} cells, expected {ncols}: {row}")
    align = align or ("l" + "r" * (ncols - 1))
    widths = [max(len(row[i]) for row in cells) for i in range(ncols)]

    def line(row: list[str]) -> str:
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align)]
        return " | ".join(parts).rstrip()

    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def jsonable(obj: Any) -> Any:
    """``obj`` with NumPy scalars/arrays and tuples turned into plain JSON types (NaN/inf -> None)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return jsonable(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


def write_results(path: str | os.PathLike, results: dict[str, Any]) -> Path:
    """Write the results JSON atomically (nnscratch.io.write_json)."""
    from nnscratch.io.atomic import write_json

    return write_json(path, jsonable(results))


# ============================================================================ selection
def parse_only(values: Sequence[str] | None, known: Sequence[str]) -> list[str]:
    """Workload names from repeatable / comma-separated ``--only`` values, in suite order; all when empty."""
    if not values:
        return list(known)
    wanted: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in known:
                import difflib

                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise UsageError(f"unknown workload {name!r}{hint} (known: {', '.join(known)})")
            wanted.append(name)
    if not wanted:
        raise UsageError("--only needs at least one workload name")
    return [name for name in known if name in wanted]


def parse_threads(value: str | None, cores: int, quick: bool = False) -> list[int]:
    """``"1,8"`` -> [1, 8]; default [1, cores] (just [1] on a single core, and with ``quick``)."""
    if value is None:
        return [1] if quick else sorted({1, cores})
    out = []
    for part in value.split(","):
        part = part.strip()
        if part in ("all", "max"):
            out.append(cores)
            continue
        try:
            t = int(part)
        except ValueError:
            raise UsageError(f"--threads expects integers like 1,{cores} (or 'all'), got {value!r}") from None
        if t < 1:
            raise UsageError(f"--threads values must be >= 1, got {t}")
        out.append(t)
    return sorted(set(out))


# ============================================================================ worker side
def worker_main(args: argparse.Namespace) -> int:
    """Run one workload at one thread count in this (fresh) process and write its JSON."""
    threads = parse_threads(args.threads, 1)
    if len(threads) != 1:
        raise UsageError("--worker runs one thread setting: pass --threads T")
    t = threads[0]
    limiter = None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        limiter = threadpool_limits(limits=t)
    from benchmarks import workloads
    from benchmarks.machine import blas_threads

    import nnscratch

    nnscratch.set_num_threads(t)  # its data-parallel training steps, like torch.set_num_threads(t)

    ctx = workloads.Context(threads=t, reps=args.reps, warmup=args.warmup, quick=args.quick, data_dir=args.data_dir,
                            use_torch=not args.no_torch, use_sklearn=not args.no_sklearn)
    workload = workloads.get(args.worker)
    start = time.perf_counter()
    rows = workload.run(ctx)
    out = {
        "workload": workload.name, "threads": t, "rows": rows, "notes": ctx.notes, "data_source": ctx.data_source,
        "seconds": time.perf_counter() - start, "blas_threads": blas_threads(),
        "env": {k: os.environ.get(k) for k in THREAD_VARS if os.environ.get(k) is not None},
        "threadpoolctl": limiter is not None, "nnscratch_threads": nnscratch.get_num_threads(),
    }
    if "torch" in sys.modules:
        out["torch_threads"] = sys.modules["torch"].get_num_threads()
    if args.worker_out:
        write_results(args.worker_out, out)
    else:
        print(json.dumps(jsonable(out)))
    return 0


def worker_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: every BLAS/OpenMP thread variable set to ``threads``."""
    env = dict(os.environ if base is None else base)
    for var in THREAD_VARS:
        env[var] = str(threads)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def worker_command(name: str, threads: int, out: str | os.PathLike, args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--threads", str(threads),
           "--worker-out", str(out), "--warmup", str(args.warmup)]
    if args.reps is not None:
        cmd += ["--reps", str(args.reps)]
    if args.quick:
        cmd.append("--quick")
    if args.data_dir:
        cmd += ["--data-dir", str(args.data_dir)]
    if args.no_torch:
        cmd.append("--no-torch")
    if args.no_sklearn:
        cmd.append("--no-sklearn")
    return cmd


def spawn_worker(name: str, threads: int, args: argparse.Namespace, timeout: float | None = None) -> dict[str, Any]:
    """Run a worker subprocess; returns its JSON, or ``{"error": ...}`` if it failed."""
    with tempfile.TemporaryDirectory(prefix="nnscratch-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = worker_command(name, threads, out, args)
        try:
            proc = subprocess.run(cmd, env=worker_env(threads), capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"workload": name, "threads": threads, "error": f"worker timed out after {timeout:.0f} s"}
        if proc.returncode != 0 or not out.is_file():
            lines = [line for line in (proc.stderr or "").strip().splitlines() if line.strip()]
            last = lines[-1] if lines else f"exit status {proc.returncode}"
            return {"workload": name, "threads": threads, "error": f"worker failed ({last})",
                    "stderr_tail": "\n".join(lines[-20:])}
        return json.loads(out.read_text())


# ============================================================================ derived figures
def peaks_by_threads(results: dict[str, Any]) -> dict[tuple[int, str], float]:
    return {(int(r["threads"]), r["dtype"]): r["gflops"] for r in results.get("peak_rows", [])}


def add_derived(results: dict[str, Any]) -> None:
    """Fill in fraction of peak, ours/impl time ratios and all-cores vs 1-thread speedups on the rows."""
    peaks = peaks_by_threads(results)
    rows = results["rows"]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        peak = peaks.get((int(r["threads"]), r.get("dtype")))
        if r.get("gflops") and peak:
            r["fraction_of_peak"] = r["gflops"] / peak
        groups.setdefault((r["workload"], r["config"], r["threads"]), []).append(r)
    for group in groups.values():
        ours = next((r for r in group if r["impl"] == "nnscratch"), None)
        for r in group:
            if ours is not None and r is not ours and r["median_s"] > 0:
                r["ours_over_impl"] = ours["median_s"] / r["median_s"]
    by_impl: dict[tuple, dict[int, dict]] = {}
    for r in rows:
        by_impl.setdefault((r["workload"], r["config"], r["impl"]), {})[int(r["threads"])] = r
    for per_threads in by_impl.values():
        if 1 in per_threads and len(per_threads) > 1:
            top = per_threads[max(per_threads)]
            if top["median_s"] > 0:
                top["speedup_vs_1_thread"] = per_threads[1]["median_s"] / top["median_s"]


def find_row(rows: list[dict], workload: str, impl: str, threads: int, config: str | None = None,
             headline: bool = False) -> dict | None:
    for r in rows:
        if r["workload"] == workload and r["impl"] == impl and int(r["threads"]) == threads:
            if config is not None and r["config"] != config:
                continue
            if headline and not r.get("headline", True):
                continue
            return r
    return None


def first_config(rows: list[dict], workload: str) -> str | None:
    return next((r["config"] for r in rows if r["workload"] == workload), None)


def compute_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's target figures, each with its value, the target and whether it is met."""
    rows, out = results["rows"], []
    threads = results["settings"]["threads"]
    for t in threads:
        r = find_row(rows, "xor_classic", "nnscratch", t)
        b = find_row(rows, "xor_classic", "numpy per-sample (classic)", t)
        if r and b:
            over = r["per_step_us"] - b["per_step_us"]
            out.append({"name": "xor_classic framework overhead per step", "threads": t, "value": over, "unit": "us",
                        "target": f"< {TARGETS['xor_overhead_us']:.0f} us", "met": over < TARGETS["xor_overhead_us"],
                        "detail": f"nnscratch {r['per_step_us']:.1f} us/step - classic NumPy {b['per_step_us']:.1f} us/step"})
        if r:  # the stricter reading: the whole framework step, not only its excess over the classic code
            out.append({"name": "xor_classic framework time per step (fit)", "threads": t, "value": r["per_step_us"],
                        "unit": "us", "target": f"< {TARGETS['xor_overhead_us']:.0f} us",
                        "met": r["per_step_us"] < TARGETS["xor_overhead_us"],
                        "detail": "whole step incl. the fit loop: forward, loss, backward, SGD update"})
    for t in threads:
        r = find_row(rows, "mnist_epoch", "nnscratch", t, headline=True)
        if not r:
            continue
        tr = find_row(rows, "mnist_epoch", "torch", t, config=r["config"])
        if tr:
            ratio = r["median_s"] / tr["median_s"]
            out.append({"name": f"MLP epoch ours/torch time ({r['config']})", "threads": t, "value": ratio, "unit": "x",
                        "target": f"<= {TARGETS['epoch_ours_over_torch']}", "met": ratio <= TARGETS["epoch_ours_over_torch"],
                        "detail": f"nnscratch {fmt_seconds(r['median_s'])}, torch {fmt_seconds(tr['median_s'])}"})
        if r.get("fraction_of_peak") is not None:
            f = r["fraction_of_peak"]
            out.append({"name": "MLP epoch fraction of float32 matmul peak", "threads": t, "value": f, "unit": "",
                        "target": f">= {TARGETS['fraction_of_peak']:.0%}", "met": f >= TARGETS["fraction_of_peak"],
                        "detail": f"{r['gflops']:.1f} GFLOP/s achieved"})
    for t in threads:
        r = find_row(rows, "mnist_cnn_epoch", "nnscratch", t)
        if not r:
            continue
        tr = find_row(rows, "mnist_cnn_epoch", "torch", t, config=r["config"])
        if tr:
            ratio = r["median_s"] / tr["median_s"]
            out.append({"name": f"CNN epoch ours/torch time ({r['config']})", "threads": t, "value": ratio, "unit": "x",
                        "target": f"<= {TARGETS['cnn_epoch_ours_over_torch']}",
                        "met": ratio <= TARGETS["cnn_epoch_ours_over_torch"],
                        "detail": f"nnscratch {fmt_seconds(r['median_s'])}, torch {fmt_seconds(tr['median_s'])}"})
        mem = r.get("memory")
        if mem:
            peak = mem["peak_rss_bytes"] / 2**20
            out.append({"name": "CNN epoch peak RSS", "threads": t, "value": peak, "unit": "MB",
                        "target": f"< {TARGETS['cnn_peak_rss_mb']:.0f} MB", "met": peak < TARGETS["cnn_peak_rss_mb"],
                        "detail": f"whole process incl. Python, NumPy and the data (dataset "
                                  f"{mem['dataset_bytes'] / 2**20:.0f} MB), +{mem['increment_bytes'] / 2**20:.1f} MB "
                                  f"during the epoch ({mem['method']})"})
    for workload in ("mnist_epoch", "mnist_to_98"):
        for t in threads:
            r = find_row(rows, workload, "nnscratch", t, headline=True)
            mem = (r or {}).get("memory")
            if mem:
                inc = mem["increment_bytes"] / 2**20
                out.append({"name": f"peak memory of the MNIST MLP run ({workload})", "threads": t, "value": inc,
                            "unit": "MB", "target": f"dataset + < {TARGETS['memory_increment_mb']:.0f} MB",
                            "met": inc < TARGETS["memory_increment_mb"],
                            "detail": f"dataset {mem['dataset_bytes'] / 2**20:.0f} MB, increment {inc:.1f} MB, "
                                      f"peak RSS {mem['peak_rss_bytes'] / 2**20:.0f} MB ({mem['method']})"})
    return out


# ============================================================================ report
def render_report(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    rows = results["rows"]
    out: list[str] = []
    blas = m.get("blas", {})
    pools = blas.get("threadpools") or []
    blas_text = ", ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')})" for p in pools
                          if p.get("user_api") == "blas") or json.dumps(blas.get("numpy_build_blas", {}))
    v = m.get("versions", {})
    out.append("nnscratch benchmarks" + ("  [--quick: fewer reps, smaller workloads]" if s.get("quick") else ""))
    out.append(f"machine: {m.get('cpu_model')}, {m.get('cores_available')} cores available; BLAS: {blas_text}")
    out.append("versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val))
    load = m.get("load_average")
    if load:
        out.append(f"load average at start: {load[0]:.2f} (a busy machine makes times noisy; ratios are interleaved)")
    out.append(f"threads: {', '.join(map(str, s['threads']))}; reps: {s.get('reps') or 'per-workload default'}; "
               f"warm-up: {s['warmup']}; data: {results.get('data_source') or '-'}")

    peaks = peaks_by_threads(results)
    if peaks:
        out.append("\nmatmul peak (best of several square products, GFLOP/s):")
        prow = [[t, fmt_num(peaks.get((t, "float32")), 1), fmt_num(peaks.get((t, "float64")), 1)] for t in s["threads"]]
        out.append(format_table(["threads", "float32", "float64"], prow))

    for t in s["threads"]:
        table = []
        for impl in IMPL_ORDER:
            cells, any_cell = [impl], False
            for workload, _title in SUMMARY_COLUMNS:
                cfg = first_config(rows, workload)
                r = find_row(rows, workload, impl, t, config=cfg)
                if r is None:
                    cells.append("")
                    continue
                any_cell = True
                ratio = r.get("ours_over_impl")
                cells.append(fmt_seconds(r["median_s"]) + (f" ({ratio:.2f})" if ratio is not None else ""))
            if any_cell:
                table.append(cells)
        if table:
            out.append(f"\nsummary at {t} thread{'s' if t > 1 else ''}: median time per run "
                       "(in brackets: ours/impl = nnscratch time / that time; < 1 means nnscratch is faster)")
            out.append(format_table(["implementation"] + [title for _, title in SUMMARY_COLUMNS], table))

    from benchmarks.workloads import WORKLOADS

    for name in s["workloads"]:
        wrows = [r for r in rows if r["workload"] == name]
        status = results["workload_status"].get(name, "")
        out.append(f"\n== {name}: {WORKLOADS[name].title}" + (f"  [{status}]" if status and status != "ok" else ""))
        if not wrows:
            continue
        configs: list[str] = []
        for r in wrows:
            if r["config"] not in configs:
                configs.append(r["config"])
        for cfg in configs:
            out.append(f"  {cfg}")
            table = []
            crow = sorted((r for r in wrows if r["config"] == cfg), key=lambda r: (
                int(r["threads"]), IMPL_ORDER.index(r["impl"]) if r["impl"] in IMPL_ORDER else 99))
            for r in crow:
                extra = []
                for key in ("overhead_us_per_step",):
                    if r.get(key) is not None:
                        extra.append(f"overhead {r[key]:.1f} us/step")
                for key in ("test_accuracy", "test_accuracy_after_epoch"):
                    if r.get(key) is not None:
                        extra.append(f"test acc {100 * r[key]:.2f}%")
                if r.get("epochs_to_100") is not None:
                    extra.append(f"epochs to 100%: {r['epochs_to_100']} ({r.get('reached')})")
                if r.get("epochs_to_98") is not None:
                    extra.append(f"epochs to 98%: {r['epochs_to_98']} ({r.get('reached')})")
                if r.get("memory"):
                    mem = r["memory"]
                    extra.append(f"RSS +{mem['increment_bytes'] / 2**20:.0f} MB over dataset "
                                 f"{mem['dataset_bytes'] / 2**20:.0f} MB, peak {mem['peak_rss_bytes'] / 2**20:.0f} MB")
                if r.get("data") and "SYNTHETIC" in str(r["data"]):
                    extra.append("SYNTHETIC data")
                table.append([
                    r["threads"], r["impl"], fmt_seconds(r["median_s"]),
                    f"{fmt_seconds(r['min_s'])}-{fmt_seconds(r['max_s'])}", fmt_seconds(r["iqr_s"]),
                    fmt_num(r.get("per_step_us"), 1), fmt_gflops(r.get("gflops")), fmt_percent(r.get("fraction_of_peak")),
                    fmt_num(r.get("ours_over_impl"), 2), fmt_num(r.get("speedup_vs_1_thread"), 2, "x"),
                    "; ".join(extra)])
            out.append(format_table(
                ["thr", "implementation", "median", "min-max", "IQR", "us/step", "GFLOP/s", "%peak",
                 "ours/impl", "all-cores speedup", "notes"], table, align="rlrrrrrrrrl"))

    if results.get("targets"):
        out.append("\ntargets from the issue:")
        trows = []
        for tg in results["targets"]:
            val = tg["value"]
            text = f"{100 * val:.0f}%" if tg["unit"] == "" else (f"{val:.2f}x" if tg["unit"] == "x" else f"{val:.1f} {tg['unit']}")
            trows.append([tg["name"], tg["threads"], text, tg["target"], "met" if tg["met"] else "NOT met", tg["detail"]])
        out.append(format_table(["figure", "thr", "value", "target", "status", "detail"], trows, align="lrrrll"))
    if results.get("notes"):
        out.append("\nnotes:")
        out.extend(f"  - {n}" for n in results["notes"])
    return "\n".join(out)


def plot_results(results: dict[str, Any], path: str | os.PathLike) -> Path | None:
    """Bar chart: each implementation's time relative to nnscratch, per headline workload and thread count."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import numpy as np

    rows, threads = results["rows"], results["settings"]["threads"]
    fig, axes = plt.subplots(1, len(threads), figsize=(6 * len(threads), 4.5), squeeze=False)
    for ax, t in zip(axes[0], threads):
        labels = [title for w, title in SUMMARY_COLUMNS]
        width = 0.8 / len(IMPL_ORDER)
        for i, impl in enumerate(IMPL_ORDER):
            values = []
            for workload, _ in SUMMARY_COLUMNS:
                r = find_row(rows, workload, impl, t, config=first_config(rows, workload))
                ours = find_row(rows, workload, "nnscratch", t, config=first_config(rows, workload))
                values.append(r["median_s"] / ours["median_s"] if r and ours else np.nan)
            if not all(np.isnan(values)):
                ax.bar(np.arange(len(labels)) + (i - len(IMPL_ORDER) / 2 + 0.5) * width, values, width, label=impl)
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.3g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%.2g"))
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel("time relative to nnscratch (> 1: slower than nnscratch)")
        ax.set_title(f"{t} thread{'s' if t > 1 else ''}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ============================================================================ parent side
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = _Parser(prog="benchmarks/run.py", description="nnscratch benchmark suite (see benchmarks/README.md)")
    p.add_argument("--quick", action="store_true", help="smoke run: fewer reps, smaller workloads (< 2 minutes)")
    p.add_argument("--only", action="append", metavar="NAME", help="run only these workloads (repeatable or comma-separated)")
    p.add_argument("--reps", type=int, help="timed repetitions per measurement (default: per workload, 2-5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up runs per implementation (default: 1)")
    p.add_argument("--threads", metavar="LIST", help="BLAS thread counts, e.g. 1,8 (default: 1 and all cores)")
    p.add_argument("--json", metavar="PATH", help="write every figure and the machine description as JSON")
    p.add_argument("--plot", metavar="PATH", help="bar chart PNG (needs matplotlib)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST files (default: load_mnist's search path)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch baselines")
    p.add_argument("--no-sklearn", action="store_true", help="skip the scikit-learn baseline")
    p.add_argument("--timeout", type=float, default=None, help="seconds allowed per worker process (default: 1800, --quick 120)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.reps is not None and args.reps < 1:
        p.error(f"--reps must be >= 1, got {args.reps}")
    if args.warmup < 0:
        p.error(f"--warmup must be >= 0, got {args.warmup}")
    return args


def run_suite(args: argparse.Namespace, log=None) -> tuple[dict[str, Any], int]:
    """Run the selected workloads in workers; returns the results and the number of failed workers."""
    from benchmarks import workloads
    from benchmarks.machine import cpu_count, describe_machine

    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    known = list(workloads.WORKLOADS)
    selected = parse_only(args.only, known)
    explicit = bool(args.only)
    cores = cpu_count()
    threads = parse_threads(args.threads, cores, quick=args.quick)
    timeout = args.timeout or (120.0 if args.quick else 1800.0)
    results: dict[str, Any] = {
        "schema": SCHEMA, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": describe_machine(),
        "settings": {"quick": args.quick, "reps": args.reps, "warmup": args.warmup, "threads": threads,
                     "workloads": selected, "data_dir": args.data_dir, "torch": not args.no_torch,
                     "sklearn": not args.no_sklearn, "thread_env_vars": list(THREAD_VARS)},
        "targets_definition": TARGETS, "peak_rows": [], "rows": [], "workers": [], "notes": [],
        "workload_status": {}, "data_source": None,
    }
    failures = 0
    started = time.perf_counter()

    def collect(name: str, t: int) -> dict[str, Any]:
        nonlocal failures
        t0 = time.perf_counter()
        log(f"  {name} at {t} thread{'s' if t > 1 else ''} ...")
        res = spawn_worker(name, t, args, timeout)
        log(f"    done in {time.perf_counter() - t0:.1f} s" + (f" -- {res['error']}" if "error" in res else ""))
        results["workers"].append({k: res.get(k) for k in ("workload", "threads", "seconds", "blas_threads", "env",
                                                           "torch_threads", "threadpoolctl", "error", "stderr_tail")
                                   if res.get(k) is not None})
        if "error" in res:
            failures += 1
            results["notes"].append(f"{name} at {t} threads: {res['error']}")
        for note in res.get("notes", []):
            if note not in results["notes"]:
                results["notes"].append(note)
        if res.get("data_source") and results["data_source"] in (None, res["data_source"]):
            results["data_source"] = res["data_source"]
        return res

    if args.quick and args.threads is None and cores > 1:
        results["notes"].append(f"--quick times 1 BLAS thread only; add --threads 1,{cores} for the all-cores "
                                "comparison (the full run does both)")
    load = results["machine"].get("load_average")
    if load and load[0] > 0.5 * cores:
        results["notes"].append(f"the machine was busy at the start (load average {load[0]:.2f} on {cores} cores): "
                                "absolute times and multi-thread figures are unreliable; ratios are interleaved")
    log(f"nnscratch benchmarks: workloads {', '.join(selected)}; threads {threads}")
    for t in threads:
        results["peak_rows"].extend(collect("peak", t).get("rows", []))
    for name in selected:
        w = workloads.WORKLOADS[name]
        if args.quick and not w.in_quick and not explicit:
            results["workload_status"][name] = "skipped by --quick (run it with --only " + name + ")"
            results["notes"].append(f"{name} skipped by --quick; run `python benchmarks/run.py --only {name}`")
            continue
        errors = []
        for t in threads:
            res = collect(name, t)
            results["rows"].extend(res.get("rows", []))
            if "error" in res:
                errors.append(res["error"])
        ok = [r for r in results["rows"] if r["workload"] == name]
        results["workload_status"][name] = "ok" if ok and not errors else ("; ".join(errors) or "skipped (see notes)")
    add_derived(results)
    results["targets"] = compute_targets(results)
    results["total_seconds"] = time.perf_counter() - started
    return results, failures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.worker:
            return worker_main(args)
        from benchmarks import workloads

        if args.list:
            for name, w in workloads.WORKLOADS.items():
                print(f"{name:18} {w.title}" + ("" if w.in_quick else "  (not in --quick)"))
            return 0
        results, failures = run_suite(args)
        print(render_report(results))
        if args.json:
            write_results(args.json, results)
            print(f"\nresults written to {args.json}")
        if args.plot:
            path = plot_results(results, args.plot)
            print(f"plot written to {path}" if path else
                  "--plot needs matplotlib: pip install nnscratch[plot] (or: pip install matplotlib)")
        return 1 if failures else 0
    except (UsageError, OSError) as exc:
        print(f"benchmarks/run.py: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("benchmarks/run.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
