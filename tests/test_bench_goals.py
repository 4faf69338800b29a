"""The benchmark suite's goal rows, computed from synthetic results: values, goals per thread count, met or
not, the distance from the goal and from the 100% line, the recorded memory baseline, and the reports."""

from __future__ import annotations

import json

import pytest

from nnscratch import NNScratchError
from nnscratch.bench import derived, memory_baseline, record_memory, report, timing
from nnscratch.bench import targets as goals
from nnscratch.bench.context import Context
from nnscratch.bench.workloads import WORKLOADS
from nnscratch.bench.workloads.startup import BARE, startup

SGD, ADAM = goals.MLP_CONFIGS
GFLOP = int(1e9)


def row(workload, impl, threads, median, config="c", flops=None, times=None, **extra):
    return timing.make_row(workload, config, impl, times or [median], threads=threads, dtype="float32", steps=10,
                           flops=flops, **extra)


def results_of(rows, threads=(1, 2), peaks=None, quick=False):
    peaks = peaks or {1: 100.0, 2: 200.0}
    results = {"settings": {"threads": list(threads), "quick": quick}, "rows": rows,
               "peak_rows": [{"threads": t, "dtype": "float32", "gflops": g} for t, g in peaks.items()]}
    derived.add_derived(results)
    return results


def by_name(results, baseline=None):
    return {(g["name"], g["threads"]): g for g in goals.compute_targets(results, baseline=baseline or {})}


def test_goal_row_distance_for_lower_and_higher_is_better():
    slow = goals.goal_row("t", 1, 0.8, 0.65, "x")
    assert slow["met"] is False and slow["distance_factor"] == pytest.approx(0.8 / 0.65)
    assert slow["distance"] == "needs 1.23x faster" and slow["target"] == "<= 0.65x"
    fast = goals.goal_row("t", 1, 0.5, 0.65, "x")
    assert fast["met"] is True and fast["distance"] == "met, 1.30x margin"
    share = goals.goal_row("f", 2, 0.3, 0.6, "%", higher_is_better=True, fraction_of_peak=0.3)
    assert share["met"] is False and share["distance"] == "needs 2.00x faster" and share["target"] == ">= 60%"
    assert share["from_peak"] == pytest.approx(1 / 0.3) and share["from_peak_text"] == "3.33x the time at 100% of peak"
    assert goals.goal_row("s", 1, 0.2, 0.2, "s", strict=True)["met"] is False   # "under 0.2 s" is strict
    assert goals.goal_row("s", 1, 0.2, 0.2, "s")["met"] is True


def test_mlp_goals_use_the_thread_counts_own_goal_and_the_measured_peak():
    # 1 thread: 70 GFLOP/s of a 100 peak (goal 75%), 0.7x torch (goal 0.75x); 2 threads: 130 of 200 (65%, goal
    # 60%), 0.7x torch (goal 0.65x). Adam rows only at 1 thread.
    rows = [row("mnist_epoch", "nnscratch", 1, 1.0, SGD, flops=70 * GFLOP), row("mnist_epoch", "torch", 1, 1 / 0.7, SGD),
            row("mnist_epoch", "nnscratch", 2, 1.0, SGD, flops=130 * GFLOP), row("mnist_epoch", "torch", 2, 1 / 0.7, SGD),
            row("mnist_epoch", "nnscratch", 1, 2.0, ADAM, flops=70 * GFLOP), row("mnist_epoch", "torch", 1, 4.0, ADAM)]
    found = by_name(results_of(rows))
    share1 = found[(f"MLP epoch share of the float32 matmul peak ({SGD})", 1)]
    assert share1["value"] == pytest.approx(0.70) and share1["goal"] == 0.75 and share1["met"] is False
    assert share1["distance"] == f"needs {0.75 / 0.70:.2f}x faster"
    assert share1["from_peak_text"] == f"{1 / 0.7:.2f}x the time at 100% of peak"
    share2 = found[(f"MLP epoch share of the float32 matmul peak ({SGD})", 2)]
    assert share2["value"] == pytest.approx(0.65) and share2["goal"] == 0.60 and share2["met"] is True
    torch1 = found[(f"MLP epoch time / PyTorch ({SGD})", 1)]
    torch2 = found[(f"MLP epoch time / PyTorch ({SGD})", 2)]
    assert torch1["value"] == pytest.approx(0.7) and torch1["met"] is True and torch1["goal"] == 0.75
    assert torch2["value"] == pytest.approx(0.7) and torch2["met"] is False and torch2["goal"] == 0.65
    assert torch2["from_peak"] == pytest.approx(200 / 130)  # the time-ratio row says how far from the floor too
    adam = found[(f"MLP epoch time / PyTorch ({ADAM})", 1)]
    assert adam["value"] == pytest.approx(0.5) and adam["met"] is True
    assert (f"MLP epoch time / PyTorch ({ADAM})", 2) not in found  # no rows, no goal


def test_cnn_and_residual_goals_and_a_missing_residual_row_is_skipped():
    rows = [row("mnist_cnn_epoch", "nnscratch", 1, 0.7, "cnn"), row("mnist_cnn_epoch", "torch", 1, 1.0, "cnn"),
            row("mnist_cnn_epoch", "nnscratch", 2, 0.85, "cnn"), row("mnist_cnn_epoch", "torch", 2, 1.0, "cnn")]
    found = by_name(results_of(rows))
    assert found[("CNN epoch time / PyTorch (cnn)", 1)]["met"] is True      # 0.70 <= 0.75
    two = found[("CNN epoch time / PyTorch (cnn)", 2)]
    assert two["met"] is False and two["goal"] == 0.8 and two["distance"] == f"needs {0.85 / 0.8:.2f}x faster"
    assert not [name for name, _ in found if "residual" in name]
    rows += [row("resnet_epoch", "nnscratch", 1, 0.9, "res"), row("resnet_epoch", "torch", 1, 1.0, "res"),
             row("resnet_epoch", "nnscratch", 2, 1.1, "res"), row("resnet_epoch", "torch", 2, 1.0, "res")]
    found = by_name(results_of(rows))
    assert found[("residual network epoch time / PyTorch (res)", 1)]["met"] is True
    assert found[("residual network epoch time / PyTorch (res)", 2)]["met"] is False
    assert found[("residual network epoch time / PyTorch (res)", 2)]["goal"] == 1.0


def test_startup_goals_compare_the_best_runs():
    rows = [row("startup", "nnscratch", 1, 0.15, goals.IMPORT_CONFIG, times=[0.15, 0.12, 0.3]),
            row("startup", "numpy", 1, 0.14, goals.IMPORT_CONFIG, times=[0.14, 0.10, 0.2]),
            row("startup", "nnscratch", 1, 0.25, goals.XOR_CONFIG, times=[0.25, 0.19, 0.4])]
    found = by_name(results_of(rows, threads=(1,)))
    ratio = found[("import nnscratch / import numpy (whole process, best of each)", 1)]
    assert ratio["value"] == pytest.approx(1.2) and ratio["met"] is True  # best 0.12 / best 0.10 (medians: 1.07)
    xor = found[("python examples/xor.py, whole process (best)", 1)]
    assert xor["value"] == pytest.approx(0.19) and xor["met"] is True and xor["target"] == "< 200.0 ms"
    rows[2] = row("startup", "nnscratch", 1, 0.25, goals.XOR_CONFIG, times=[0.25, 0.24])
    xor = by_name(results_of(rows, threads=(1,)))[("python examples/xor.py, whole process (best)", 1)]
    assert xor["met"] is False and xor["distance"] == "needs 1.20x faster"


def test_memory_goals_against_the_recorded_baseline():
    mem = {"peak_rss_bytes": 300 * 2**20}
    rows = [row("mnist_epoch", "nnscratch", 1, 1.0, SGD, memory=mem), row("mnist_epoch", "nnscratch", 2, 1.0, SGD,
                                                                          memory={"peak_rss_bytes": 330 * 2**20}),
            row("mnist_cnn_epoch", "nnscratch", 1, 1.0, "cnn", memory=mem)]
    results = results_of(rows, quick=True)
    baseline = {f"quick | mnist_epoch | {SGD} | 1 threads": 300.0, f"quick | mnist_epoch | {SGD} | 2 threads": 300.0}
    found = by_name(results, baseline)
    assert found[(f"peak RSS, mnist_epoch ({SGD})", 1)]["met"] is True     # equal to the baseline
    over = found[(f"peak RSS, mnist_epoch ({SGD})", 2)]
    assert over["met"] is False and over["distance"] == f"needs {330 / 306:.2f}x less memory"
    missing = found[("peak RSS, mnist_cnn_epoch (cnn)", 1)]
    assert missing["met"] is None and missing["distance"] == "no recorded baseline"
    full_run = by_name(results_of(rows, quick=False), baseline)  # a quick baseline does not hold a full run
    assert full_run[(f"peak RSS, mnist_epoch ({SGD})", 1)]["met"] is None


def test_memory_baseline_records_merges_and_rejects_other_files(tmp_path):
    path = tmp_path / "baseline.json"
    assert memory_baseline.load_baseline(path) == {}
    results = results_of([row("mnist_epoch", "nnscratch", 1, 1.0, SGD, memory={"peak_rss_bytes": 100 * 2**20}),
                          row("mnist_epoch", "torch", 1, 1.0, SGD)], quick=True)
    memory_baseline.record(results, path)
    results["settings"]["quick"] = False
    table = memory_baseline.record(results, path)
    assert table == {f"quick | mnist_epoch | {SGD} | 1 threads": 100.0, f"full | mnist_epoch | {SGD} | 1 threads": 100.0}
    assert memory_baseline.load_baseline(path) == table
    results_file = tmp_path / "results.json"
    results_file.write_text(json.dumps(results))
    assert record_memory.main([str(results_file), str(path)]) == 0
    path.write_text(json.dumps({"something": "else"}))
    with pytest.raises(NNScratchError, match="not a memory baseline"):
        memory_baseline.load_baseline(path)
    assert record_memory.main([]) == 2


def test_the_recorded_baseline_file_is_readable():
    assert all(value > 0 for value in memory_baseline.load_baseline().values())


def test_reports_show_value_goal_status_and_both_distances():
    rows = [row("mnist_epoch", "nnscratch", 1, 1.0, SGD, flops=50 * GFLOP), row("mnist_epoch", "torch", 1, 1.0, SGD)]
    results = results_of(rows, threads=(1,))
    results["targets"] = goals.compute_targets(results, baseline={})
    results.update(machine={"cpu_model": "cpu", "cores_available": 1}, workload_status={}, notes=[])
    results["settings"].update(workloads=["mnist_epoch"], warmup=1)
    text = report.render_report(results)
    assert "needs 1.50x faster" in text and "needs 1.33x faster" in text and "NOT met" in text
    assert "2.00x the time at 100% of peak" in text
    markdown = report.render_goals_markdown(results)
    assert "| figure | thr | value | goal | status | distance | from the 100% line | detail |" in markdown
    assert f"| MLP epoch share of the float32 matmul peak ({SGD}) | 1 | 50% | >= 75% | NOT met |" in markdown


def test_startup_workload_times_the_imports_and_the_example_in_fresh_interpreters():
    assert WORKLOADS["startup"].in_quick
    ctx = Context(reps=2, warmup=0, quick=True)
    rows = {(r["config"], r["impl"]): r for r in startup(ctx)}
    assert {("import (whole process)", "nnscratch"), ("import (whole process)", "numpy"),
            ("import (whole process)", BARE)} <= set(rows)
    assert all(r["reps"] == 2 and r["min_s"] > 0 for r in rows.values())
    ours = rows[("import (whole process)", "nnscratch")]
    if "memory" in ours:  # Linux: the child's own peak RSS, more than a bare interpreter's
        assert ours["memory"]["peak_rss_bytes"] > rows[("import (whole process)", BARE)]["memory"]["peak_rss_bytes"]
    if (goals.XOR_CONFIG, "nnscratch") not in rows:
        assert any("examples/xor.py" in note for note in ctx.notes)
