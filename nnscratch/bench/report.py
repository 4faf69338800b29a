"""The report of a suite run: machine, peaks, summaries, per-workload tables, goals (text and markdown), notes."""

from __future__ import annotations

import json
from typing import Any

from .derived import find_row, first_config, peaks_by_threads
from .formatting import fmt_gflops, fmt_num, fmt_percent, fmt_seconds, format_table
from .impls import IMPL_ORDER
from .targets import fmt_value
from .workloads import WORKLOADS

SUMMARY_COLUMNS = [("xor_classic", "XOR classic"), ("xor_vectorized", "XOR full batch"),
                   ("mnist_classic", "MNIST classic"), ("mnist_vectorized", "MNIST batch 32"),
                   ("mnist_epoch", "MNIST epoch b128 f32"), ("mnist_cnn_epoch", "MNIST CNN epoch b64")]


def goal_table(goals: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the goals table (the text and the markdown report share it)."""
    rows = []
    for g in goals:
        status = {True: "met", False: "NOT met", None: "-"}[g["met"]]
        rows.append([g["name"], g["threads"], fmt_value(g["value"], g["unit"]), g["target"], status, g["distance"],
                     g.get("from_peak_text", ""), g["detail"]])
    return ["figure", "thr", "value", "goal", "status", "distance", "from the 100% line", "detail"], rows


def render_goals_markdown(results: dict[str, Any]) -> str:
    """The goals as a markdown table, for the README's performance section."""
    headers, rows = goal_table(results.get("targets", []))
    cells = [headers, ["---"] * len(headers)] + [[str(c).replace("|", "\\|") for c in row] for row in rows]
    machine = results.get("machine", {})
    title = (f"Goals, run of {results.get('created', '?')} on {machine.get('cpu_model', '?')} "
             f"({machine.get('cores_available', '?')} cores)")
    return "\n".join([title, ""] + ["| " + " | ".join(map(str, row)) + " |" for row in cells]) + "\n"


def render_report(results: dict[str, Any]) -> str:
    """The report printed after a run, from the results dictionary (the same one written as JSON)."""
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
                    extra.append((f"RSS +{mem['increment_bytes'] / 2**20:.0f} MB over dataset "
                                  f"{mem['dataset_bytes'] / 2**20:.0f} MB, " if "dataset_bytes" in mem else "")
                                 + f"peak {mem['peak_rss_bytes'] / 2**20:.0f} MB")
                if r.get("data") and "SYNTHETIC" in str(r["data"]):
                    extra.append("SYNTHETIC data")
                table.append([
                    r["threads"], r["impl"], fmt_seconds(r["median_s"]),
                    f"{fmt_seconds(r['min_s'])}-{fmt_seconds(r['max_s'])}", fmt_seconds(r["iqr_s"]),
                    fmt_num(r.get("per_step_us"), 1), fmt_gflops(r.get("gflops")),
                    fmt_percent(r.get("fraction_of_peak")),
                    fmt_num(r.get("ours_over_impl"), 2), fmt_num(r.get("speedup_vs_1_thread"), 2, "x"),
                    "; ".join(extra)])
            out.append(format_table(
                ["thr", "implementation", "median", "min-max", "IQR", "us/step", "GFLOP/s", "%peak",
                 "ours/impl", "all-cores speedup", "notes"], table, align="rlrrrrrrrrl"))

    if results.get("targets"):
        out.append("\ngoals from the performance issue (distance: how much better the value must get; "
                   "100% line: the time at the matmul peak):")
        out.append(format_table(*goal_table(results["targets"]), align="lrrrllll"))
    if results.get("notes"):
        out.append("\nnotes:")
        out.extend(f"  - {n}" for n in results["notes"])
    return "\n".join(out)
