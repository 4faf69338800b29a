"""The benchmark suite's plumbing on tiny workloads: FLOP counting, statistics, interleaving, tables,
JSON, ``--only``, the worker subprocess with its thread variables, and the plain NumPy baselines.

No torch, scikit-learn, matplotlib, threadpoolctl or real data needed; the workers run with
``--no-torch --no-sklearn``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnscratch
from nnscratch.bench import (
    baseline_numpy,
    baseline_torch,
    cli,
    derived,
    formatting,
    machine,
    report,
    selection,
    timing,
    worker,
    workloads,
)
from nnscratch.bench import results as results_file
from nnscratch.bench import targets as target_figures
from nnscratch.bench.context import Context
from nnscratch.bench.flops import cnn_train_flops, conv_forward_flops, mlp_train_flops
from nnscratch.bench.workloads import cnn_epoch

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"  # the checkout's shim
PACKAGE_PARENT = Path(nnscratch.__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- FLOPs and statistics
def test_mlp_train_flops_counts_three_products_per_layer_minus_first_input_gradient():
    sizes = [784, 256, 128, 10]
    forward = 2 * (784 * 256 + 256 * 128 + 128 * 10)
    assert mlp_train_flops(sizes, 1) == 3 * forward - 2 * 784 * 256 == 1_007_104
    assert mlp_train_flops(sizes, 60000) == 60000 * 1_007_104
    assert mlp_train_flops(sizes, 1, skip_first_input_grad=False) == 3 * forward
    assert mlp_train_flops([2, 3, 1], 4) == 4 * (3 * 2 * (6 + 3) - 2 * 6)


def test_matmul_flops():
    assert machine.matmul_flops(2, 3, 4) == 48


def test_summarize_median_and_spread():
    s = timing.summarize([3.0, 1.0, 2.0, 5.0, 4.0])
    assert s["median_s"] == 3.0 and s["min_s"] == 1.0 and s["max_s"] == 5.0
    assert s["q1_s"] == 2.0 and s["q3_s"] == 4.0 and s["iqr_s"] == 2.0
    assert s["reps"] == 5 and s["times_s"] == [3.0, 1.0, 2.0, 5.0, 4.0]
    assert timing.summarize([0.5])["median_s"] == 0.5
    with pytest.raises(ValueError):
        timing.summarize([])


def test_interleaved_rotates_order_and_warms_up():
    calls: list[str] = []
    ticks = iter(range(1000))

    def clock() -> float:
        return float(next(ticks))

    cands = {name: (lambda name=name: calls.append(name) or name) for name in "abc"}
    out = timing.interleaved(cands, reps=3, warmup=1, clock=clock)
    assert calls[:3] == ["a", "b", "c"]                       # warm-up, untimed
    assert calls[3:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert all(len(out[n]["times"]) == 3 and out[n]["result"] == n for n in "abc")
    assert all(t == 1.0 for n in "abc" for t in out[n]["times"])  # one clock tick per timed call


def test_make_row_per_step_and_gflops():
    row = timing.make_row("w", "cfg", "nnscratch", [2.0, 1.0, 3.0], threads=1, dtype="float32", steps=4,
                             flops=8_000_000_000, extra_key=7)
    assert row["median_s"] == 2.0 and row["per_step_us"] == 500_000.0
    assert row["gflops"] == pytest.approx(4.0) and row["extra_key"] == 7


def test_measure_peak_small():
    p = machine.measure_peak("float32", n=64, reps=2)
    assert p["gflops"] > 0 and p["dtype"] == "float32" and p["reps"] >= 2


def test_memory_probe_reports_increment():
    probe = machine.MemoryProbe()
    # 64 MB, touched: above glibc's largest mmap threshold (32 MB), so these are always fresh pages and
    # never memory that earlier tests freed but the allocator kept resident.
    block = np.ones(64 * 2**20 // 8)
    report = probe.report()
    assert report["peak_rss_bytes"] >= report["baseline_rss_bytes"] > 0
    if report["method"].startswith("VmHWM"):
        assert report["increment_bytes"] >= 48 * 2**20
    del block


# ----------------------------------------------------------------------------- formatting and JSON
def test_format_table_aligns_columns():
    text = formatting.format_table(["impl", "time"], [["nnscratch", "1.0 s"], ["torch", "12.5 s"]])
    lines = text.splitlines()
    assert lines[0].startswith("impl") and set(lines[1]) <= {"-", "+"}
    assert lines[2] == "nnscratch |  1.0 s" and lines[3] == "torch     | 12.5 s"
    with pytest.raises(ValueError):
        formatting.format_table(["a", "b"], [["only one"]])


def test_fmt_seconds_units():
    assert formatting.fmt_seconds(5e-6) == "5 us"
    assert formatting.fmt_seconds(0.0123) == "12.3 ms"
    assert formatting.fmt_seconds(1.234) == "1.23 s"
    assert formatting.fmt_seconds(None) == "-"


def test_write_results_is_valid_json_with_machine(tmp_path):
    results = {"machine": machine.describe_machine(), "rows": [{"x": np.float64(1.5), "n": np.int64(3),
                                                                "a": np.arange(3), "bad": float("nan")}]}
    path = results_file.write_results(tmp_path / "out" / "bench.json", results)
    data = json.loads(path.read_text())
    m = data["machine"]
    assert m["cores_available"] >= 1 and m["cpu_model"]
    assert m["versions"]["python"] and m["versions"]["numpy"] == np.__version__
    assert "blas" in m
    assert data["rows"][0] == {"x": 1.5, "n": 3, "a": [0, 1, 2], "bad": None}
    assert not list(tmp_path.glob("out/.*.tmp"))  # atomic write leaves no temporary file


# ----------------------------------------------------------------------------- selection
def test_parse_only_comma_separated_and_repeated_in_suite_order():
    known = list(workloads.WORKLOADS)
    assert selection.parse_only(None, known) == known
    assert selection.parse_only(["mnist_epoch,xor_classic", "xor_vectorized"], known) == [
        "xor_classic", "xor_vectorized", "mnist_epoch"]
    with pytest.raises(selection.UsageError, match="did you mean 'xor_classic'"):
        selection.parse_only(["xor_clasic"], known)
    with pytest.raises(selection.UsageError):
        selection.parse_only([","], known)


def test_parse_threads():
    assert selection.parse_threads(None, 8) == [1, 8]
    assert selection.parse_threads(None, 1) == [1]
    assert selection.parse_threads(None, 8, quick=True) == [1]
    assert selection.parse_threads("4,1,all", 8) == [1, 4, 8]
    for bad in ("0", "x"):
        with pytest.raises(selection.UsageError):
            selection.parse_threads(bad, 8)


def test_unknown_workload_exits_2_with_one_line(capsys):
    assert cli.main(["--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown workload 'nope'" in err and "Traceback" not in err


def test_list_workloads(capsys):
    assert cli.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in workloads.WORKLOADS)


# ----------------------------------------------------------------------------- worker and threads
def test_worker_env_sets_every_thread_variable():
    env = worker.worker_env(3, base={"PATH": "/bin", "OMP_NUM_THREADS": "16"})
    assert all(env[v] == "3" for v in worker.THREAD_VARS) and env["PATH"] == "/bin"


def _args(*extra: str):
    return cli.parse_args(["--quick", "--reps", "1", "--warmup", "0", "--no-torch", "--no-sklearn", *extra])


def test_worker_subprocess_runs_one_workload_with_one_thread():
    res = worker.spawn_worker("xor_classic", 1, _args(), timeout=120)
    assert "error" not in res, res
    assert res["threads"] == 1 and res["env"]["OPENBLAS_NUM_THREADS"] == "1" and res["env"]["OMP_NUM_THREADS"] == "1"
    if res["blas_threads"] is not None:  # threadpoolctl installed: NumPy's BLAS really uses one thread
        assert res["blas_threads"] == 1
    impls = {r["impl"] for r in res["rows"]}
    assert {"nnscratch", "numpy per-sample (classic)"} <= impls and "torch" not in impls
    ours = next(r for r in res["rows"] if r["impl"] == "nnscratch")
    assert ours["steps"] == 250 * 4 and ours["reps"] == 1 and ours["per_step_us"] > 0
    assert "overhead_us_per_step" in ours


def test_worker_failure_is_reported_not_raised():
    res = worker.spawn_worker("no_such_workload", 1, _args(), timeout=60)
    assert "error" in res and "no_such_workload" in res["stderr_tail"]


def test_suite_end_to_end_only_one_workload(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "nnscratch.bench", "--quick", "--only", "xor_vectorized", "--reps", "1",
                           "--warmup", "0", "--no-torch", "--no-sklearn", "--json", str(out)],
                          cwd=PACKAGE_PARENT, capture_output=True, text=True, timeout=180)  # this copy of nnscratch
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["schema"] == results_file.SCHEMA and data["machine"]["cpu_model"]
    assert {r["workload"] for r in data["rows"]} == {"xor_vectorized"}
    assert {r["dtype"] for r in data["peak_rows"]} == {"float32", "float64"}
    assert data["settings"]["threads"] == [1]
    assert "ours/impl" in proc.stdout and "xor_vectorized" in proc.stdout


@pytest.mark.skipif(not RUN.is_file(), reason="benchmarks/run.py is in the source checkout only")
def test_checkout_shim_runs_the_packaged_suite():
    proc = subprocess.run([sys.executable, str(RUN), "--list"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert all(name in proc.stdout for name in workloads.WORKLOADS)
    proc = subprocess.run([sys.executable, str(RUN), "--only", "nope"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unknown workload 'nope'" in proc.stderr


# ----------------------------------------------------------------------------- derived figures
def _row(workload, impl, threads, median, config="c", dtype="float32", **extra):
    r = timing.make_row(workload, config, impl, [median], threads=threads, dtype=dtype, steps=10,
                           flops=int(1e9), **extra)
    return r


def test_add_derived_ratios_fraction_of_peak_and_speedup():
    MLP = target_figures.MLP_CONFIGS[0]  # noqa: N806
    results = {
        "settings": {"threads": [1, 4]},
        "peak_rows": [{"threads": 1, "dtype": "float32", "gflops": 10.0}, {"threads": 4, "dtype": "float32", "gflops": 40.0}],
        "rows": [_row("mnist_epoch", "nnscratch", 1, 0.2, MLP, headline=True), _row("mnist_epoch", "torch", 1, 0.4, MLP),
                 _row("mnist_epoch", "nnscratch", 4, 0.1, MLP, headline=True), _row("mnist_epoch", "torch", 4, 0.05, MLP),
                 _row("xor_classic", "nnscratch", 1, 0.3), _row("xor_classic", "numpy per-sample (classic)", 1, 0.1)],
    }
    derived.add_derived(results)
    rows = results["rows"]
    assert rows[1]["ours_over_impl"] == pytest.approx(0.5) and rows[3]["ours_over_impl"] == pytest.approx(2.0)
    assert "ours_over_impl" not in rows[0]
    assert rows[0]["fraction_of_peak"] == pytest.approx(0.5)    # 5 GFLOP/s of 10
    assert rows[2]["fraction_of_peak"] == pytest.approx(0.25)   # 10 GFLOP/s of 40
    assert rows[2]["speedup_vs_1_thread"] == pytest.approx(2.0)
    results["targets"] = target_figures.compute_targets(results, baseline={})
    targets = {(t["name"].split(" (")[0], t["threads"]): t for t in results["targets"]}
    assert targets[("MLP epoch time / PyTorch", 1)]["met"] is True         # 0.5 <= 0.75
    assert targets[("MLP epoch time / PyTorch", 4)]["met"] is False        # 2.0 > 0.65
    results.update(machine={"cpu_model": "cpu", "cores_available": 4}, workload_status={}, notes=["n1"])
    results["settings"].update(workloads=["xor_classic", "mnist_epoch"], warmup=1)
    text = report.render_report(results)
    assert "ours/impl" in text and "NOT met" in text and "n1" in text


# ----------------------------------------------------------------------------- data and recipe plumbing
def test_context_falls_back_to_synthetic_mnist(tmp_path):
    ctx = Context(data_dir=str(tmp_path))
    x_train, y_train, x_test, y_test = ctx.mnist()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8 and x_test.shape == (10000, 28, 28)
    assert ctx.real_data is False and "SYNTHETIC" in ctx.data_source and ctx.notes


def test_time_to_98_uses_the_library_recipe():
    from nnscratch.recipes import mnist as tm
    rng = np.random.default_rng(0)
    data = (rng.integers(0, 256, (100, 28, 28), dtype=np.uint8), rng.integers(0, 10, 100),
            rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), rng.integers(0, 10, 20))
    recipe = tm.build_recipe(data, epochs=1)
    assert recipe.x_train.shape == (90, 784) and recipe.x_val.shape == (10, 784) and recipe.x_test.shape == (20, 784)
    assert recipe.batch_size == tm.MODEL_DEFAULTS["mlp"]["batch_size"] and recipe.x_train.dtype == np.float32


# ----------------------------------------------------------------------------- the plain NumPy baselines
def test_classic_per_sample_network_learns_xor():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([[0], [1], [1], [0]], float)
    net = baseline_numpy.ClassicNetwork([2, 3, 1], seed=2)
    losses = net.fit(x, y, epochs=1000, lr=0.1)
    assert losses[-1] < 0.01 < losses[0]
    assert ((net.predict(x) > 0.5) == (y > 0.5)).all()


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.05), ("momentum", 0.05), ("adam", 0.01)])
def test_vectorized_script_learns_a_linear_rule(optimizer, lr):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    params, losses = baseline_numpy.train_vectorized(x, y, [5, 16, 2], epochs=20, batch_size=32,
                                                     optimizer=optimizer, lr=lr)
    assert losses[-1] < losses[0] / 3
    assert (baseline_numpy.predict_vectorized(params, x) == y).mean() > 0.95


def test_vectorized_script_tanh_mse_learns_xor():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([[0], [1], [1], [0]], float)
    params, losses = baseline_numpy.train_vectorized(x, y, [2, 8, 1], epochs=2000, batch_size=4, optimizer="adam",
                                                     lr=0.05, hidden="tanh", output="tanh_mse", dtype=np.float64,
                                                     shuffle=False)
    assert losses[-1] < 1e-3


# ----------------------------------------------------------------------------- the CNN workload
def test_cnn_train_flops_counts_three_products_per_layer_minus_first_input_gradient():
    assert conv_forward_flops(28, 28, 3, 3, 1, 8) == 2 * 28 * 28 * 9 * 8 == 112_896
    assert conv_forward_flops(14, 14, 3, 3, 8, 16, samples=2) == 2 * 2 * 14 * 14 * 9 * 8 * 16
    conv1, conv2, dense = 112_896, 451_584, 2 * 784 * 10
    per_sample = 3 * (conv1 + conv2 + dense) - conv1
    assert cnn_train_flops(cnn_epoch.CNN_CONVS, cnn_epoch.CNN_DENSE, 1) == per_sample == 1_627_584
    assert cnn_train_flops(cnn_epoch.CNN_CONVS, cnn_epoch.CNN_DENSE, 60000) == 60000 * per_sample
    assert cnn_train_flops(cnn_epoch.CNN_CONVS, cnn_epoch.CNN_DENSE, 1,
                                     skip_first_input_grad=False) == 3 * (conv1 + conv2 + dense)


@pytest.mark.parametrize("real", [False, True])
def test_cnn_epoch_workload_on_tiny_data(real, tiny_image_context):
    ctx = tiny_image_context(real)
    rows = cnn_epoch.mnist_cnn_epoch(ctx)
    assert [r["impl"] for r in rows] == ["nnscratch"]
    (row,) = rows
    assert row["workload"] == "mnist_cnn_epoch" and row["samples"] == 200 and row["dtype"] == "float32"
    assert row["steps"] == -(-200 // cnn_epoch.CNN_BATCH) and row["batch_size"] == 64 and row["reps"] == 1
    assert row["flops"] == cnn_train_flops(cnn_epoch.CNN_CONVS, cnn_epoch.CNN_DENSE, 200)
    assert row["gflops"] > 0 and "conv8-pool-conv16-pool-dense10" in row["config"]
    mem = row["memory"]
    assert mem["peak_rss_bytes"] >= mem["baseline_rss_bytes"] > 0 and mem["dataset_bytes"] == 200 * 784 * 4 + 200 * 8
    if real:
        assert 0.0 <= row["test_accuracy_after_epoch"] <= 1.0
    else:
        assert "test_accuracy_after_epoch" not in row


def test_cnn_workload_listed_and_in_quick():
    w = workloads.WORKLOADS["mnist_cnn_epoch"]
    assert w.in_quick and w.uses_mnist
    assert "mnist_cnn_epoch" in [name for name, _ in report.SUMMARY_COLUMNS]


def test_cnn_targets_ratio_and_peak_memory():
    mem = {"peak_rss_bytes": 600 * 2**20, "increment_bytes": 30 * 2**20, "baseline_rss_bytes": 570 * 2**20,
           "dataset_bytes": 188 * 2**20, "method": "VmHWM reset at baseline"}
    results = {"settings": {"threads": [1]}, "peak_rows": [{"threads": 1, "dtype": "float32", "gflops": 20.0}],
               "rows": [_row("mnist_cnn_epoch", "nnscratch", 1, 12.0, memory=mem),
                        _row("mnist_cnn_epoch", "torch", 1, 10.0)]}
    derived.add_derived(results)
    assert results["rows"][1]["ours_over_impl"] == pytest.approx(1.2)
    baseline = {"full | mnist_cnn_epoch | c | 1 threads": 590.0}
    targets = {t["name"].split(" (")[0]: t for t in target_figures.compute_targets(results, baseline=baseline)}
    ratio = targets["CNN epoch time / PyTorch"]
    assert ratio["value"] == pytest.approx(1.2) and ratio["met"] is False and ratio["target"] == "<= 0.75x"
    memory = targets["peak RSS, mnist_cnn_epoch"]
    assert memory["value"] == pytest.approx(600.0) and memory["met"] is True  # 600 <= 590 + 2%
    results["rows"][0]["median_s"] = 7.0
    assert {t["name"].split(" (")[0]: t for t in target_figures.compute_targets(results, baseline=baseline)}[
        "CNN epoch time / PyTorch"]["met"]
    results.update(machine={"cpu_model": "cpu", "cores_available": 1}, workload_status={}, notes=[],
                   targets=target_figures.compute_targets(results, baseline=baseline))
    results["settings"].update(workloads=["mnist_cnn_epoch"], warmup=1)
    text = report.render_report(results)
    assert "MNIST CNN epoch b64" in text and "peak RSS, mnist_cnn_epoch" in text and "peak 600 MB" in text


def test_torch_cnn_baseline_layout_helper():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)  # NHWC
    y = baseline_torch.to_nchw(x)
    assert y.shape == (2, 5, 3, 4) and y.flags.c_contiguous and y[1, 2, 0, 3] == x[1, 0, 3, 2]


def test_torch_cnn_baseline_trains_when_torch_is_installed():
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.random((96, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, 10, 96)
    net = baseline_torch.train_cnn(x, labels, epochs=1, batch_size=32)
    assert 0.0 <= baseline_torch.accuracy(net, x, labels) <= 1.0
