"""The ``mnist_resnet_epoch`` workload: a fixed number of training steps of the recipes' residual network,
nnscratch vs the same architecture in PyTorch (``resnet_torch``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import nnscratch as nn

from ...recipes.mnist_resnet import DEFAULTS, build_resnet
from ..context import Context
from ..flops import cnn_train_flops
from ..impls import OURS, TORCH
from ..machine import MemoryProbe
from ..timing import interleaved, make_row
from .accuracy import accuracy

# (OH, OW, KH, KW, C, OC) of every convolution of build_resnet() with its defaults, in order.
RESNET_CONVS = [(28, 28, 3, 3, 1, 16), (14, 14, 3, 3, 16, 32), (14, 14, 3, 3, 32, 32), (14, 14, 3, 3, 32, 32),
                (7, 7, 3, 3, 32, 64), (7, 7, 3, 3, 64, 64), (7, 7, 3, 3, 64, 64)]
RESNET_DENSE = [64, 10]
RESNET_BATCH, RESNET_LR = DEFAULTS["batch_size"], DEFAULTS["lr"]
# An epoch (469 steps) takes minutes per repetition on two cores: a fixed number of steps instead.
RESNET_STEPS, RESNET_QUICK_STEPS = 100, 10
RESNET_ARCH = "resnet16-32-64 (7 conv-bn, 2 residual blocks, shift 2)"


def mnist_resnet_epoch(ctx: Context) -> list[dict[str, Any]]:
    """``RESNET_STEPS`` steps (one epoch over that many images) of the recipes' residual network, batch 128,
    Adam at the recipe's lr (constant), float32, shuffled: nnscratch vs torch."""
    x_train, y_train, x_test, y_test = ctx.mnist()
    steps = RESNET_QUICK_STEPS if ctx.quick else RESNET_STEPS
    n = min(steps * RESNET_BATCH, len(x_train))
    steps = -(-n // RESNET_BATCH)
    labels = np.asarray(y_train[:n])
    x = x_train[:n].reshape(n, 28, 28, 1).astype(np.float32) / np.float32(255)  # NHWC
    full_epoch = n == len(x_train)
    config = (f"{RESNET_ARCH}, batch {RESNET_BATCH}, float32, Adam lr {RESNET_LR:g} constant, "
              f"{steps} steps ({n:,} images, {'a full epoch' if full_epoch else 'not a full epoch'})")

    def ours() -> Any:
        model = build_resnet(seed=0)
        model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=RESNET_LR))
        model.fit(x, labels, epochs=1, batch_size=RESNET_BATCH, verbose=0)
        return model

    probe = MemoryProbe()  # our peak memory alone, before torch is imported
    ours()
    memory = probe.report()
    memory["dataset_bytes"] = int(x.nbytes + labels.nbytes)
    cands: dict[str, Callable[[], Any]] = {OURS: ours}
    if ctx.torch() is not None:
        from . import resnet_torch

        cands[TORCH] = lambda: resnet_torch.train(x, labels, batch_size=RESNET_BATCH, lr=RESNET_LR)
    timed = interleaved(cands, ctx.reps_for(3, 2), ctx.warmup)
    flops = cnn_train_flops(RESNET_CONVS, RESNET_DENSE, n)
    xt = x_test.reshape(len(x_test), 28, 28, 1).astype(np.float32) / np.float32(255) if ctx.real_data else None
    rows = []
    for name, t in timed.items():
        extra: dict[str, Any] = {"data": ctx.data_source, "batch_size": RESNET_BATCH, "optimizer": "adam",
                                 "lr": RESNET_LR, "layout": "NHWC" if name == OURS else "NCHW",
                                 "full_epoch": full_epoch}
        if name == OURS:
            extra["memory"] = memory
        if xt is not None:
            extra["test_accuracy_after_run"] = accuracy(name, t["result"], xt, np.asarray(y_test))
        rows.append(make_row("mnist_resnet_epoch", config, name, t["times"], threads=ctx.threads, dtype="float32",
                             steps=steps, flops=flops, samples=n, **extra))
    return rows
