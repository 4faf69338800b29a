"""Data-parallel training on Ray (``nnscratch.distributed``): N workers give one process's weights.

The tests that train start one local Ray cluster of 2 CPUs for the module; without Ray they are skipped,
saying how to install it. Everything is float64 so that "equal" means equal to rounding (~1e-12).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError

REPO = Path(__file__).resolve().parents[1]
RAY_MISSING = 'Ray is not installed: pip install "nnscratch[distributed]"'


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of 2 CPUs, shared by the tests of this module."""
    ray = pytest.importorskip("ray", reason=RAY_MISSING)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def data(n=100, shape=(8,), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.standard_normal((n, *shape))
    x.reshape(n, -1)[:, :classes] += 2 * np.eye(classes)[y]
    return x, y


def mlp(seed=0):
    model = nn.Sequential([nn.Input(shape=(8,), dtype="float64"), nn.Dense(16, activation="relu"),
                           nn.Dense(3, activation="softmax")], seed=seed)
    return model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=0.01), metrics=["accuracy"])


def cnn(seed=0):
    model = nn.Sequential([nn.Input(shape=(8, 8, 1), dtype="float64"), nn.Conv2D(4, 3, padding="same", activation="relu"),
                           nn.MaxPool2D(2), nn.Flatten(), nn.Dense(3, activation="softmax")], seed=seed)
    return model.compile(loss="categorical_crossentropy", optimizer=nn.SGD(lr=0.05, momentum=0.9), metrics=["accuracy"])


def assert_same_weights(a, b, tol=1e-10):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        np.testing.assert_allclose(sa[name], sb[name], rtol=0, atol=tol, err_msg=name)


def assert_same_history(ha, hb, tol=1e-10):
    assert ha.epoch == hb.epoch and ha.keys() == hb.keys()
    for key in ha.history:
        np.testing.assert_allclose(ha[key], hb[key], rtol=0, atol=tol, err_msg=key)


@pytest.mark.parametrize("build,shape", [(mlp, (8,)), (cnn, (8, 8, 1))], ids=["mlp", "cnn"])
def test_two_workers_give_the_weights_of_one_process(cluster, build, shape):
    from nnscratch.distributed import fit_distributed

    x, y = data(shape=shape)
    val = data(n=30, shape=shape, seed=1)
    # 100 samples in batches of 32: the last batch (4) is split 2 + 2, the others 16 + 16
    kwargs = dict(epochs=2, batch_size=32, validation_data=val, verbose=0)
    single, distributed = build(), build()
    expected = single.fit(x, y, **kwargs)
    seen = []
    history = fit_distributed(distributed, x, y, workers=2, trainer_hook=seen.append, **kwargs)
    assert_same_weights(single, distributed)
    assert_same_history(expected, history)
    assert set(history.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    trainer = seen[0]
    assert trainer.stats["steps"] == 2 * 4 and len(set(trainer.worker_pids())) == 2
    assert os.getpid() not in trainer.worker_pids()  # the gradients were computed in other processes


class KillWorker(nn.Callback):
    """Kill worker ``rank``'s process (SIGKILL) after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch, batch, rank=0):
        self.at, self.rank, self.trainer, self.killed = (epoch, batch), rank, None, None

    def on_epoch_begin(self, epoch, logs):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs):
        if (self.epoch, batch) == self.at:
            self.killed = self.trainer.worker_pids()[self.rank]
            os.kill(self.killed, signal.SIGKILL)


def test_a_killed_worker_is_replaced_and_the_run_ends_as_an_uninterrupted_one(cluster, tmp_path):
    from nnscratch.distributed import fit_distributed

    x, y = data()
    single, distributed = mlp(), mlp()
    expected = single.fit(x, y, epochs=2, batch_size=20, verbose=0)
    kill = KillWorker(epoch=0, batch=1, rank=1)
    hook = lambda trainer: setattr(kill, "trainer", trainer)
    seen = []
    history = fit_distributed(distributed, x, y, workers=2, epochs=2, batch_size=20, verbose=0, callbacks=[kill],
                              checkpoint_dir=tmp_path, trainer_hook=lambda t: (hook(t), seen.append(t)))
    trainer = seen[0]
    assert kill.killed is not None and kill.killed not in trainer.worker_pids()
    assert trainer.restarts == 1 and trainer.failures == 1  # the step after the kill was redone on a new worker
    assert trainer.stats["steps"] == 2 * 5
    assert_same_weights(single, distributed)
    assert_same_history(expected, history)
    assert (tmp_path / "last.npz").exists()


def test_max_failures_zero_stops_with_worker_failed_error(cluster):
    from nnscratch.distributed import WorkerFailedError, fit_distributed

    x, y = data()
    model = mlp()
    kill = KillWorker(epoch=0, batch=0)
    before = {}

    class Remember(nn.Callback):
        def on_train_batch_end(self, batch, logs):
            before.update(model.state_dict())

    with pytest.raises(WorkerFailedError, match="max_failures=0"):
        fit_distributed(model, x, y, workers=2, epochs=1, batch_size=20, verbose=0, callbacks=[Remember(), kill],
                        max_failures=0, trainer_hook=lambda t: setattr(kill, "trainer", t))
    for name, value in model.state_dict().items():  # the failed step changed nothing
        np.testing.assert_array_equal(value, before[name])


def test_resume_from_a_checkpoint_continues_the_run(cluster, tmp_path):
    from nnscratch.distributed import fit_distributed

    x, y = data()
    single = mlp()
    expected = single.fit(x, y, epochs=3, batch_size=32, verbose=0)
    first = mlp()
    fit_distributed(first, x, y, workers=2, epochs=1, batch_size=32, verbose=0, checkpoint_dir=tmp_path)
    resumed = mlp(seed=5)  # other initial weights: the checkpoint's replace them
    history = fit_distributed(resumed, x, y, workers=2, epochs=3, batch_size=32, verbose=0, checkpoint_dir=tmp_path,
                              resume=True)
    assert_same_weights(single, resumed)
    assert_same_history(expected, history)


def test_bad_arguments_are_refused_before_any_worker_starts():
    pytest.importorskip("ray", reason=RAY_MISSING)
    from nnscratch.distributed import fit_distributed

    x, y = data()

    class Custom(nn.Sequential):
        def train_step(self, x, y):
            return super().train_step(x, y)

    custom = Custom([nn.Input(shape=(8,), dtype="float64"), nn.Dense(3)], seed=0).compile(loss="mse", optimizer="sgd")
    with pytest.raises(InvalidValueError, match="overrides train_step"):
        fit_distributed(custom, x, y)
    with pytest.raises(InvalidValueError, match="workers must be an integer >= 1"):
        fit_distributed(mlp(), x, y, workers=0, verbose=0)
    with pytest.raises(InvalidValueError, match="resume=True"):
        fit_distributed(mlp(), x, y, resume=True)


def test_without_ray_the_import_fails_with_one_line_saying_how_to_install():
    code = textwrap.dedent("""
        import sys
        sys.modules["ray"] = None  # as if Ray were not installed
        try:
            import nnscratch.distributed
        except ImportError as exc:
            from nnscratch import NNScratchError
            print(type(exc).__name__, isinstance(exc, NNScratchError), str(exc), sep="|")
    """)
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=REPO, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    name, is_ours, message = out.stdout.strip().split("|")
    assert (name, is_ours) == ("DistributedUnavailableError", "True")
    assert 'pip install "nnscratch[distributed]"' in message and "\n" not in message


def tiny_bench_context(threads):
    """A torch-free benchmark context of 200 random training images (no data files read)."""
    from nnscratch.bench.context import Context

    rng = np.random.default_rng(0)
    ctx = Context(threads=threads, quick=True, reps=1, warmup=0, use_torch=False, use_sklearn=False)
    ctx._mnist = (rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), rng.integers(0, 10, 200),
                  rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50))
    ctx.real_data, ctx.data_source = False, "SYNTHETIC"
    return ctx


def test_benchmark_workload_times_ray_workers_beside_one_process(cluster):
    from nnscratch.bench import workloads
    from nnscratch.bench.workloads import distributed_epoch as bench

    assert not workloads.WORKLOADS["distributed_epoch"].in_quick
    rows = bench.mnist_distributed_epoch(tiny_bench_context(threads=2))
    assert [(r["network"], r["impl"]) for r in rows] == [("mlp", "nnscratch"), ("mlp", bench.RAY),
                                                         ("cnn", "nnscratch"), ("cnn", bench.RAY)]
    for one, ray_row in (rows[:2], rows[2:]):
        assert one["config"] == ray_row["config"] and one["samples"] == ray_row["samples"] == 200
        assert ray_row["workers"] == ray_row["cores"] == one["cores"] == 2 and ray_row["median_s"] > 0
        assert ray_row["compute_ms"] > 0 and ray_row["sync_ms"] > 0
        np.testing.assert_allclose(ray_row["step_ms"], ray_row["compute_ms"] + ray_row["sync_ms"])
        assert ray_row["bytes_per_step"] == 3 * 4 * ray_row["params"]  # float32 weights out, 2 gradients back
        assert ray_row["redone_steps"] == 0
    assert rows[1]["params"] == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10


def test_benchmark_workload_without_ray_is_skipped_with_the_install_hint(monkeypatch):
    from nnscratch.bench.workloads import distributed_epoch as bench

    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    monkeypatch.delitem(sys.modules, "nnscratch.distributed", raising=False)
    ctx = tiny_bench_context(threads=1)
    assert bench.mnist_distributed_epoch(ctx) == []
    assert any(note.startswith("distributed_epoch skipped") and 'pip install "nnscratch[distributed]"' in note
               for note in ctx.notes)


def test_scaling_model_reads_the_workload_rows():
    from nnscratch.bench import distributed_scaling as scaling
    from nnscratch.bench.workloads.distributed_epoch import RAY

    weights = 4 * 235_146  # the MLP's float32 weights
    rows = [{"workload": "distributed_epoch", "impl": RAY, "network": "mlp", "workers": w, "sync_ms": sync,
             "compute_us_per_sample": 23.0, "bytes_per_step": (w + 1) * weights} for w, sync in ((1, 7.0), (2, 9.0))]
    inputs = scaling.model_inputs(rows)["mlp"]
    assert inputs == {"c_us": 23.0, "s0_ms": 5.0, "s1_ms": 2.0, "weight_bytes": weights}
    t_ps, t_ar = scaling.exchange_ms(inputs, 8)  # 10 GbE, 50 us per hop, 1 ms fixed
    np.testing.assert_allclose(t_ps, 5 + 8 * (2 + 2e3 * weights / 1.25e9))
    np.testing.assert_allclose(t_ar, 1 + 2 * 7 * 0.05 + 2e3 * weights * 7 / (8 * 1.25e9))
    assert round(t_ps) == 33 and round(t_ar, 1) == 3.0  # the figures of docs/distributed.md
    table = scaling.scaling_table(rows).splitlines()
    assert table[-4].split()[:5] == ["8", "|", f"{t_ps:.1f}", "|", f"{1e3 * t_ps / 23:,.0f}"]  # B/W: T_ps / c
    with pytest.raises(InvalidValueError, match="needs 1 and 2"):
        scaling.model_inputs(rows[:1])
