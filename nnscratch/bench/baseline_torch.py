"""PYTORCH CPU BASELINE (optional): the same MLPs and CNN, data, batch sizes and optimizers as the workloads.

Only imported when torch is installed (``available()``); the suite, its tests and ``--quick`` never
need it. The loop is the plain idiomatic one: index a mini-batch, ``zero_grad``, forward, loss,
``backward``, ``step`` — no DataLoader, no ``.item()`` per step. ``set_threads(T)`` pins PyTorch's
intra-op thread pool to the worker's thread count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError


def available() -> bool:
    """True when PyTorch imports."""
    try:
        import torch  # noqa: F401
    except Exception:  # ImportError, or a broken install raising OSError
        return False
    return True


def set_threads(threads: int) -> int:
    """Use ``threads`` intra-op threads (and one inter-op thread); returns what torch reports."""
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # can only be set once, before any parallel work
        pass
    return torch.get_num_threads()


def build(sizes: list[int], hidden: str = "relu", output: str = "softmax_ce", dtype: Any = np.float32,
          seed: int = 0) -> Any:
    """A fresh ``torch.nn.Sequential`` MLP of widths ``sizes`` (tanh/ReLU hidden, tanh output for tanh_mse)."""
    import torch

    torch.manual_seed(seed)
    layers: list[Any] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        last = i == len(sizes) - 2
        if not last:
            layers.append(torch.nn.ReLU() if hidden == "relu" else torch.nn.Tanh())
        elif output in ("tanh_mse",):
            layers.append(torch.nn.Tanh())
    net = torch.nn.Sequential(*layers)
    return net.to(torch.float64 if np.dtype(dtype) == np.float64 else torch.float32)


def train(x: np.ndarray, y: np.ndarray, sizes: list[int], *, epochs: int = 1, batch_size: int = 128,
          optimizer: str = "momentum", lr: float = 0.01, momentum: float = 0.9, hidden: str = "relu",
          output: str = "softmax_ce", dtype: Any = np.float32, seed: int = 0, shuffle: bool = True) -> Any:
    """Train a fresh network; ``y`` are integer labels (softmax_ce) or float targets ``(N, outputs)`` (mse outputs).

    ``output``: "softmax_ce" (logits + cross-entropy), "tanh_mse" (tanh outputs + MSE) or "linear_mse".
    Returns the trained ``torch.nn.Sequential``.
    """
    import torch

    dtype = np.dtype(dtype)
    net = build(sizes, hidden, output, dtype, seed)
    X = torch.from_numpy(np.ascontiguousarray(x, dtype))
    if output == "softmax_ce":
        Y = torch.from_numpy(np.asarray(y, np.int64))
        loss_fn: Any = torch.nn.functional.cross_entropy
    else:
        y = np.asarray(y)
        if y.ndim == 1:  # labels -> one-hot targets
            onehot = np.zeros((len(y), sizes[-1]), dtype)
            onehot[np.arange(len(y)), y] = 1
            y = onehot
        Y = torch.from_numpy(np.ascontiguousarray(y, dtype))
        loss_fn = torch.nn.functional.mse_loss
    opt: Any
    if optimizer == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=lr)
    elif optimizer == "momentum":
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    elif optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    else:
        raise InvalidValueError(f"unknown optimizer {optimizer!r}")
    n = len(X)
    gen = torch.Generator().manual_seed(seed + 1)
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen) if shuffle else None
        for start in range(0, n, batch_size):
            if order is None:
                xb, yb = X[start:start + batch_size], Y[start:start + batch_size]
            else:
                idx = order[start:start + batch_size]
                xb, yb = X[idx], Y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
    return net


def build_cnn(seed: int = 0) -> Any:
    """The issue's CNN, NCHW: Conv2d(1,8,3,pad 1)-ReLU-MaxPool(2)-Conv2d(8,16,3,pad 1)-ReLU-MaxPool(2)-
    Linear(784,10)."""
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 10))


def to_nchw(x: np.ndarray) -> np.ndarray:
    """Channels-last ``(N, H, W, C)`` images as contiguous channels-first ``(N, C, H, W)`` (free for C = 1)."""
    return np.ascontiguousarray(np.asarray(x).transpose(0, 3, 1, 2))


def train_cnn(x: np.ndarray, y: np.ndarray, *, epochs: int = 1, batch_size: int = 64, lr: float = 1e-3,
              seed: int = 0, shuffle: bool = True) -> Any:
    """Train a fresh ``build_cnn`` network with Adam and cross-entropy on NHWC float32 images ``x`` and
    integer labels ``y`` (converted to NCHW once, PyTorch's native layout); the same loop as ``train``."""
    return train_classifier(build_cnn(seed), to_nchw(np.asarray(x, np.float32)), y, epochs=epochs,
                            batch_size=batch_size, lr=lr, seed=seed, shuffle=shuffle)


def build_lstm(features: int, units: int, classes: int, seed: int = 0) -> Any:
    """``nn.LSTM`` (batch first) over ``(N, T, features)`` sequences, its last state through ``nn.Linear``."""
    import torch

    torch.manual_seed(seed)

    class LastState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(features, units, batch_first=True)
            self.out = torch.nn.Linear(units, classes)

        def forward(self, inputs: Any) -> Any:
            _, (h, _) = self.lstm(inputs)
            return self.out(h[0])

    return LastState()


def train_classifier(net: Any, x: np.ndarray, y: np.ndarray, *, epochs: int = 1, batch_size: int = 64,
                     lr: float = 1e-3, seed: int = 0, shuffle: bool = True) -> Any:
    """Train ``net`` with Adam and cross-entropy on float32 inputs ``x`` (already in its layout) and integer
    labels ``y``, in shuffled mini-batches; returns ``net``."""
    import torch

    X = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    Y = torch.from_numpy(np.asarray(y, np.int64))
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    n = len(X)
    gen = torch.Generator().manual_seed(seed + 1)
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(X[idx]), Y[idx])
            loss.backward()
            opt.step()
    return net


def accuracy(net: Any, x: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of ``net`` on ``x``: rows of features, or NHWC images (fed to the network as NCHW)."""
    import torch

    x = to_nchw(x) if np.ndim(x) == 4 else np.ascontiguousarray(x)
    with torch.no_grad():
        dtype = next(net.parameters()).dtype
        out = net(torch.from_numpy(x).to(dtype))
    return float((out.argmax(dim=1).numpy() == np.asarray(labels)).mean())
