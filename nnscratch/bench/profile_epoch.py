"""Where the time of one MNIST MLP epoch goes: nnscratch phase by phase vs the plain NumPy script.

    python -m nnscratch.bench.profile_epoch                  # batch 128, float32, SGD momentum, 1 thread
    python -m nnscratch.bench.profile_epoch --optimizer adam --batch-size 64 --threads 4 --cprofile 15
    python -m nnscratch.bench.profile_epoch --model cnn      # the issue's CNN, batch 64, Adam: vs torch

Prints (1) the epoch time of nnscratch, of the plain NumPy script and of the bare matrix products the
step needs (the same 8 products with the same shapes, nothing else: a lower bound), interleaved over
``--reps`` repetitions; (2) nnscratch's epoch split into phases by timing each layer's forward and
backward, the loss, ``zero_grad`` and the optimizer step (the rest is the ``fit`` loop itself: batch
gathering, loss bookkeeping, callbacks); (3) optionally the top of a cProfile of both.
With ``--model cnn`` (the ``mnist_cnn_epoch`` network, default batch 64 and Adam) the comparison is
with PyTorch when installed, and the phases also split out each convolution's ``im2col`` copies,
activation gradient and input gradient, with the median call time next to the mean (robust when other
processes share the cores).
For the owner of the core: it reads nnscratch, it changes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import nnscratch as nn

from . import baseline_numpy as base
from .context import Context
from .flops import cnn_train_flops, mlp_train_flops
from .timing import interleaved
from .workloads.cnn_epoch import CNN_CONVS, CNN_DENSE, CNN_LR, cnn_model
from .workloads.mlp_epoch import EPOCH_LR, EPOCH_SIZES

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The profiler's options (``--help``)."""
    p = argparse.ArgumentParser(prog="python -m nnscratch.bench.profile_epoch",
                                description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp",
                   help="mlp: 784-256-128-10 (default); cnn: conv8-pool-conv16-pool-dense10 (mnist_cnn_epoch)")
    p.add_argument("--batch-size", type=int, help="default: 128 (mlp), 64 (cnn)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--optimizer", choices=["momentum", "adam"], help="default: momentum (mlp), adam (cnn)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (set before NumPy loads)")
    p.add_argument("--samples", type=int, default=60000, help="training images per epoch (default: all 60,000)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--data-dir", help="MNIST folder (default: load_mnist's search path; synthetic data if absent)")
    p.add_argument("--cprofile", type=int, default=0, metavar="N", help="also print the top N cProfile entries")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Profile one epoch; the BLAS thread variables must be set before NumPy loads, so a run whose environment
    does not have them yet starts itself again with them."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if any(os.environ.get(var) != str(args.threads) for var in THREAD_VARS):
        env = {**os.environ, **{var: str(args.threads) for var in THREAD_VARS}}
        os.execve(sys.executable, [sys.executable, "-m", "nnscratch.bench.profile_epoch", *argv], env)
    nn.set_num_threads(args.threads)  # its data-parallel steps too (their replicas are not instrumented)
    if args.batch_size is None:
        args.batch_size = 64 if args.model == "cnn" else 128
    if args.optimizer is None:
        args.optimizer = "adam" if args.model == "cnn" else "momentum"
    if args.model == "cnn":
        return profile_cnn(args)
    ctx = Context(threads=args.threads, data_dir=args.data_dir)
    x_train, y_train, _, _ = ctx.mnist()
    n = min(args.samples, len(x_train))
    dtype, bs, opt = np.dtype(args.dtype), args.batch_size, args.optimizer
    x = (x_train[:n].reshape(n, -1).astype(dtype) / dtype.type(255))
    y = np.asarray(y_train[:n])
    lr = EPOCH_LR[opt]
    steps = -(-n // bs)
    print(f"one epoch: {n:,} images ({ctx.data_source}), 784-256-128-10 ReLU + softmax CE, batch {bs}, "
          f"{dtype.name}, {'SGD momentum 0.9' if opt == 'momentum' else 'Adam'}, {args.threads} BLAS thread(s), "
          f"{steps} steps")

    def make_model():
        model = nn.Sequential([nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(10),
                               nn.Softmax()], seed=0, dtype=dtype.name)
        model.compile(loss="categorical_crossentropy",
                      optimizer=nn.SGD(lr=lr, momentum=0.9) if opt == "momentum" else nn.Adam(lr=lr))
        return model

    def ours():
        make_model().fit(x, y, epochs=1, batch_size=bs, verbose=0)

    def plain():
        base.train_vectorized(x, y, EPOCH_SIZES, epochs=1, batch_size=bs, optimizer=opt, lr=lr, dtype=dtype)

    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((a, b)).astype(dtype) for a, b in zip(EPOCH_SIZES[:-1], EPOCH_SIZES[1:])]
    acts = [np.ones((bs, w), dtype) for w in EPOCH_SIZES]

    def matmuls_only():
        for _ in range(steps):
            for i, w in enumerate(ws):  # forward
                np.dot(acts[i], w, out=acts[i + 1])
            for i in range(len(ws) - 1, -1, -1):  # weight gradients, input gradients but the first
                np.dot(acts[i].T, acts[i + 1])
                if i:
                    np.dot(acts[i + 1], ws[i].T)

    timed = interleaved({"nnscratch": ours, "numpy script": plain, "matmuls only": matmuls_only}, args.reps, 1)
    flops = mlp_train_flops(EPOCH_SIZES, n)
    med = {k: float(np.median(v["times"])) for k, v in timed.items()}
    print(f"\nepoch time (median of {args.reps}, interleaved):")
    for name, t in med.items():
        print(f"  {name:14} {t * 1e3:9.1f} ms  {t / steps * 1e6:8.1f} us/step  {flops / t / 1e9:7.1f} GFLOP/s"
              + (f"  ({t / med['matmuls only']:.2f}x the bare products)" if name != "matmuls only" else ""))

    # ---------------------------------------------------------------- phases of nnscratch's step
    model = make_model()
    model.fit(x[:bs], y[:bs], epochs=1, batch_size=bs, verbose=0)  # build + attach
    spent: dict[str, float] = {}
    clock = time.perf_counter

    def wrap(obj, method: str, label: str) -> None:
        inner = getattr(obj, method)

        def timed_call(*a, **k):
            t0 = clock()
            try:
                return inner(*a, **k)
            finally:
                spent[label] = spent.get(label, 0.0) + clock() - t0
        setattr(obj, method, timed_call)

    for i, layer in enumerate(model.layers):
        wrap(layer, "forward_call", f"layer {i} {type(layer).__name__} forward")
        wrap(layer, "backward_call", f"layer {i} {type(layer).__name__} backward")
    train_loss = model.trainer.train_losses[0]  # the loss fit uses (fused with the softmax)
    wrap(train_loss, "forward", "loss forward")
    wrap(train_loss, "backward", "loss backward")
    wrap(model.optimizer, "zero_grad", "optimizer.zero_grad")
    wrap(model.optimizer, "step", "optimizer.step")
    t0 = clock()
    model.fit(x, y, epochs=1, batch_size=bs, verbose=0)
    total = clock() - t0
    # a Dense layer's forward/backward includes its activation's; report the activation separately too
    print(f"\nnnscratch epoch by phase ({total * 1e3:.1f} ms in this instrumented run):")
    accounted = 0.0
    for label, t in spent.items():
        if "forward" in label and label.startswith("layer") or "backward" in label and label.startswith("layer"):
            accounted += t
        elif not label.startswith("layer"):
            accounted += t
    for label, t in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {label:34} {t * 1e3:8.1f} ms  {100 * t / total:5.1f}%  {t / steps * 1e6:7.1f} us/step")
    rest = total - accounted
    print(f"  {'fit loop (gather, bookkeeping)':34} {rest * 1e3:8.1f} ms  {100 * rest / total:5.1f}%  "
          f"{rest / steps * 1e6:7.1f} us/step")

    if args.cprofile:
        import cProfile
        import pstats

        for name, fn in (("nnscratch", ours), ("numpy script", plain)):
            prof = cProfile.Profile()
            prof.runcall(fn)
            print(f"\ncProfile of one epoch, {name} (top {args.cprofile} by own time):")
            pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(args.cprofile)
    return 0


def _phase_timer() -> tuple[dict[str, list[float]], Callable[..., None]]:
    """``(calls, wrap)``: ``wrap(obj, method, label)`` appends the seconds of every ``obj.method`` call to
    ``calls[label]``; ``label`` may also be a function of the call's arguments that returns the label."""
    calls: dict[str, list[float]] = {}

    def wrap(obj: Any, method: str, label: Any) -> None:
        inner = getattr(obj, method)
        if isinstance(label, str):
            calls.setdefault(label, [])  # report in the order of wrapping

        def timed_call(*a, **k):
            t0 = time.perf_counter()
            try:
                return inner(*a, **k)
            finally:
                name = label if isinstance(label, str) else label(*a, **k)
                calls.setdefault(name, []).append(time.perf_counter() - t0)
        setattr(obj, method, timed_call)

    return calls, wrap


def profile_cnn(args: argparse.Namespace) -> int:
    """The ``mnist_cnn_epoch`` network: epoch time vs torch (interleaved), then nnscratch phase by phase."""
    ctx = Context(threads=args.threads, data_dir=args.data_dir)
    x_train, y_train, _, _ = ctx.mnist()
    n = min(args.samples, len(x_train))
    dtype, bs = np.dtype(args.dtype), args.batch_size
    x = x_train[:n].reshape(n, 28, 28, 1).astype(dtype) / dtype.type(255)
    y = np.asarray(y_train[:n])
    lr = CNN_LR if args.optimizer == "adam" else 0.01
    steps = -(-n // bs)
    print(f"one epoch: {n:,} images ({ctx.data_source}), conv8-pool-conv16-pool-dense10 + softmax CE, batch {bs}, "
          f"{dtype.name}, {'Adam' if args.optimizer == 'adam' else 'SGD momentum 0.9'} lr {lr:g}, "
          f"{args.threads} BLAS thread(s), {steps} steps")

    def make_model():
        model = cnn_model(dtype.name)
        model.compile(loss="categorical_crossentropy",
                      optimizer=nn.Adam(lr=lr) if args.optimizer == "adam" else nn.SGD(lr=lr, momentum=0.9))
        return model

    cands = {"nnscratch": lambda: make_model().fit(x, y, epochs=1, batch_size=bs, verbose=0)}
    tb = ctx.torch()
    if tb is not None and args.optimizer == "adam" and dtype == np.float32:
        cands["torch"] = lambda: tb.train_cnn(x, y, epochs=1, batch_size=bs, lr=lr)
    timed = interleaved(cands, args.reps, 1)
    flops = cnn_train_flops(CNN_CONVS, CNN_DENSE, n)
    med = {k: float(np.median(v["times"])) for k, v in timed.items()}
    print(f"\nepoch time (median of {args.reps}, interleaved):")
    for name, t in med.items():
        print(f"  {name:10} {t * 1e3:9.1f} ms  {t / steps * 1e6:8.1f} us/step  {flops / t / 1e9:7.2f} GFLOP/s"
              + (f"  (ours/torch {med['nnscratch'] / t:.2f})" if name == "torch" else ""))

    model = make_model()
    model.fit(x[:bs], y[:bs], epochs=1, batch_size=bs, verbose=0)  # build + attach
    calls, wrap = _phase_timer()
    for i, layer in enumerate(model.layers):
        name = f"layer {i} {type(layer).__name__}"
        wrap(layer, "forward_call", f"{name} forward")
        wrap(layer, "backward_call", f"{name} backward")
        if isinstance(layer, nn.Conv2D):  # parts of the two lines above
            parts = {"cols": f"  of which {name} im2col (forward)", "gcols": f"  of which {name} im2col (backward)"}
            for label in parts.values():
                calls.setdefault(label, [])
            wrap(layer, "_im2col", lambda ws, x, pads, buffer, *a, parts=parts, **k: parts[buffer])
            wrap(layer, "_activation_grad", f"  of which {name} activation backward")
            for method in ("_input_grad_flipped", "_input_grad_col2im"):
                wrap(layer, method, f"  of which {name} input gradient")
    train_loss = model.trainer.train_losses[0]  # the loss fit uses (fused with the softmax)
    wrap(train_loss, "forward", "loss forward")
    wrap(train_loss, "backward", "loss backward")
    wrap(model.optimizer, "zero_grad", "optimizer.zero_grad")
    wrap(model.optimizer, "step", "optimizer.step")
    t0 = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=bs, verbose=0)
    total = time.perf_counter() - t0
    # Other processes preempt some calls; the median call is robust to that, the mean is not.
    typical = {label: float(np.median(ts)) * len(ts) / steps if ts else 0.0 for label, ts in calls.items()}
    accounted = sum(sum(ts) for label, ts in calls.items() if not label.startswith(" "))
    print(f"\nnnscratch epoch by phase ({total * 1e3:.1f} ms in this instrumented run; 'of which' lines are parts "
          "of the line above them; 'median' is the median call times the calls per step):")
    print(f"  {'phase':52} {'total':>9}  {'share':>6}  {'mean/step':>10}  {'median/step':>11}")
    for label, ts in calls.items():
        if not ts:
            continue
        t = sum(ts)
        print(f"  {label:52} {t * 1e3:6.1f} ms  {100 * t / total:5.1f}%  {t / steps * 1e6:7.1f} us  "
              f"{typical[label] * 1e6:8.1f} us")
    rest = total - accounted
    print(f"  {'fit loop (gather, bookkeeping)':52} {rest * 1e3:6.1f} ms  {100 * rest / total:5.1f}%  "
          f"{rest / steps * 1e6:7.1f} us")
    step = sum(t for label, t in typical.items() if not label.startswith(" "))
    print(f"  {'sum of the medians (without the fit loop)':52} {'':9}  {'':6}  {'':10}  {step * 1e6:8.1f} us")
    if args.cprofile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(cands["nnscratch"])
        print(f"\ncProfile of one epoch, nnscratch (top {args.cprofile} by own time):")
        pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(args.cprofile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
