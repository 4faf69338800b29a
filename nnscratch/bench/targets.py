"""The performance issue's goals, one row each: the measured value, the goal, met or not, how far from it.

Every goal row says how far the value is from its goal (``needs 1.23x faster``, or the margin when met) and,
where the row has useful FLOPs, how far it is from the 100% line, the measured matmul peak: the time it
would take at 100% of the peak is the floor no implementation can beat.

Goals at 1 thread use the 1-thread figures; every run at 2 or more threads is held to the 2-thread goal.
"""

from __future__ import annotations

from typing import Any

from .derived import find_row
from .formatting import fmt_seconds
from .impls import OURS, TORCH
from .memory_baseline import baseline_key, load_baseline

# The goals (JSON-safe: the suite records them in its results as ``targets_definition``).
TARGETS: dict[str, Any] = {
    "mlp_fraction_of_peak": {"1": 0.75, "2": 0.60},   # MLP epoch GFLOP/s / float32 matmul peak, >=
    "mlp_over_torch": {"1": 0.75, "2": 0.65},         # MLP epoch time / PyTorch's, <=
    "cnn_over_torch": {"1": 0.75, "2": 0.80},         # CNN epoch time / PyTorch's, <=
    "resnet_over_torch": {"1": 1.0, "2": 1.0},        # residual network epoch time / PyTorch's, <=
    "import_over_numpy": 1.25,                        # best `import nnscratch` process / best `import numpy`, <=
    "xor_script_s": 0.2,                              # best whole `python examples/xor.py` process, <
    "peak_rss_slack": 0.02,                           # peak RSS <= recorded baseline x (1 + slack): allocator noise
}
MLP_WORKLOAD, CNN_WORKLOAD, STARTUP_WORKLOAD = "mnist_epoch", "mnist_cnn_epoch", "startup"
MLP_CONFIGS = ("batch 128, float32, SGD momentum 0.9", "batch 128, float32, Adam")
IMPORT_CONFIG, XOR_CONFIG, NUMPY_IMPORT = "import (whole process)", "python examples/xor.py (whole process)", "numpy"


def _per_threads(goal: dict[str, float], threads: int) -> float:
    return goal["1"] if threads == 1 else goal["2"]


def fmt_value(value: float, unit: str) -> str:
    """A goal row's value or goal in its unit: ``70%``, ``0.81x``, ``184.2 ms``, ``612 MB``."""
    if unit == "%":
        return f"{100 * value:.0f}%"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return fmt_seconds(value)
    return f"{value:.0f} {unit}"


def goal_row(name: str, threads: int, value: float, goal: float, unit: str, *, higher_is_better: bool = False,
             strict: bool = False, better: str = "faster", detail: str = "",
             fraction_of_peak: float | None = None) -> dict[str, Any]:
    """One goal row. ``distance_factor`` is how many times better the value must get to meet the goal
    (> 1: not met; <= 1: met, its inverse is the margin); ``distance`` says it in words."""
    factor = (goal / value if value > 0 else float("inf")) if higher_is_better else value / goal
    met = factor < 1 if strict else factor <= 1
    if met:
        distance = f"met, {1 / factor:.2f}x margin" if factor > 0 else "met"
    else:
        distance = f"needs {factor:.2f}x {better}"
    op = ">=" if higher_is_better else ("<" if strict else "<=")
    row: dict[str, Any] = {"name": name, "threads": threads, "value": value, "unit": unit, "goal": goal,
                           "target": f"{op} {fmt_value(goal, unit)}", "met": met, "distance_factor": factor,
                           "distance": distance, "detail": detail}
    if fraction_of_peak:  # the 100% line: the time at the matmul peak
        row["fraction_of_peak"] = fraction_of_peak
        row["from_peak"] = 1 / fraction_of_peak
        row["from_peak_text"] = f"{1 / fraction_of_peak:.2f}x the time at 100% of peak"
    return row


def _versus_torch(rows: list[dict], workload: str, threads: int, goal: float, label: str,
                  config: str | None = None) -> dict[str, Any] | None:
    ours = find_row(rows, workload, OURS, threads, config=config)
    if ours is None:
        return None
    torch = find_row(rows, workload, TORCH, threads, config=ours["config"])
    if torch is None or torch["median_s"] <= 0:
        return None
    return goal_row(f"{label} time / PyTorch ({ours['config']})", threads, ours["median_s"] / torch["median_s"],
                    goal, "x", detail=f"nnscratch {fmt_seconds(ours['median_s'])}, "
                                      f"torch {fmt_seconds(torch['median_s'])} (medians, interleaved)",
                    fraction_of_peak=ours.get("fraction_of_peak"))


def _mlp_goals(rows: list[dict], threads: int) -> list[dict[str, Any]]:
    out = []
    for config in MLP_CONFIGS:
        ours = find_row(rows, MLP_WORKLOAD, OURS, threads, config=config)
        if ours is None:
            continue
        fraction = ours.get("fraction_of_peak")
        if fraction:
            out.append(goal_row(f"MLP epoch share of the float32 matmul peak ({config})", threads, fraction,
                                _per_threads(TARGETS["mlp_fraction_of_peak"], threads), "%", higher_is_better=True,
                                detail=f"{ours['gflops']:.1f} GFLOP/s at the median", fraction_of_peak=fraction))
        row = _versus_torch(rows, MLP_WORKLOAD, threads, _per_threads(TARGETS["mlp_over_torch"], threads),
                            "MLP epoch", config)
        if row:
            out.append(row)
    return out


def _startup_goals(rows: list[dict], threads: int) -> list[dict[str, Any]]:
    out = []
    ours = find_row(rows, STARTUP_WORKLOAD, OURS, threads, config=IMPORT_CONFIG)
    numpy = find_row(rows, STARTUP_WORKLOAD, NUMPY_IMPORT, threads, config=IMPORT_CONFIG)
    if ours and numpy and numpy["min_s"] > 0:
        out.append(goal_row("import nnscratch / import numpy (whole process, best of each)", threads,
                            ours["min_s"] / numpy["min_s"], TARGETS["import_over_numpy"], "x",
                            detail=f"best of {ours['reps']}: nnscratch {fmt_seconds(ours['min_s'])}, numpy "
                                   f"{fmt_seconds(numpy['min_s'])}; medians {fmt_seconds(ours['median_s'])}, "
                                   f"{fmt_seconds(numpy['median_s'])}"))
    xor = find_row(rows, STARTUP_WORKLOAD, OURS, threads, config=XOR_CONFIG)
    if xor:
        out.append(goal_row("python examples/xor.py, whole process (best)", threads, xor["min_s"],
                            TARGETS["xor_script_s"], "s", strict=True,
                            detail=f"best of {xor['reps']}, median {fmt_seconds(xor['median_s'])}"))
    return out


def _memory_goals(results: dict[str, Any], baseline: dict[str, float]) -> list[dict[str, Any]]:
    out = []
    quick = bool(results.get("settings", {}).get("quick"))
    slack = TARGETS["peak_rss_slack"]
    for r in results["rows"]:
        mem = r.get("memory")
        if r["impl"] != OURS or not mem or not mem.get("peak_rss_bytes"):
            continue
        key = baseline_key(r, quick)
        peak = mem["peak_rss_bytes"] / 2**20
        name = f"peak RSS, {r['workload']} ({r['config']})"
        recorded = baseline.get(key)
        if recorded is None:
            out.append({"name": name, "threads": int(r["threads"]), "value": peak, "unit": "MB", "goal": None,
                        "target": "<= recorded baseline", "met": None, "distance": "no recorded baseline",
                        "detail": f"record one: python -m nnscratch.bench.record_memory RESULTS.json ({key})"})
            continue
        row = goal_row(name, int(r["threads"]), peak, recorded * (1 + slack), "MB", better="less memory",
                       detail=f"recorded baseline {recorded:.0f} MB (+{slack:.0%} for allocator noise)")
        out.append(row)
    return out


def compute_targets(results: dict[str, Any], baseline: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Every goal the results have rows for (a goal whose rows are absent is skipped), in report order.

    ``baseline``: recorded peak RSS in MB by ``memory_baseline.baseline_key`` (default: the recorded file).
    """
    rows, out = results["rows"], []
    threads = [int(t) for t in results["settings"]["threads"]]
    resnets = sorted({r["workload"] for r in rows if "resnet" in r["workload"]})
    for t in threads:
        out.extend(_mlp_goals(rows, t))
    for t in threads:
        row = _versus_torch(rows, CNN_WORKLOAD, t, _per_threads(TARGETS["cnn_over_torch"], t), "CNN epoch")
        if row:
            out.append(row)
    for workload in resnets:
        for t in threads:
            row = _versus_torch(rows, workload, t, _per_threads(TARGETS["resnet_over_torch"], t),
                                "residual network epoch")
            if row:
                out.append(row)
    for t in threads:
        out.extend(_startup_goals(rows, t))
    out.extend(_memory_goals(results, load_baseline() if baseline is None else baseline))
    return out
