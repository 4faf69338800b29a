"""``Model``: a module with the training API — ``compile``, ``fit``, ``evaluate``, ``predict``, ``save``.

The loop in ``fit`` is the whole trainer: for each mini-batch it zeroes the gradients, runs forward, the
loss and backward, and lets the optimizer step. Subclasses (``Sequential``) provide forward/backward.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from . import losses, metrics as metrics_mod, optimizers
from .callbacks import Callback
from .errors import InvalidValueError, NotBuiltError, TrainingDivergedError
from .history import History
from .layers.activations import Activation, Sigmoid, Softmax
from .module import Module
from .progress import ProgressBar
from .validation import as_float_array, as_targets, positive_int


def make_rng(seed: Any) -> np.random.Generator | np.random.RandomState:
    """A generator from ``None`` (fresh entropy), an int seed, or an existing Generator/RandomState."""
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        return np.random.default_rng(seed)
    raise InvalidValueError(f"seed must be None, a non-negative int or a numpy Generator/RandomState, got {seed!r}")


class Model(Module):
    """Base class of trainable models. ``seed`` drives weight initialization, shuffling and dropout."""

    def __init__(self, seed: Any = None, dtype: Any = "float32") -> None:
        super().__init__()
        self.set_dtype(dtype)
        self.set_rng(make_rng(seed))
        self.loss: losses.Loss | None = None
        self.optimizer: optimizers.Optimizer | None = None
        self.metrics: list[metrics_mod.Metric] = []
        self.stop_training = False
        self._epoch_seen = 0

    # ------------------------------------------------------------------ set-up
    def build(self, input_shape: tuple[int, ...]) -> Model:
        """Create every parameter for samples of shape ``input_shape`` (one forward pass on zeros)."""
        if not self.built:
            self.forward(np.zeros((1, *input_shape), dtype=self.dtype), training=False)
        return self

    def output_activation(self) -> Activation | None:
        """The final activation, if the model ends in one (used to fuse it with the loss)."""
        return None

    def compile(self, loss: str | losses.Loss = "mse", optimizer: str | optimizers.Optimizer = "adam",
                metrics: Iterable[str | metrics_mod.Metric] = ()) -> Model:
        """Choose the loss, the optimizer (name or instance; it receives the parameters) and the metrics."""
        self.loss = losses.get(loss)
        self.optimizer = optimizers.get(optimizer)
        self._metric_names = list(metrics)
        return self

    _metric_names: list = []

    def _prepare(self, input_shape: tuple[int, ...], training: bool = True) -> None:
        """Build, hand the parameters to the optimizer, resolve metrics and the fused loss."""
        if self.loss is None or (training and self.optimizer is None):
            raise NotBuiltError("call model.compile(loss=..., optimizer=...) before fit/evaluate")
        self.build(input_shape)
        if training:
            self.optimizer.attach(self.parameters())
        outputs = int(np.prod(self.forward(np.zeros((1, *input_shape), self.dtype)).shape[1:]))
        self.metrics = [metrics_mod.get(m, outputs) for m in self._metric_names]
        act, loss = self.output_activation(), self.loss
        fusable = (isinstance(act, Softmax) and isinstance(loss, losses.CategoricalCrossEntropy)) or (
            isinstance(act, Sigmoid) and isinstance(loss, losses.BinaryCrossEntropy))
        self._fused = act if fusable and not loss.from_logits else None
        self._train_loss = type(loss)(from_logits=True) if self._fused is not None else loss

    def _loss_value(self, out: np.ndarray, y: np.ndarray) -> float:
        """Loss of a forward output; with a fused activation it is computed from the logits."""
        return self._train_loss.forward(self._fused.x if self._fused is not None else out, y)

    # ------------------------------------------------------------------ training
    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """One optimizer step on a batch; returns the batch loss (before the step) and the output."""
        self.optimizer.zero_grad()
        out = self.forward(x, training=True)
        value = self._loss_value(out, y)
        if not math.isfinite(value):
            return value, out
        grad = self._train_loss.backward()
        if self._fused is not None:
            self._fused.fused = True
            try:
                self.backward(grad)
            finally:
                self._fused.fused = False
        else:
            self.backward(grad)
        self.optimizer.step()
        return value, out

    def fit(self, x: Any, y: Any, epochs: int = 1, batch_size: int | None = 32, shuffle: bool = True,
            validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.0,
            callbacks: Iterable[Callback] = (), verbose: int | str = "auto", initial_epoch: int = 0) -> History:
        """Train on ``x`` ``(samples, ...)`` and ``y`` ``(samples, ...)`` for ``epochs`` epochs.

        ``batch_size=None`` is full-batch gradient descent; the last partial batch is kept. Data are
        reshuffled every epoch when ``shuffle``. ``validation_split`` holds out the last fraction of the
        samples (before shuffling). ``verbose``: 0 silent, 1 progress display, ``"auto"`` = 1.
        Returns a ``History`` of per-epoch ``loss``, metrics and their ``val_`` counterparts.
        """
        epochs = positive_int(epochs, "epochs", minimum=0)
        x = as_float_array(x, "x", self.dtype)
        y = as_targets(y, "y", len(x), self.dtype)
        if not 0.0 <= validation_split < 1.0:
            raise InvalidValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        if validation_split and validation_data is None:
            split = len(x) - int(round(len(x) * validation_split))
            if split < 1 or split == len(x):
                raise InvalidValueError(f"validation_split={validation_split} of {len(x)} samples leaves an empty part")
            x, y, validation_data = x[:split], y[:split], (x[split:], y[split:])
        if validation_data is not None:
            xv = as_float_array(validation_data[0], "validation x", self.dtype)
            yv = as_targets(validation_data[1], "validation y", len(xv), self.dtype)
        n = len(x)
        bs = n if batch_size is None else min(positive_int(batch_size, "batch_size"), n)
        steps = -(-n // bs)
        self._prepare(x.shape[1:])

        history = History()
        cbs = list(callbacks)
        if verbose and verbose != 0:
            cbs.append(ProgressBar())
        for cb in cbs:
            cb.set_model(self)
        self.history, self.stop_training = history, False
        for cb in cbs:
            cb.on_train_begin({"epochs": epochs, "steps": steps, "samples": n})
        batch_x = np.empty((bs, *x.shape[1:]), dtype=x.dtype) if shuffle and bs < n else None
        with self._skipping_input_grad():
            for epoch in range(initial_epoch, epochs):
                for cb in cbs:
                    cb.on_epoch_begin(epoch, {})
                order = self.rng.permutation(n) if batch_x is not None else None
                logs = self._run_epoch(x, y, bs, steps, order, batch_x, cbs, epoch)
                if validation_data is not None:
                    logs.update({f"val_{k}": v for k, v in self.evaluate(xv, yv, batch_size=max(bs, 256)).items()})
                for cb in cbs:
                    cb.on_epoch_end(epoch, logs)
                history.append(epoch, logs)
                if self.stop_training:
                    break
        for cb in cbs:
            cb.on_train_end({})
        return history

    def _run_epoch(self, x: np.ndarray, y: np.ndarray, bs: int, steps: int, order: np.ndarray | None,
                   batch_x: np.ndarray | None, cbs: list[Callback], epoch: int) -> dict[str, float]:
        """Train one epoch; metrics are computed from the outputs recorded along the way (one pass, cheap)."""
        n, seen, total = len(x), 0, 0.0
        self._epoch_y = y if order is None else y[order]
        self._epoch_out = self._epoch_seen = None
        for step in range(steps):
            start, stop = step * bs, min(step * bs + bs, n)
            if order is None:
                xb = x[start:stop]
            else:
                xb = np.take(x, order[start:stop], axis=0, out=batch_x[: stop - start], mode="clip")
            value, out = self.train_step(xb, self._epoch_y[start:stop])
            if not math.isfinite(value):
                raise TrainingDivergedError(
                    f"training diverged: the loss became {value} at epoch {epoch + 1}, batch {step + 1}; "
                    f"try a smaller learning rate (now {self.optimizer.lr:g})")
            if self.metrics:
                if self._epoch_out is None:
                    self._epoch_out = np.empty((n, *out.shape[1:]), dtype=out.dtype)
                self._epoch_out[start:stop] = out
            seen = stop
            total += value * (stop - start)
            self._epoch_seen = seen
            logs = {"loss": total / seen}
            for cb in cbs:
                cb.on_batch_end(step, logs)
            if self.stop_training:
                break
        return {**logs, **self.epoch_metrics()}

    def epoch_metrics(self) -> dict[str, float]:
        """The metrics over the batches trained so far in the current epoch (outputs before each step)."""
        if not self.metrics or not self._epoch_seen:
            return {}
        seen = self._epoch_seen
        probs = self.loss.to_probabilities(self._epoch_out[:seen])
        return {m.name: m(self._epoch_y[:seen], probs) for m in self.metrics}

    def _skipping_input_grad(self):
        """Context in which the first layer skips dL/dx, which training never uses."""
        return _NoInputGrad(self)

    # ------------------------------------------------------------------ inference
    def predict(self, x: Any, batch_size: int = 1024) -> np.ndarray:
        """Model outputs for ``x`` ``(samples, ...)``, computed in batches in inference mode."""
        x = as_float_array(x, "x", self.dtype)
        bs = positive_int(batch_size, "batch_size")
        if not self.built:
            self.build(x.shape[1:])
        first = self.forward(x[:bs])
        if len(x) <= bs:
            return first.copy()
        out = np.empty((len(x), *first.shape[1:]), dtype=first.dtype)
        out[:bs] = first
        for start in range(bs, len(x), bs):
            out[start:start + bs] = self.forward(x[start:start + bs])
        return out

    def predict_proba(self, x: Any, batch_size: int = 1024) -> np.ndarray:
        """Probabilities: ``predict`` mapped through the loss's link (sigmoid/softmax for logit losses)."""
        out = self.predict(x, batch_size)
        return self.loss.to_probabilities(out) if self.loss is not None else out

    def predict_classes(self, x: Any, batch_size: int = 1024) -> np.ndarray:
        """Class indices ``(samples,)``: arg-max for several outputs, probability > 0.5 for one."""
        probs = self.predict_proba(x, batch_size)
        if probs.ndim == 2 and probs.shape[1] > 1:
            return probs.argmax(axis=1)
        return (probs.reshape(len(probs)) > 0.5).astype(np.int64)

    def evaluate(self, x: Any, y: Any, batch_size: int = 1024) -> dict[str, float]:
        """``{"loss": ..., metric: ...}`` averaged over all samples, in inference mode."""
        x = as_float_array(x, "x", self.dtype)
        y = as_targets(y, "y", len(x), self.dtype)
        bs = positive_int(batch_size, "batch_size")
        self._prepare(x.shape[1:], training=False)
        total, totals = 0.0, [0.0] * len(self.metrics)
        for start in range(0, len(x), bs):
            xb, yb = x[start:start + bs], y[start:start + bs]
            out = self.forward(xb)
            total += self._loss_value(out, yb) * len(xb)
            probs = self.loss.to_probabilities(out)
            for i, metric in enumerate(self.metrics):
                totals[i] += metric(yb, probs) * len(xb)
        n = len(x)
        return {"loss": total / n, **{m.name: t / n for m, t in zip(self.metrics, totals)}}

    def score(self, x: Any, y: Any) -> float:
        """Accuracy on ``(x, y)`` (scikit-learn's ``score``)."""
        y = np.asarray(y)
        return float(np.mean(self.predict_classes(x) == (y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1))))

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write architecture (JSON) and weights to one ``.npz`` file, atomically; returns the path."""
        from .serialization import save_model

        return save_model(self, path)

    def load_weights(self, path: str | os.PathLike) -> None:
        """Load weights saved by ``save`` into this (same-architecture) model."""
        from .serialization import read_model_file

        config, arrays = read_model_file(path)
        if not self.built:
            self.build(tuple(config["input_shape"]))
        self.load_state_dict(arrays)

    def summary(self) -> str:
        """A table of modules, output shapes unknown, parameter counts."""
        rows = [f"{'parameter':<40}{'shape':<20}{'count':>10}"]
        total = 0
        for name, p in self.named_parameters(include_frozen=True):
            rows.append(f"{name:<40}{str(p.shape):<20}{p.data.size:>10}")
            total += p.data.size
        rows.append(f"total parameters: {total}")
        return "\n".join(rows)


class _NoInputGrad:
    """Sets ``input_grad = False`` on the model's first layer that has the flag, for the duration."""

    def __init__(self, model: Model) -> None:
        self.layer = None
        for m in model.modules():
            if hasattr(m, "input_grad"):
                self.layer = m
                break
            if m is not model and any(True for _ in m.named_parameters()):
                break

    def __enter__(self) -> None:
        if self.layer is not None:
            self.layer.input_grad = False

    def __exit__(self, *exc: Any) -> None:
        if self.layer is not None:
            self.layer.input_grad = True
