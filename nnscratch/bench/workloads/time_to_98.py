"""The ``mnist_to_98`` workload: time to 98% test accuracy with the MNIST MLP recipe (``nnscratch.recipes.mnist``)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

import nnscratch as nn

from ..context import Context
from ..flops import mlp_train_flops
from ..impls import OURS
from ..machine import MemoryProbe
from ..timing import make_row
from .mlp_epoch import EPOCH_SIZES


def mnist_to_98(ctx: Context) -> list[dict[str, Any]]:
    """Time to 98% test accuracy with the default MNIST recipe (test set checked per epoch)."""
    ctx.mnist()
    if not ctx.real_data:
        ctx.note("mnist_to_98 skipped: it needs the real MNIST files")
        return []
    from ...recipes import mnist as tm  # the recipe examples/train_mnist.py and `nnscratch train-mnist` run
    target = 0.98
    times: list[float] = []
    epochs_needed: list[int | None] = []
    accs: list[float | None] = []
    memory: dict[str, Any] | None = None
    for rep in range(ctx.reps_for(3, 1)):
        recipe = tm.build_recipe(ctx.mnist())

        class Until(nn.Callback):
            def __init__(self, x_test: np.ndarray, y_test: np.ndarray) -> None:
                self.x_test, self.y_test = x_test, y_test
                self.eval_seconds = 0.0
                self.reached: int | None = None
                self.accuracy: float | None = None

            def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
                t0 = time.perf_counter()
                acc = self.accuracy = float(self.model.evaluate(self.x_test, self.y_test, return_dict=True)["accuracy"])
                self.eval_seconds += time.perf_counter() - t0
                if acc >= target:
                    self.reached = epoch + 1
                    self.model.stop_training = True

        until = Until(recipe.x_test, recipe.y_test)
        probe = MemoryProbe() if rep == 0 else None
        t0 = time.perf_counter()
        recipe.model.fit(recipe.x_train, recipe.y_train, **recipe.fit_kwargs(validation=False), callbacks=[until],
                         verbose=0)
        times.append(time.perf_counter() - t0 - until.eval_seconds)
        if probe is not None:
            memory = probe.report()
            arrays = (recipe.x_train, recipe.y_train, recipe.x_test, recipe.y_test, recipe.x_val)
            memory["dataset_bytes"] = int(sum(a.nbytes for a in arrays if a is not None))
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
