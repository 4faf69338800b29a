"""The benchmark workloads, by name.

Every workload is a function ``run(ctx) -> list[row]`` executed inside one worker process (one BLAS
thread setting, fresh memory). A row is one implementation on one configuration at that thread count:
its timing statistics (median and spread over ``reps`` timed repetitions after ``warmup`` untimed
ones), its step count, its useful FLOPs and anything else worth reporting. The implementations of a
configuration are timed *interleaved* (ours, baseline, torch, ..., ours, baseline, ... with the order
rotated each repetition) so that a noisy machine slows them alike and the ratios hold.

Ratios, fractions of peak and thread speedups are computed afterwards by the parent from the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..context import Context
from .classic_mnist import mnist_classic, mnist_vectorized
from .cnn_epoch import mnist_cnn_epoch
from .distributed_epoch import mnist_distributed_epoch
from .lstm_epoch import mnist_lstm_epoch
from .matmul_peak import peak
from .mlp_epoch import mnist_epoch
from .ops_dense_epoch import mnist_ops_epoch
from .resnet_epoch import mnist_resnet_epoch
from .startup import startup
from .time_to_98 import mnist_to_98
from .xor import xor_classic, xor_vectorized

__all__ = ["PEAK", "WORKLOADS", "Workload", "get"]


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    run: Callable[[Context], list[dict[str, Any]]]
    uses_mnist: bool = False
    in_quick: bool = True


WORKLOADS: dict[str, Workload] = {w.name: w for w in [
    Workload("xor_classic", "XOR classic: 2-3-1 tanh, MSE, SGD 0.1, one update per sample (1000 epochs; --quick 250)",
             xor_classic),
    Workload("xor_vectorized", "XOR vectorized: full batch (1000 epochs; --quick 250); time to 100% with the "
             "best recipe",
             xor_vectorized),
    Workload("mnist_classic", "MNIST classic: 784-100-50-10 tanh, MSE, one update per sample "
             "(1000 images x 35 epochs; --quick 200 x 5)",
             mnist_classic, uses_mnist=True),
    Workload("mnist_vectorized", "MNIST vectorized: the classic network and data in mini-batches of 32 "
             "(35 epochs; --quick 10)",
             mnist_vectorized, uses_mnist=True),
    Workload("mnist_epoch", "MNIST epoch: 784-256-128-10 ReLU + softmax CE, one epoch of 60,000 images "
             "(--quick: 12,000, one config)",
             mnist_epoch, uses_mnist=True),
    Workload("mnist_cnn_epoch", "MNIST CNN epoch: conv8-pool-conv16-pool-dense10, softmax CE, Adam, batch 64, "
             "float32, one epoch of 60,000 images (--quick: 5,000)", mnist_cnn_epoch, uses_mnist=True),
    Workload("mnist_lstm_epoch", "MNIST rows as sequences: LSTM(64) over 28 steps of 28 pixels, dense10, softmax CE, "
             "Adam, batch 128, float32, one epoch of 60,000 images (--quick: 4,000)", mnist_lstm_epoch,
             uses_mnist=True, in_quick=False),
    Workload("mnist_resnet_epoch", "MNIST residual network (the recipe's, 7 conv-bn, 2 residual blocks): 100 steps "
             "of batch 128, Adam, float32, not a full epoch (--quick: 10 steps)", mnist_resnet_epoch, uses_mnist=True,
             in_quick=False),
    Workload("mnist_ops_epoch", "MNIST epoch with Dense layers written with nnscratch.ops (differentiated by the "
             "tape) vs the built-in Dense, batch 128, Adam (--quick: 12,000 images)",
             mnist_ops_epoch, uses_mnist=True, in_quick=False),
    Workload("mnist_to_98", "MNIST time to 98% test accuracy, examples/train_mnist.py default recipe",
             mnist_to_98, uses_mnist=True, in_quick=False),
    Workload("distributed_epoch", "MNIST MLP and CNN epoch on T Ray worker processes of 1 thread vs one process on "
             "T threads and PyTorch; compute and sync per step (needs ray; --quick: 6,000 / 2,000 images)",
             mnist_distributed_epoch, uses_mnist=True, in_quick=False),
    Workload("startup", "Start-up, whole process: `import nnscratch` vs `import numpy` (interleaved, best of 20; "
             "--quick 8) and `python examples/xor.py`", startup),
]}
PEAK = Workload("peak", "float32/float64 matmul peak", peak)


def get(name: str) -> Workload:
    if name == "peak":
        return PEAK
    return WORKLOADS[name]
