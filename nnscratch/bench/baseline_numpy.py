"""PLAIN NUMPY BASELINES — not nnscratch. The yardsticks the framework is timed against.

1. ``ClassicNetwork``: the classic "neural network from scratch" algorithm, one sample at a time.
   Layer objects with ``forward``/``backward`` on a single ``(1, features)`` row, weights drawn from
   ``uniform(-0.5, 0.5)``, tanh activations, mean squared error, plain SGD that updates the weights
   inside ``backward`` right after each sample. This is the well-known tutorial structure (XOR with
   2-3-1 tanh for 1000 epochs; MNIST 784-100-50-10 tanh on 1000 images for 35 epochs, lr 0.1).
   It computes the input gradient of the first layer too, as the classic code does.

2. ``train_vectorized``: the "60-line plain NumPy script": a mini-batch MLP written directly with
   matrix products (``x @ W``), ReLU or tanh hidden layers, softmax cross-entropy or tanh + MSE
   output, and SGD / SGD with momentum / Adam updates done in place. It does the same matrix
   products as the framework (and skips the first layer's input gradient, like the framework), with
   no layers, no validation, no callbacks: what a careful person writes by hand.

Both use only NumPy and take a ``dtype`` so they can be compared at equal precision.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError


# ============================================================================ 1. classic, per sample
class ClassicDense:
    """Fully connected layer of the classic per-sample algorithm: ``y = x @ W + b`` on one row."""

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator, dtype: Any = np.float64) -> None:
        self.weights = (rng.random((n_in, n_out)) - 0.5).astype(dtype)
        self.bias = (rng.random((1, n_out)) - 0.5).astype(dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input = x
        return x @ self.weights + self.bias

    def backward(self, output_error: np.ndarray, lr: float) -> np.ndarray:
        input_error = output_error @ self.weights.T
        weights_error = self.input.T @ output_error
        self.weights -= lr * weights_error
        self.bias -= lr * output_error
        return input_error


class ClassicTanh:
    """tanh activation of the classic algorithm (its derivative is recomputed from the input)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input = x
        return np.tanh(x)

    def backward(self, output_error: np.ndarray, lr: float) -> np.ndarray:
        return (1 - np.tanh(self.input) ** 2) * output_error


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean((y_true - y_pred) ** 2))


def mse_prime(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return 2 * (y_pred - y_true) / y_true.size


class ClassicNetwork:
    """``ClassicNetwork([2, 3, 1])``: Dense+tanh layers, trained one sample at a time with MSE and SGD."""

    def __init__(self, sizes: list[int], seed: int = 0, dtype: Any = np.float64) -> None:
        rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        self.layers: list[Any] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            self.layers += [ClassicDense(n_in, n_out, rng, dtype), ClassicTanh()]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs for every row of ``x``, computed one sample at a time (as the classic code does)."""
        rows = []
        for i in range(len(x)):
            out = x[i:i + 1]
            for layer in self.layers:
                out = layer.forward(out)
            rows.append(out)
        return np.concatenate(rows)

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, lr: float) -> list[float]:
        """Per-sample SGD over ``x`` in order, ``epochs`` times; returns the mean loss of each epoch."""
        x = np.asarray(x, self.dtype)
        y = np.asarray(y, self.dtype)
        losses = []
        for _ in range(epochs):
            err = 0.0
            for i in range(len(x)):
                out = x[i:i + 1]
                for layer in self.layers:
                    out = layer.forward(out)
                target = y[i:i + 1]
                err += mse(target, out)
                error = mse_prime(target, out)
                for layer in reversed(self.layers):
                    error = layer.backward(error, lr)
            losses.append(err / len(x))
        return losses


# ============================================================================ 2. plain vectorized MLP
def init_params(sizes: list[int], seed: int = 0, dtype: Any = np.float32) -> list[list[np.ndarray]]:
    """Glorot-uniform weights ``(in, out)`` and zero biases, like the framework's defaults."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (n_in + n_out))
        params.append([rng.uniform(-limit, limit, (n_in, n_out)).astype(dtype), np.zeros(n_out, dtype)])
    return params


def forward(params: list[list[np.ndarray]], x: np.ndarray, hidden: str = "relu",
            output: str = "softmax_ce") -> list[np.ndarray]:
    """Activations of every layer for ``x``: ``[x, h1, ..., out]`` (``out`` = logits for softmax_ce)."""
    acts = [x]
    for i, (w, b) in enumerate(params):
        z = acts[-1] @ w
        z += b
        last = i == len(params) - 1
        if not last:
            z = np.maximum(z, 0, out=z) if hidden == "relu" else np.tanh(z, out=z)
        elif output == "tanh_mse":
            np.tanh(z, out=z)
        acts.append(z)
    return acts


def train_vectorized(x: np.ndarray, y: np.ndarray, sizes: list[int], *, epochs: int = 1, batch_size: int = 128,
                     optimizer: str = "momentum", lr: float = 0.01, momentum: float = 0.9, hidden: str = "relu",
                     output: str = "softmax_ce", dtype: Any = np.float32, seed: int = 0, shuffle: bool = True,
                     params: list[list[np.ndarray]] | None = None) -> tuple[list[list[np.ndarray]], list[float]]:
    """Mini-batch training of an MLP on ``x`` (N, features) with integer labels ``y`` (N,)
    (or, for ``output="tanh_mse"``, float targets ``y`` (N, outputs)).

    ``optimizer``: "sgd", "momentum" (PyTorch form: v = mu v + g; w -= lr v) or "adam" (b1 0.9, b2 0.999,
    eps 1e-8). ``output``: "softmax_ce" (logits + softmax cross-entropy) or "tanh_mse" (tanh outputs,
    MSE against one-hot). Returns the parameters and the mean loss of each epoch.
    """
    dtype = np.dtype(dtype)
    x = np.ascontiguousarray(x, dtype)
    y = np.asarray(y)
    n, classes = len(x), sizes[-1]
    params = params if params is not None else init_params(sizes, seed, dtype)
    state = [[np.zeros_like(p) for p in layer] for layer in params]      # momentum buffer or Adam m
    state2 = [[np.zeros_like(p) for p in layer] for layer in params]     # Adam v
    rng = np.random.default_rng(seed + 1)
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            xb, yb, m = x[idx], y[idx], len(idx)
            acts = forward(params, xb, hidden, output)
            out = acts[-1]
            if y.ndim == 2:  # float targets (MSE outputs)
                onehot = yb.astype(dtype, copy=False)
            else:
                onehot = np.zeros((m, classes), dtype)
                onehot[np.arange(m), yb] = 1
            if output == "softmax_ce":
                p = np.exp(out - out.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                total += float(-np.log(np.maximum(p[np.arange(m), yb], 1e-12)).sum())
                delta = (p - onehot) / dtype.type(m)
            else:
                diff = out - onehot
                total += float(np.mean(diff * diff)) * m
                delta = diff * dtype.type(2.0 / diff.size) * (1 - out * out)
            t += 1
            for i in range(len(params) - 1, -1, -1):
                w, b = params[i]
                gw = acts[i].T @ delta
                gb = delta.sum(axis=0)
                if i > 0:  # no input gradient for the first layer
                    delta = delta @ w.T
                    delta *= (acts[i] > 0) if hidden == "relu" else (1 - acts[i] * acts[i])
                for j, (param, g) in enumerate(((w, gw), (b, gb))):
                    if optimizer == "sgd":
                        param -= lr * g
                    elif optimizer == "momentum":
                        v = state[i][j]
                        v *= momentum
                        v += g
                        param -= lr * v
                    elif optimizer == "adam":
                        mo, ve = state[i][j], state2[i][j]
                        mo *= b1
                        mo += (1 - b1) * g
                        ve *= b2
                        ve += (1 - b2) * g * g
                        denom = np.sqrt(ve) / np.sqrt(1 - b2**t) + eps
                        param -= (lr / (1 - b1**t)) * mo / denom
                    else:
                        raise InvalidValueError(f"unknown optimizer {optimizer!r}")
        losses.append(total / n)
    return params, losses


def predict_vectorized(params: list[list[np.ndarray]], x: np.ndarray, hidden: str = "relu",
                       output: str = "softmax_ce") -> np.ndarray:
    """Predicted class index of every row of ``x``."""
    return forward(params, np.asarray(x, params[0][0].dtype), hidden, output)[-1].argmax(axis=1)
