"""The benchmark workloads and the measuring helpers they share.

Every workload is a function ``run(ctx) -> list[row]`` executed inside one worker process (one BLAS
thread setting, fresh memory). A row is one implementation on one configuration at that thread count:
its timing statistics (median and spread over ``reps`` timed repetitions after ``warmup`` untimed
ones), its step count, its useful FLOPs and anything else worth reporting. The implementations of a
configuration are timed *interleaved* (ours, baseline, torch, ..., ours, baseline, ... with the order
rotated each repetition) so that a noisy machine slows them alike and the ratios hold.

Ratios, fractions of peak and thread speedups are computed afterwards by ``run.py`` from the rows.
"""

from __future__ import annotations

import gc
import importlib.util
import itertools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import baseline_numpy as base
from .machine import MemoryProbe, measure_peak

REPO = Path(__file__).resolve().parents[1]
TRAIN_MNIST = REPO / "examples" / "train_mnist.py"

OURS = "nnscratch"
OURS_STEP = "nnscratch train_step loop"
NUMPY_CLASSIC = "numpy per-sample (classic)"
NUMPY_VEC = "numpy vectorized script"
TORCH = "torch"
SKLEARN = "sklearn MLPClassifier"


# ============================================================================ measuring helpers
def mlp_train_flops(sizes: list[int], samples: int, skip_first_input_grad: bool = True) -> int:
    """Useful matmul FLOPs of training an MLP with layer widths ``sizes`` on ``samples`` samples (one pass).

    Per layer of ``a`` inputs and ``b`` outputs and per sample: forward ``x @ W`` (2ab), weight gradient
    ``g.T @ x`` (2ab) and input gradient ``g @ W`` (2ab), i.e. 3 products of 2ab FLOPs; the first
    layer's input gradient is not needed and not counted. Element-wise work (activations, the loss,
    the optimizer) is ignored.
    """
    per_sample = sum(3 * 2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if skip_first_input_grad and len(sizes) > 1:
        per_sample -= 2 * sizes[0] * sizes[1]
    return per_sample * samples


def conv_forward_flops(oh: int, ow: int, kh: int, kw: int, c: int, oc: int, samples: int = 1) -> int:
    """FLOPs of one convolution's forward pass: ``2 * N * OH * OW * KH * KW * C * OC`` (one multiply-add each)."""
    return 2 * samples * oh * ow * kh * kw * c * oc


def cnn_train_flops(convs: list[tuple[int, int, int, int, int, int]], dense_sizes: list[int], samples: int,
                    skip_first_input_grad: bool = True) -> int:
    """Useful FLOPs of training a CNN on ``samples`` samples (one pass).

    ``convs``: ``(OH, OW, KH, KW, C, OC)`` per convolution, in order; ``dense_sizes``: the widths of the
    dense layers after the flattening (``[7*7*16, 10]``). Each convolution costs 3 times its forward
    FLOPs (forward, weight gradient, input gradient: the same ``(N*OH*OW) x (KH*KW*C) x OC`` product
    shape each), each dense layer 3 products of ``2ab``; the first convolution's input gradient is not
    needed and not counted. Pooling, activations, the loss and the optimizer are ignored.
    """
    per_sample = 3 * sum(conv_forward_flops(*conv) for conv in convs)
    per_sample += mlp_train_flops(dense_sizes, 1, skip_first_input_grad=False)
    if skip_first_input_grad and convs:
        per_sample -= conv_forward_flops(*convs[0])
    return per_sample * samples


def summarize(times: list[float]) -> dict[str, Any]:
    """Median and spread of repetition times (seconds): min, max, quartiles, IQR, mean, the raw times."""
    if not times:
        raise ValueError("summarize needs at least one time")
    arr = np.asarray(times, dtype=float)
    q1, median, q3 = (float(v) for v in np.percentile(arr, [25, 50, 75]))
    return {
        "median_s": median, "min_s": float(arr.min()), "max_s": float(arr.max()), "q1_s": q1, "q3_s": q3,
        "iqr_s": q3 - q1, "mean_s": float(arr.mean()), "reps": len(times), "times_s": [float(t) for t in times],
    }


def interleaved(candidates: dict[str, Callable[[], Any]], reps: int, warmup: int = 1,
                clock: Callable[[], float] = time.perf_counter) -> dict[str, dict[str, Any]]:
    """Time every candidate ``reps`` times, interleaved, after ``warmup`` untimed calls of each.

    Repetition ``r`` runs the candidates in their order rotated by ``r`` (A B C, B C A, C A B, ...).
    Returns ``{name: {"times": [...], "result": value returned by the last call}}``.
    """
    names = list(candidates)
    out: dict[str, dict[str, Any]] = {name: {"times": [], "result": None} for name in names}
    for _ in range(warmup):
        for name in names:
            out[name]["result"] = candidates[name]()
    for r in range(reps):
        k = r % len(names) if names else 0
        for name in names[k:] + names[:k]:
            gc.collect()
            t0 = clock()
            result = candidates[name]()
            out[name]["times"].append(clock() - t0)
            out[name]["result"] = result
    return out


def make_row(workload: str, config: str, impl: str, times: list[float], *, threads: int, dtype: str,
             steps: int, flops: int | None = None, samples: int | None = None, **extra: Any) -> dict[str, Any]:
    """One result row: statistics of ``times`` plus per-step time and achieved GFLOP/s (at the median)."""
    stats = summarize(times)
    row = {"workload": workload, "config": config, "impl": impl, "threads": threads, "dtype": dtype,
           "steps": steps, "samples": samples, "flops": flops, **stats,
           "per_step_us": stats["median_s"] / steps * 1e6 if steps else None,
           "gflops": flops / stats["median_s"] / 1e9 if flops and stats["median_s"] > 0 else None}
    row.update(extra)
    return row


# ============================================================================ context
@dataclass
class Context:
    """What a worker knows: its thread count, the repetition settings, where the data are, the notes."""

    threads: int = 1
    reps: int | None = None          # None: each workload's default
    warmup: int = 1
    quick: bool = False
    data_dir: str | None = None
    use_torch: bool = True
    use_sklearn: bool = True
    notes: list[str] = field(default_factory=list)
    data_source: str | None = None
    real_data: bool | None = None
    _mnist: Any = None

    def reps_for(self, default: int, quick: int = 2) -> int:
        if self.reps is not None:
            return self.reps
        return quick if self.quick else default

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def mnist(self) -> Any:
        """``(x_train, y_train, x_test, y_test)``: real MNIST, else synthetic uint8 data of the same shapes."""
        if self._mnist is None:
            from nnscratch.datasets import load_mnist
            from nnscratch.core.errors import DatasetError

            try:
                self._mnist = tuple(load_mnist(self.data_dir))
                self.real_data, self.data_source = True, "real MNIST"
            except DatasetError as exc:
                reason = " ".join(str(exc).split())
                reason = reason if len(reason) <= 240 else reason[:237] + "..."
                rng = np.random.default_rng(0)
                self._mnist = (rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000),
                               rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 10000))
                self.real_data = False
                self.data_source = "SYNTHETIC random images of MNIST's shape (timing only)"
                self.note(f"MNIST not available ({reason}); MNIST timings use synthetic data of the same shape, "
                          "accuracies are not reported")
        return self._mnist

    def torch(self) -> Any | None:
        """The torch baseline module with its threads set, or None (not installed / disabled)."""
        if not self.use_torch:
            return None
        from . import torch_baseline

        if not torch_baseline.available():
            self.note("PyTorch not installed: torch baselines skipped (pip install torch)")
            return None
        torch_baseline.set_threads(self.threads)
        return torch_baseline

    def sklearn(self) -> Any | None:
        if not self.use_sklearn:
            return None
        from . import sklearn_baseline

        if not sklearn_baseline.available():
            self.note("scikit-learn not installed: sklearn baseline skipped (pip install scikit-learn)")
            return None
        return sklearn_baseline


def _nn():
    import nnscratch as nn

    return nn


def load_train_mnist() -> Any:
    """``examples/train_mnist.py`` as a module (its ``build_recipe`` is the default recipe)."""
    name = "train_mnist_example"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TRAIN_MNIST)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _tanh_mlp(nn: Any, sizes: list[int], dtype: str, seed: int = 0) -> Any:
    """Dense+tanh layers for ``sizes`` (tanh on the output too, as in the classic algorithm)."""
    return nn.Sequential([nn.Dense(w, activation="tanh") for w in sizes[1:]], seed=seed, dtype=dtype)


def _onehot(labels: np.ndarray, classes: int, dtype: Any) -> np.ndarray:
    out = np.zeros((len(labels), classes), dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


# ============================================================================ workloads
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float64)


def peak(ctx: Context) -> list[dict[str, Any]]:
    """The machine's matmul peak at this thread count (best of several square products)."""
    n, reps = (1024, 3) if ctx.quick else (2048, 5)
    rows = []
    for dtype in ("float32", "float64"):
        p = measure_peak(dtype, n=n, reps=reps)
        rows.append({"workload": "peak", "config": f"{n}x{n} matmul", "impl": "numpy matmul", "threads": ctx.threads,
                     "dtype": dtype, **p})
    return rows


def xor_classic(ctx: Context) -> list[dict[str, Any]]:
    """2-3-1 tanh, MSE, SGD lr 0.1, one update per sample, 1000 epochs: nnscratch vs the classic NumPy code."""
    nn = _nn()
    epochs, lr, sizes = (250 if ctx.quick else 1000), 0.1, [2, 3, 1]
    steps = epochs * len(XOR_X)
    config = f"2-3-1 tanh, MSE, SGD lr {lr}, batch 1, {epochs} epochs, float64"

    def ours() -> float:
        model = _tanh_mlp(nn, sizes, "float64")
        model.compile(loss="mse", optimizer=nn.SGD(lr=lr))
        return model.fit(XOR_X, XOR_Y, epochs=epochs, batch_size=1, shuffle=False, verbose=0)["loss"][-1]

    def ours_step() -> float:
        model = _tanh_mlp(nn, sizes, "float64")
        model.compile(loss="mse", optimizer=nn.SGD(lr=lr))
        model.fit(XOR_X, XOR_Y, epochs=0, verbose=0)  # builds and attaches the optimizer
        value = 0.0
        for _ in range(epochs):
            for i in range(len(XOR_X)):
                value = model.train_step(XOR_X[i:i + 1], XOR_Y[i:i + 1])["loss"]
        return value

    def classic() -> float:
        return base.ClassicNetwork(sizes, seed=0).fit(XOR_X, XOR_Y, epochs, lr)[-1]

    cands: dict[str, Callable[[], Any]] = {OURS: ours, OURS_STEP: ours_step, NUMPY_CLASSIC: classic}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train(XOR_X, XOR_Y, sizes, epochs=epochs, batch_size=1, optimizer="sgd", lr=lr,
                                        hidden="tanh", output="tanh_mse", dtype=np.float64, shuffle=False)
    timed = interleaved(cands, ctx.reps_for(5), ctx.warmup)
    flops = mlp_train_flops(sizes, steps)
    rows = []
    base_step = float(np.median(timed[NUMPY_CLASSIC]["times"])) / steps * 1e6
    for name, t in timed.items():
        extra: dict[str, Any] = {}
        if name in (OURS, OURS_STEP):
            extra["overhead_us_per_step"] = float(np.median(t["times"])) / steps * 1e6 - base_step
        if name in (OURS, NUMPY_CLASSIC):
            extra["final_loss"] = float(t["result"])
        rows.append(make_row("xor_classic", config, name, t["times"], threads=ctx.threads, dtype="float64",
                             steps=steps, flops=flops, samples=steps, **extra))
    return rows


class StopAtAccuracy:
    """Callback factory: stop ``fit`` once the epoch's ``accuracy`` log reaches ``target``."""

    @staticmethod
    def make(target: float = 1.0) -> Any:
        nn = _nn()

        class _Stop(nn.Callback):
            def __init__(self) -> None:
                self.reached_epoch: int | None = None

            def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
                if logs.get("accuracy", 0.0) >= target and self.reached_epoch is None:
                    self.reached_epoch = epoch + 1
                    self.model.stop_training = True

        return _Stop()


def xor_vectorized(ctx: Context) -> list[dict[str, Any]]:
    """2-3-1 tanh full batch for 1000 epochs (vs plain NumPy, torch); time to 100% with the best recipe."""
    nn = _nn()
    epochs, lr, sizes = (250 if ctx.quick else 1000), 0.1, [2, 3, 1]
    config = f"2-3-1 tanh, MSE, SGD lr {lr}, full batch, {epochs} epochs, float64"

    def ours() -> float:
        model = _tanh_mlp(nn, sizes, "float64")
        model.compile(loss="mse", optimizer=nn.SGD(lr=lr))
        return model.fit(XOR_X, XOR_Y, epochs=epochs, batch_size=None, shuffle=False, verbose=0)["loss"][-1]

    def plain() -> float:
        return base.train_vectorized(XOR_X, XOR_Y, sizes, epochs=epochs, batch_size=4, optimizer="sgd", lr=lr,
                                     hidden="tanh", output="tanh_mse", dtype=np.float64, shuffle=False)[1][-1]

    cands: dict[str, Callable[[], Any]] = {OURS: ours, NUMPY_VEC: plain}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train(XOR_X, XOR_Y, sizes, epochs=epochs, batch_size=4, optimizer="sgd", lr=lr,
                                        hidden="tanh", output="tanh_mse", dtype=np.float64, shuffle=False)
    timed = interleaved(cands, ctx.reps_for(5), ctx.warmup)
    flops = mlp_train_flops(sizes, epochs * len(XOR_X))
    rows = [make_row("xor_vectorized", config, name, t["times"], threads=ctx.threads, dtype="float64", steps=epochs,
                     flops=flops, samples=epochs * len(XOR_X)) for name, t in timed.items()]

    # Time to 100% accuracy with the framework's best recipe, one seed per repetition.
    best = "2-8-1 tanh + sigmoid, binary cross-entropy, Adam lr 0.1, full batch, stop at 100% accuracy"
    max_epochs = 1000
    times, epochs_needed, reached = [], [], 0
    for seed in range(ctx.reps_for(5, 3)):
        model = nn.Sequential([nn.Dense(8, activation="tanh"), nn.Dense(1, activation="sigmoid")], seed=seed,
                              dtype="float64")
        model.compile(loss="binary_crossentropy", optimizer=nn.Adam(lr=0.1), metrics=["accuracy"])
        stop = StopAtAccuracy.make(1.0)
        t0 = time.perf_counter()
        model.fit(XOR_X, XOR_Y, epochs=max_epochs, batch_size=None, shuffle=False, callbacks=[stop], verbose=0)
        times.append(time.perf_counter() - t0)
        epochs_needed.append(stop.reached_epoch)
        reached += stop.reached_epoch is not None
    done = [e for e in epochs_needed if e is not None]
    rows.append(make_row("xor_vectorized", best, f"{OURS} time-to-100%", times, threads=ctx.threads, dtype="float64",
                         steps=int(np.median(done)) if done else max_epochs, seeds=list(range(len(times))),
                         epochs_to_100=epochs_needed, reached=f"{reached}/{len(times)} seeds"))
    return rows


def _classic_mnist_data(ctx: Context, n_images: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x_train, y_train, x_test, y_test = ctx.mnist()
    x = x_train[:n_images].reshape(n_images, -1).astype(np.float64) / 255.0
    labels = np.asarray(y_train[:n_images])
    xt = x_test.reshape(len(x_test), -1).astype(np.float64) / 255.0
    return x, labels, _onehot(labels, 10, np.float64), xt, np.asarray(y_test)


def mnist_classic(ctx: Context) -> list[dict[str, Any]]:
    """784-100-50-10 tanh, MSE on one-hot targets, SGD lr 0.1, one update per sample, 1000 images x 35 epochs."""
    nn = _nn()
    n_images, epochs = (200, 5) if ctx.quick else (1000, 35)
    sizes, lr = [784, 100, 50, 10], 0.1
    x, labels, y, xt, yt = _classic_mnist_data(ctx, n_images)
    steps = n_images * epochs
    config = f"784-100-50-10 tanh, MSE, SGD lr {lr}, batch 1, {n_images} images x {epochs} epochs, float64"

    def ours() -> Any:
        model = _tanh_mlp(nn, sizes, "float64")
        model.compile(loss="mse", optimizer=nn.SGD(lr=lr))
        model.fit(x, y, epochs=epochs, batch_size=1, shuffle=False, verbose=0)
        return model

    def classic() -> Any:
        net = base.ClassicNetwork(sizes, seed=0)
        net.fit(x, y, epochs, lr)
        return net

    cands: dict[str, Callable[[], Any]] = {OURS: ours, NUMPY_CLASSIC: classic}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train(x, y, sizes, epochs=epochs, batch_size=1, optimizer="sgd", lr=lr, hidden="tanh",
                                        output="tanh_mse", dtype=np.float64, shuffle=False)
    timed = interleaved(cands, ctx.reps_for(3, 2), ctx.warmup)
    flops = mlp_train_flops(sizes, steps)
    base_step = float(np.median(timed[NUMPY_CLASSIC]["times"])) / steps * 1e6
    rows = []
    for name, t in timed.items():
        extra: dict[str, Any] = {"data": ctx.data_source}
        if name == OURS:
            extra["overhead_us_per_step"] = float(np.median(t["times"])) / steps * 1e6 - base_step
        if ctx.real_data:
            extra["test_accuracy"] = _accuracy(name, t["result"], xt, yt)
        rows.append(make_row("mnist_classic", config, name, t["times"], threads=ctx.threads, dtype="float64",
                             steps=steps, flops=flops, samples=steps, **extra))
    return rows


def _accuracy(impl: str, trained: Any, x: np.ndarray, y: np.ndarray) -> float | None:
    """Test accuracy of whatever ``impl`` returned from training."""
    if impl == OURS:
        return float(np.mean(trained.predict_classes(x.astype(trained.dtype, copy=False)) == y))
    if impl == NUMPY_CLASSIC:
        return float(np.mean(trained.predict(x).argmax(axis=1) == y))
    if impl == NUMPY_VEC:
        return float(np.mean(base.predict_vectorized(trained[0], x, *trained[1]) == y))
    if impl == TORCH:
        from . import torch_baseline

        return torch_baseline.accuracy(trained, x, y)
    if impl == SKLEARN:
        return float(trained.score(x, y))
    return None


def mnist_vectorized(ctx: Context) -> list[dict[str, Any]]:
    """The classic MNIST network and data in mini-batches of 32 (nnscratch vs plain NumPy vs torch)."""
    nn = _nn()
    n_images, epochs, bs = (1000, 10, 32) if ctx.quick else (1000, 35, 32)
    sizes, lr = [784, 100, 50, 10], 0.1
    x, labels, y, xt, yt = _classic_mnist_data(ctx, n_images)
    steps = -(-n_images // bs) * epochs
    config = f"784-100-50-10 tanh, MSE, SGD lr {lr}, batch {bs}, {n_images} images x {epochs} epochs, float64"

    def ours() -> Any:
        model = _tanh_mlp(nn, sizes, "float64")
        model.compile(loss="mse", optimizer=nn.SGD(lr=lr))
        model.fit(x, y, epochs=epochs, batch_size=bs, shuffle=True, verbose=0)
        return model

    def plain() -> Any:
        params, _ = base.train_vectorized(x, y, sizes, epochs=epochs, batch_size=bs, optimizer="sgd", lr=lr,
                                          hidden="tanh", output="tanh_mse", dtype=np.float64)
        return params, ("tanh", "tanh_mse")

    cands: dict[str, Callable[[], Any]] = {OURS: ours, NUMPY_VEC: plain}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train(x, y, sizes, epochs=epochs, batch_size=bs, optimizer="sgd", lr=lr, hidden="tanh",
                                        output="tanh_mse", dtype=np.float64)
    timed = interleaved(cands, ctx.reps_for(5, 2), ctx.warmup)
    flops = mlp_train_flops(sizes, n_images * epochs)
    rows = []
    for name, t in timed.items():
        extra: dict[str, Any] = {"data": ctx.data_source}
        if ctx.real_data:
            extra["test_accuracy"] = _accuracy(name, t["result"], xt, yt)
        rows.append(make_row("mnist_vectorized", config, name, t["times"], threads=ctx.threads, dtype="float64",
                             steps=steps, flops=flops, samples=n_images * epochs, **extra))
    return rows


EPOCH_SIZES = [784, 256, 128, 10]
EPOCH_LR = {"momentum": 0.01, "adam": 1e-3}
HEADLINE = (128, "float32", "momentum")


def epoch_configs(quick: bool) -> list[tuple[int, str, str]]:
    """(batch, dtype, optimizer) of the epoch workload; the headline configuration comes first."""
    if quick:
        return [HEADLINE]
    grid = list(itertools.product([128, 64], ["float32", "float64"], ["momentum", "adam"]))
    grid.remove(HEADLINE)
    return [HEADLINE, *grid]


def epoch_config_name(bs: int, dtype: str, opt: str) -> str:
    return f"batch {bs}, {dtype}, {'SGD momentum 0.9' if opt == 'momentum' else 'Adam'}"


def mnist_epoch(ctx: Context) -> list[dict[str, Any]]:
    """One epoch of 784-256-128-10 ReLU + softmax CE over 60,000 images, for batch x dtype x optimizer."""
    nn = _nn()
    x_train, y_train, x_test, y_test = ctx.mnist()
    n = 12000 if ctx.quick else len(x_train)
    if n < len(x_train):
        ctx.note(f"--quick: the epoch workload uses the first {n:,} of the {len(x_train):,} training images")
    labels = np.asarray(y_train[:n])
    x32 = x_train[:n].reshape(n, -1).astype(np.float32) / np.float32(255)
    xs: dict[str, np.ndarray] = {"float32": x32}
    tb, sk = ctx.torch(), ctx.sklearn()
    rows: list[dict[str, Any]] = []
    for k, (bs, dtype, opt) in enumerate(epoch_configs(ctx.quick)):
        if dtype not in xs:
            xs[dtype] = x32.astype(dtype)
        x, lr = xs[dtype], EPOCH_LR[opt]

        def ours(x: np.ndarray = x, bs: int = bs, dtype: str = dtype, opt: str = opt, lr: float = lr) -> Any:
            model = nn.Sequential([nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(10),
                                   nn.Softmax()], seed=0, dtype=dtype)
            optimizer = nn.SGD(lr=lr, momentum=0.9) if opt == "momentum" else nn.Adam(lr=lr)
            model.compile(loss="categorical_crossentropy", optimizer=optimizer)
            model.fit(x, labels, epochs=1, batch_size=bs, verbose=0)
            return model

        def plain(x: np.ndarray = x, bs: int = bs, dtype: str = dtype, opt: str = opt, lr: float = lr) -> Any:
            params, _ = base.train_vectorized(x, labels, EPOCH_SIZES, epochs=1, batch_size=bs, optimizer=opt, lr=lr,
                                              dtype=dtype)
            return params, ("relu", "softmax_ce")

        memory = None
        if k == 0:  # peak memory of our run alone, before any baseline has run in this process
            probe = MemoryProbe()
            ours()
            memory = probe.report()
            memory["dataset_bytes"] = int(x32.nbytes + labels.nbytes)
            memory["raw_dataset_bytes"] = int(sum(a.nbytes for a in ctx.mnist()))
        cands: dict[str, Callable[[], Any]] = {OURS: ours, NUMPY_VEC: plain}
        if tb is not None:
            cands[TORCH] = (lambda x=x, bs=bs, dtype=dtype, opt=opt, lr=lr: tb.train(
                x, labels, EPOCH_SIZES, epochs=1, batch_size=bs, optimizer=opt, lr=lr, dtype=dtype))
        if sk is not None:
            cands[SKLEARN] = (lambda x=x, bs=bs, opt=opt, lr=lr: sk.train(x, labels, (256, 128), epochs=1, batch_size=bs,
                                                                         optimizer=opt, lr=lr))
        timed = interleaved(cands, ctx.reps_for(5 if k == 0 else 3, 2), ctx.warmup)
        flops = mlp_train_flops(EPOCH_SIZES, n)
        xt = None
        if ctx.real_data:
            xt = x_test.reshape(len(x_test), -1).astype(dtype) / np.dtype(dtype).type(255)
        for name, t in timed.items():
            extra: dict[str, Any] = {"data": ctx.data_source, "batch_size": bs, "optimizer": opt, "lr": lr,
                                     "headline": k == 0}
            if name == OURS and memory is not None:
                extra["memory"] = memory
            if xt is not None:
                extra["test_accuracy_after_epoch"] = _accuracy(name, t["result"], xt, np.asarray(y_test))
            rows.append(make_row("mnist_epoch", epoch_config_name(bs, dtype, opt), name, t["times"], threads=ctx.threads,
                                 dtype=dtype, steps=-(-n // bs), flops=flops, samples=n, **extra))
    return rows


# The CNN: Conv2D(8,3,same,relu)-MaxPool2D(2)-Conv2D(16,3,same,relu)-MaxPool2D(2)-Flatten-Dense(10)+softmax.
CNN_CONVS = [(28, 28, 3, 3, 1, 8), (14, 14, 3, 3, 8, 16)]   # (OH, OW, KH, KW, C, OC) per convolution
CNN_DENSE = [7 * 7 * 16, 10]
CNN_BATCH, CNN_LR, CNN_QUICK_IMAGES = 64, 1e-3, 5000
CNN_ARCH = "conv8-pool-conv16-pool-dense10"


def cnn_model(nn: Any, dtype: str = "float32", seed: int = 0) -> Any:
    """The issue's CNN in nnscratch, for ``(N, 28, 28, 1)`` channels-last images."""
    return nn.Sequential([nn.Conv2D(8, 3, padding="same", activation="relu", kernel_initializer="he_normal"), nn.MaxPool2D(2),
                          nn.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer="he_normal"), nn.MaxPool2D(2),
                          nn.Flatten(), nn.Dense(10), nn.Softmax()], seed=seed, dtype=dtype)


def mnist_cnn_epoch(ctx: Context) -> list[dict[str, Any]]:
    """One epoch of the issue's CNN over 60,000 images (batch 64, Adam, float32): nnscratch vs torch."""
    nn = _nn()
    if not all(hasattr(nn, name) for name in ("Conv2D", "MaxPool2D", "Flatten")):
        ctx.note("mnist_cnn_epoch skipped: this nnscratch has no Conv2D/MaxPool2D/Flatten")
        return []
    x_train, y_train, x_test, y_test = ctx.mnist()
    n = min(CNN_QUICK_IMAGES, len(x_train)) if ctx.quick else len(x_train)
    if n < len(x_train):
        ctx.note(f"--quick: the CNN epoch workload uses the first {n:,} of the {len(x_train):,} training images")
    labels = np.asarray(y_train[:n])
    x = x_train[:n].reshape(n, 28, 28, 1).astype(np.float32) / np.float32(255)  # NHWC
    config = f"{CNN_ARCH}, batch {CNN_BATCH}, float32, Adam lr {CNN_LR:g}, {n:,} images"

    def ours() -> Any:
        model = cnn_model(nn)
        model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=CNN_LR))
        model.fit(x, labels, epochs=1, batch_size=CNN_BATCH, verbose=0)
        return model

    # Peak memory of our epoch alone, before torch is even imported (its libraries alone are ~300 MB).
    probe = MemoryProbe()
    ours()
    memory = probe.report()
    memory["dataset_bytes"] = int(x.nbytes + labels.nbytes)
    memory["raw_dataset_bytes"] = int(sum(a.nbytes for a in ctx.mnist()))
    cands: dict[str, Callable[[], Any]] = {OURS: ours}
    tb = ctx.torch()
    if tb is not None:
        cands[TORCH] = lambda: tb.train_cnn(x, labels, epochs=1, batch_size=CNN_BATCH, lr=CNN_LR)
    timed = interleaved(cands, ctx.reps_for(3, 2), ctx.warmup)
    flops = cnn_train_flops(CNN_CONVS, CNN_DENSE, n)
    xt = x_test.reshape(len(x_test), 28, 28, 1).astype(np.float32) / np.float32(255) if ctx.real_data else None
    rows = []
    for name, t in timed.items():
        extra: dict[str, Any] = {"data": ctx.data_source, "batch_size": CNN_BATCH, "optimizer": "adam", "lr": CNN_LR,
                                 "layout": "NHWC" if name == OURS else "NCHW"}
        if name == OURS:
            extra["memory"] = memory
        if xt is not None:
            extra["test_accuracy_after_epoch"] = _accuracy(name, t["result"], xt, np.asarray(y_test))
        rows.append(make_row("mnist_cnn_epoch", config, name, t["times"], threads=ctx.threads, dtype="float32",
                             steps=-(-n // CNN_BATCH), flops=flops, samples=n, **extra))
    return rows


def mnist_to_98(ctx: Context) -> list[dict[str, Any]]:
    """Time to 98% test accuracy with examples/train_mnist.py's default recipe (test set checked per epoch)."""
    ctx.mnist()
    if not ctx.real_data:
        ctx.note("mnist_to_98 skipped: it needs the real MNIST files")
        return []
    nn = _nn()
    tm = load_train_mnist()
    target = 0.98
    times, epochs_needed, accs, memory = [], [], [], None
    for rep in range(ctx.reps_for(3, 1)):
        recipe = tm.build_recipe(ctx.mnist())

        class Until(nn.Callback):
            def __init__(self) -> None:
                self.eval_seconds, self.reached, self.accuracy = 0.0, None, None

            def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
                t0 = time.perf_counter()
                self.accuracy = self.model.evaluate(recipe.x_test, recipe.y_test, return_dict=True)["accuracy"]
                self.eval_seconds += time.perf_counter() - t0
                if self.accuracy >= target:
                    self.reached = epoch + 1
                    self.model.stop_training = True

        until = Until()
        probe = MemoryProbe() if rep == 0 else None
        t0 = time.perf_counter()
        recipe.model.fit(recipe.x_train, recipe.y_train, **recipe.fit_kwargs(validation=False), callbacks=[until],
                         verbose=0)
        times.append(time.perf_counter() - t0 - until.eval_seconds)
        if probe is not None:
            memory = probe.report()
            memory["dataset_bytes"] = int(recipe.x_train.nbytes + recipe.y_train.nbytes + recipe.x_test.nbytes
                                          + recipe.y_test.nbytes + (recipe.x_val.nbytes if recipe.x_val is not None else 0))
        epochs_needed.append(until.reached)
        accs.append(until.accuracy)
    s = recipe.settings
    config = (f"default recipe: 784-256-128-10 ReLU, Adam {s['lr_schedule']}, batch {s['batch_size']}, "
              f"up to {s['epochs']} epochs on {s['train_samples']:,} images, float32")
    done = [e for e in epochs_needed if e is not None]
    steps_per_epoch = -(-s["train_samples"] // s["batch_size"])
    median_epochs = int(np.median(done)) if done else s["epochs"]
    return [make_row("mnist_to_98", config, OURS, times, threads=ctx.threads, dtype="float32",
                     steps=median_epochs * steps_per_epoch,
                     flops=mlp_train_flops(EPOCH_SIZES, median_epochs * s["train_samples"]),
                     samples=median_epochs * s["train_samples"], epochs_to_98=epochs_needed,
                     final_test_accuracy=accs, reached=f"{len(done)}/{len(times)} runs", memory=memory,
                     data=ctx.data_source)]


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    run: Callable[[Context], list[dict[str, Any]]]
    uses_mnist: bool = False
    in_quick: bool = True


WORKLOADS: dict[str, Workload] = {w.name: w for w in [
    Workload("xor_classic", "XOR classic: 2-3-1 tanh, MSE, SGD 0.1, one update per sample (1000 epochs; --quick 250)", xor_classic),
    Workload("xor_vectorized", "XOR vectorized: full batch (1000 epochs; --quick 250); time to 100% with the best recipe",
             xor_vectorized),
    Workload("mnist_classic", "MNIST classic: 784-100-50-10 tanh, MSE, one update per sample (1000 images x 35 epochs; --quick 200 x 5)",
             mnist_classic, uses_mnist=True),
    Workload("mnist_vectorized", "MNIST vectorized: the classic network and data in mini-batches of 32 (35 epochs; --quick 10)",
             mnist_vectorized, uses_mnist=True),
    Workload("mnist_epoch", "MNIST epoch: 784-256-128-10 ReLU + softmax CE, one epoch of 60,000 images (--quick: 12,000, one config)",
             mnist_epoch, uses_mnist=True),
    Workload("mnist_cnn_epoch", "MNIST CNN epoch: conv8-pool-conv16-pool-dense10, softmax CE, Adam, batch 64, "
             "float32, one epoch of 60,000 images (--quick: 5,000)", mnist_cnn_epoch, uses_mnist=True),
    Workload("mnist_to_98", "MNIST time to 98% test accuracy, examples/train_mnist.py default recipe",
             mnist_to_98, uses_mnist=True, in_quick=False),
]}
PEAK = Workload("peak", "float32/float64 matmul peak", peak)


def get(name: str) -> Workload:
    if name == "peak":
        return PEAK
    return WORKLOADS[name]


