"""``Model``: a module with the training API — ``compile``, ``fit``, ``evaluate``, ``predict``, ``save``.

The loop in ``fit`` is the whole trainer: for each mini-batch it zeroes the gradients, runs forward, the
loss and backward, and lets the optimizer step. Subclasses (``Sequential``) provide forward/backward.
"""

from __future__ import annotations

import copy
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..training import losses, metrics as metrics_mod, optimizers
from ..training.callbacks import Callback
from ..core.errors import InvalidTypeError, InvalidValueError, NotBuiltError, ShapeError, TrainingDivergedError
from ..training.history import History
from ..layers.activations import Activation, Sigmoid, Softmax
from ..core.layer import Module
from ..training.parallel import DataParallel
from ..training.progress import ProgressBar
from ..core.validation import as_float_array, as_targets, check_sample_shape, positive_int, real_number


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
        self.history: History | None = None
        self._callbacks: list[Callback] = []
        self._fit_settings: dict[str, Any] = {}
        self._epoch_seen = 0
        self._interrupted = False
        self._snapshots: _Snapshots | None = None

    # ------------------------------------------------------------------ set-up
    def build(self, input_shape: tuple[int, ...]) -> Model:
        """Create every parameter for samples of shape ``input_shape`` (one forward pass on zeros)."""
        if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
            input_shape = (int(input_shape),)
        if not isinstance(input_shape, (tuple, list)) or not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in input_shape):
            raise InvalidValueError(f"input_shape must be a tuple of positive integers (one sample's shape, "
                                    f"without the batch axis), got {input_shape!r}")
        input_shape = tuple(int(d) for d in input_shape)
        if self.built:
            check_sample_shape(np.empty((0, *input_shape)), "input_shape (as a batch)", self.input_shape)
        else:
            try:
                self.forward(np.zeros((1, *input_shape), dtype=self.dtype), training=False)
            except BaseException:
                self.input_shape = None  # a failed build leaves the model unbuilt, not built for a bad shape
                raise
        return self

    def output_activation(self) -> Activation | None:
        """The final activation, if the model ends in one (used to fuse it with the loss)."""
        return None

    def compile(self, loss: str | losses.Loss = "mse", optimizer: str | optimizers.Optimizer = "adam",
                metrics: Iterable[str | metrics_mod.Metric] = ()) -> Model:
        """Choose the loss, the optimizer (name or instance; it receives the parameters) and the metrics."""
        self.loss = losses.get(loss)
        self.optimizer = optimizers.get(optimizer)
        if isinstance(metrics, (str, metrics_mod.Metric)):
            metrics = [metrics]
        try:
            names = list(metrics)
        except TypeError:
            raise InvalidTypeError(f"metrics must be a list of names or Metric objects, got {metrics!r}") from None
        for name in names:
            metrics_mod.get(name, 2)  # unknown names fail here, with a suggestion, not at fit time
        self._metric_names = names
        return self

    _metric_names: list = []

    def _prepare(self, input_shape: tuple[int, ...], training: bool = True) -> None:
        """Build, hand the parameters to the optimizer, resolve metrics and the fused loss."""
        if self.loss is None or (training and self.optimizer is None):
            raise NotBuiltError("call model.compile(loss=..., optimizer=...) before fit/evaluate")
        self.build(input_shape)
        if training:
            self.optimizer.attach(self.parameters())
        self._output_shape = tuple(self.forward(np.zeros((1, *input_shape), self.dtype)).shape[1:])
        outputs = int(np.prod(self._output_shape))
        self.metrics = [metrics_mod.get(m, outputs) for m in self._metric_names]
        act, loss = self.output_activation(), self.loss
        fusable = (isinstance(act, Softmax) and isinstance(loss, losses.CategoricalCrossEntropy)) or (
            isinstance(act, Sigmoid) and isinstance(loss, losses.BinaryCrossEntropy))
        self._fused = act if fusable and not loss.from_logits else None
        if self._fused is not None:
            self._train_loss = type(loss)(from_logits=True)
        elif type(loss).__module__ == losses.__name__:
            self._train_loss = copy.copy(loss)  # a built-in loss: its own copy, so the user's instance is untouched
        else:
            self._train_loss = loss
        if type(self._train_loss).__module__ == losses.__name__:
            self._train_loss.validate_values = False  # fit/evaluate check the whole target array up front
        if training:  # (evaluate, which validation calls inside fit, keeps the training set-up)
            self._parallel = DataParallel(self) if DataParallel.eligible(self) else None

    def _check_data(self, x: np.ndarray, y: np.ndarray | None, names: tuple[str, str] = ("x", "y")) -> None:
        """Check ``x`` against the built input shape and ``y`` against the output shape and the loss."""
        check_sample_shape(x, names[0], self.input_shape)
        if y is not None and self.loss is not None:
            self.loss.check_targets(y, self._output_shape, names[1])

    def _loss_value(self, out: np.ndarray, y: np.ndarray) -> float:
        """Loss of a forward output; with a fused activation it is computed from the logits."""
        return self._train_loss.forward(self._fused.x if self._fused is not None else out, y)

    # ------------------------------------------------------------------ training
    _parallel: DataParallel | None = None

    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """One optimizer step on a batch; returns the batch loss (before the step) and the output.

        The batch is split across threads when the model allows it (``nnscratch.parallel``)."""
        self.optimizer.zero_grad()
        threads = self._parallel.threads_for(len(x)) if self._parallel is not None else 1
        value, out = self._parallel.step(x, y, threads) if threads > 1 else self._forward_backward(x, y)
        if math.isfinite(value):
            self.optimizer.step()
        return value, out

    def _forward_backward(self, x: np.ndarray, y: np.ndarray, weight: float = 1.0) -> tuple[float, np.ndarray]:
        """Forward, loss and backward of a batch ``x`` ``(batch, ...)``: the gradients of ``weight`` times the
        loss are added to the parameters' ``grad``. Returns the loss and the output; when the loss is not
        finite nothing is propagated back. (A data-parallel replica runs this on its chunk.)"""
        out = self.forward(x, training=True)
        value = self._loss_value(out, y)
        if not math.isfinite(value):
            return value, out
        grad = self._train_loss.backward()  # a fresh array
        if weight != 1.0:
            grad *= grad.dtype.type(weight)
        fused = self._fused
        if fused is not None:
            fused.fused = True
        try:
            self.backward(grad)
        finally:
            if fused is not None:
                fused.fused = False
        return value, out

    def fit(self, x: Any, y: Any, epochs: int = 1, batch_size: int | None = 32, shuffle: bool = True,
            validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.0,
            callbacks: Iterable[Callback] = (), verbose: int | str = "auto", initial_epoch: int = 0,
            resume_from: str | os.PathLike | None = None) -> History:
        """Train on ``x`` ``(samples, ...)`` and ``y`` ``(samples, ...)`` until ``epochs`` epochs are done.

        ``batch_size=None`` is full-batch gradient descent; the last partial batch is kept. Data are
        reshuffled every epoch when ``shuffle``. ``validation_split`` holds out the last fraction of the
        samples (before shuffling). ``verbose``: 0 silent, 1 progress display, ``"auto"`` = 1.
        Returns a ``History`` of per-epoch ``loss``, metrics and their ``val_`` counterparts.

        Everything is checked before the first step: shapes against the model and the loss, NaN/inf,
        class labels in range, argument values; errors name the argument (``docs/errors.md``).

        ``resume_from``: a checkpoint file or folder written by ``nnscratch.Checkpoint``. The weights,
        optimizer state, random generator, epoch counter, History and callback state are restored and
        training continues up to ``epochs`` (the total, not a number of extra epochs); a seeded run
        interrupted and resumed ends with the same weights, bit for bit, as one run straight through.

        Divergence: when a batch loss is NaN or inf, ``fit`` stops at once and raises
        ``TrainingDivergedError`` (epoch, batch, learning rate) after putting back the last finite weights:
        the current ones if all finite (the failing batch made no update), else those at the start of the
        epoch (or of the one before) with the matching optimizer state.

        Ctrl-C (SIGINT, main thread): the current batch finishes, ``fit`` prints one line on stderr and
        returns the History of the completed epochs with ``history.interrupted = True``; the model keeps
        the weights of its last completed step. A second Ctrl-C raises ``KeyboardInterrupt`` at once
        (the weights are then reset to those at the start of the epoch, so the model stays consistent).
        """
        from ..training.checkpoint import read_checkpoint

        epochs = positive_int(epochs, "epochs", minimum=0)
        initial_epoch = positive_int(initial_epoch, "initial_epoch", minimum=0)
        validation_split = real_number(validation_split, "validation_split", "a number in [0, 1)",
                                       lambda v: 0.0 <= v < 1.0)
        cbs = list(_as_callbacks(callbacks))
        state = None
        if resume_from is not None:
            if initial_epoch:
                raise InvalidValueError("pass either initial_epoch or resume_from, not both: a checkpoint knows its epoch")
            state = read_checkpoint(resume_from)
            state.check_compatible(self)
        x = as_float_array(x, "x", self.dtype)
        y = as_targets(y, "y", len(x), self.dtype)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise InvalidTypeError(f"validation_data must be a tuple (x_val, y_val), got "
                                       f"{type(validation_data).__name__}"
                                       f"{f' of length {len(validation_data)}' if isinstance(validation_data, (tuple, list)) else ''}")
            xv = as_float_array(validation_data[0], "validation_data[0]", self.dtype)
            yv = as_targets(validation_data[1], "validation_data[1]", len(xv), self.dtype)
        elif validation_split:
            split = len(x) - int(round(len(x) * validation_split))
            if split < 1 or split == len(x):
                raise InvalidValueError(f"validation_split={validation_split} of {len(x)} samples leaves an empty part")
            x, y, (xv, yv) = x[:split], y[:split], (x[split:], y[split:])
            validation_data = (xv, yv)
        n = len(x)
        bs = n if batch_size is None else min(positive_int(batch_size, "batch_size"), n)
        steps = -(-n // bs)
        if state is not None:
            state.check_input(x)
            if self.loss is None:
                state.compile_into(self)
        check_sample_shape(x, "x", self.input_shape)
        self._prepare(x.shape[1:])
        self._check_data(x, y)
        if validation_data is not None:
            self._check_data(xv, yv, ("validation_data[0]", "validation_data[1]"))

        history = History()
        if verbose and verbose != 0:
            cbs.append(ProgressBar())
        settings = {"epochs": epochs, "batch_size": bs, "samples": n, "shuffle": bool(shuffle),
                    "validation_samples": len(xv) if validation_data is not None else 0}
        start_epoch = initial_epoch
        if state is not None:
            state.restore(self, settings)
            history, start_epoch = state.history, state.epoch
        history.interrupted = False
        self.history, self.stop_training, self._interrupted = history, False, False
        self._callbacks, self._fit_settings = cbs, settings
        for cb in cbs:
            cb.set_model(self)
        for cb in cbs:
            cb.on_train_begin({"epochs": epochs, "steps": steps, "samples": n, "initial_epoch": start_epoch})
        if state is not None:
            state.restore_callbacks(cbs)
            self.stop_training = state.stop_training
        batch_x = np.empty((bs, *x.shape[1:]), dtype=x.dtype) if shuffle and bs < n else None
        stopped_at: tuple[int, int | None] | None = None
        self._snapshots = snapshots = _Snapshots(self)
        try:
            with _InterruptHandler(self), self._skipping_input_grad():
                for epoch in range(start_epoch, epochs):
                    if self.stop_training:  # a resumed run that had already stopped, or Ctrl-C before this epoch
                        if self._interrupted:
                            stopped_at = (epoch, 0)
                        break
                    for cb in cbs:
                        cb.on_epoch_begin(epoch, {})
                    snapshots.take(epoch)
                    order = self.rng.permutation(n) if batch_x is not None else None
                    try:
                        logs = self._run_epoch(x, y, bs, steps, order, batch_x, cbs, epoch)
                    except KeyboardInterrupt:
                        snapshots.restore_latest()  # the step may have been cut half-way: back to a consistent state
                        raise
                    if self._interrupted and self._epoch_seen < n:
                        stopped_at = (epoch, -(-self._epoch_seen // bs))
                        break
                    if validation_data is not None:
                        logs.update({f"val_{k}": v for k, v in self.evaluate(xv, yv, batch_size=max(bs, 256)).items()})
                    for cb in cbs:
                        cb.on_epoch_end(epoch, logs)
                    history.append(epoch, logs)
                    for cb in cbs:
                        cb.on_epoch_complete(epoch, logs)
                    if self.stop_training:
                        if self._interrupted:
                            stopped_at = (epoch, None)
                        break
                if stopped_at is None and not self._weights_finite():
                    last = history.epoch[-1] if history.epoch else start_epoch
                    self._diverged(math.nan, last, None, steps, "the weights became NaN or inf although the loss "
                                   "stayed finite")
        finally:
            self._snapshots, self._callbacks = None, []  # no copies or callbacks (streams) kept after training
        if stopped_at is not None:
            history.interrupted = True
            self._report_interrupt(stopped_at, steps, epochs, cbs)
        for cb in cbs:
            cb.on_train_end({"interrupted": stopped_at is not None})
        return history

    def _report_interrupt(self, stopped_at: tuple[int, int | None], steps: int, epochs: int, cbs: list[Callback]) -> None:
        """The one line printed on stderr when Ctrl-C stopped ``fit``."""
        epoch, batch = stopped_at
        if batch is None:
            line = (f"training interrupted after epoch {epoch + 1} of {epochs}: the model keeps its weights at the "
                    f"end of that epoch")
        else:
            line = (f"training interrupted at epoch {epoch + 1}, batch {batch} of {steps}: the model keeps the weights "
                    f"of its last completed step (epoch {epoch + 1} is not in the history)")
        hints = [h for h in (getattr(cb, "interrupt_hint", lambda: None)() for cb in cbs) if h]
        if hints:
            line += "; " + "; ".join(hints)
        if any(getattr(cb, "interactive", False) for cb in cbs):
            line = "\n" + line  # end the progress bar's line first
        print(line, file=sys.stderr, flush=True)

    def _weights_finite(self, with_optimizer: bool = False) -> bool:
        arrays = [p.data for _, p in self.named_parameters(include_frozen=True)]
        if with_optimizer and self.optimizer is not None:
            arrays += [a for state in self.optimizer.state for a in state.values()]
        return all(a.dtype.kind != "f" or np.isfinite(a).all() for a in arrays)

    def _diverged(self, value: float, epoch: int, step: int | None, steps: int, what: str | None = None) -> None:
        """Put back the last finite weights (and optimizer state) and raise ``TrainingDivergedError``."""
        snapshots = self._snapshots
        if self._weights_finite(with_optimizer=True):
            restored, kept = "current", "the model keeps its weights from before this batch (all finite)"
        elif snapshots is not None and (snap_epoch := snapshots.restore_finite()) is not None:
            restored = f"epoch {snap_epoch + 1}"
            kept = f"the weights had become NaN or inf, so the model was reset to its weights at the start of {restored}"
        else:
            restored, kept = None, "no finite weights were left to restore"
        where = f"at epoch {epoch + 1}, batch {step + 1} of {steps}" if step is not None else f"in epoch {epoch + 1}"
        lr = self.optimizer.lr if self.optimizer is not None else math.nan
        cause = what or f"the loss became {value}"
        raise TrainingDivergedError(
            f"training diverged: {cause} {where}; {kept}; try a smaller learning rate (now {lr:g}) "
            f"or check the scale of the inputs", epoch=epoch, batch=step, loss=value, history=self.history,
            restored_from=restored)

    def _run_epoch(self, x: np.ndarray, y: np.ndarray, bs: int, steps: int, order: np.ndarray | None,
                   batch_x: np.ndarray | None, cbs: list[Callback], epoch: int) -> dict[str, float]:
        """Train one epoch; metrics are computed from the outputs recorded along the way (one pass, cheap)."""
        n, seen, total = len(x), 0, 0.0
        self._epoch_y = y if order is None else y[order]
        self._epoch_out = None
        self._epoch_seen = 0
        for step in range(steps):
            start, stop = step * bs, min(step * bs + bs, n)
            if order is None:
                xb = x[start:stop]
            else:
                xb = np.take(x, order[start:stop], axis=0, out=batch_x[: stop - start], mode="clip")
            value, out = self.train_step(xb, self._epoch_y[start:stop])
            if not math.isfinite(value):
                self._diverged(value, epoch, step, steps)
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
        check_sample_shape(x, "x", self.input_shape)
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
        check_sample_shape(x, "x", self.input_shape)
        self._prepare(x.shape[1:], training=False)
        self._check_data(x, y)
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
        predicted = self.predict_classes(x)
        y = as_targets(y, "y", len(predicted), self.dtype)
        if y.ndim > 2 or (y.ndim == 2 and y.shape[1] > 1 and predicted.ndim == 1 and y.shape[1] != self._classes()):
            raise ShapeError(f"y has shape {y.shape}; expected ({len(y)},) class indices or one-hot rows")
        return float(np.mean(predicted == (y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1))))

    def _classes(self) -> int:
        return int(np.prod(self.forward(np.zeros((1, *self.input_shape), self.dtype)).shape[1:]))

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write architecture (JSON) and weights to one ``.npz`` file, atomically; returns the path."""
        from ..io.model_file import save_model

        return save_model(self, path)

    def load_weights(self, path: str | os.PathLike) -> None:
        """Load weights saved by ``save`` into this (same-architecture) model."""
        from ..io.model_file import read_model_file

        config, arrays = read_model_file(path)
        if not self.built:
            self.build(tuple(config["input_shape"]))
        self.load_state_dict({k: v for k, v in arrays.items() if "/" not in k})  # "/" keys: checkpoint extras

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


def _as_callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list of ``Callback`` objects (one callback alone is accepted too)."""
    if isinstance(callbacks, Callback):
        return [callbacks]
    try:
        items = list(callbacks or ())
    except TypeError:
        raise InvalidTypeError(f"callbacks must be a list of Callback objects, got {type(callbacks).__name__}") from None
    for i, cb in enumerate(items):
        if not isinstance(cb, Callback):
            raise InvalidTypeError(f"callbacks[{i}] must be a Callback (subclass nnscratch.Callback), got {type(cb).__name__}")
    return items


class _Snapshots:
    """Two rotating copies of the weights (all parameters, frozen ones too) and the optimizer state,
    taken at the start of each epoch: what ``fit`` restores when training diverges or is hard-interrupted.

    One copy per epoch into preallocated buffers (no allocation after the first two epochs); the older
    copy is kept for divergence in an epoch's first batch, whose epoch-start weights are the broken ones.
    """

    def __init__(self, model: Model) -> None:
        self.optimizer = model.optimizer
        self.arrays = [p.data for _, p in model.named_parameters(include_frozen=True)]
        self.arrays += [a for state in self.optimizer.state for a in state.values()]
        self.copies: list[list[np.ndarray] | None] = [None, None]
        self.pairs: list[list[tuple[np.ndarray, np.ndarray]]] = [[], []]
        self.meta: list[tuple[int, int] | None] = [None, None]  # (epoch, optimizer iterations)
        self.latest = 1

    def take(self, epoch: int) -> None:
        i = self.latest ^ 1
        if self.copies[i] is None:
            self.copies[i] = [a.copy() for a in self.arrays]
            self.pairs[i] = list(zip(self.copies[i], self.arrays))
        else:
            for dst, src in self.pairs[i]:
                dst[...] = src
        self.meta[i] = (epoch, self.optimizer.iterations)
        self.latest = i

    def _restore(self, i: int) -> int:
        for src, dst in zip(self.copies[i], self.arrays):
            dst[...] = src
        epoch, self.optimizer.iterations = self.meta[i]
        return epoch

    def restore_latest(self) -> int | None:
        return self._restore(self.latest) if self.copies[self.latest] is not None else None

    def restore_finite(self) -> int | None:
        """Restore the newest copy whose arrays are all finite; its epoch, or None if there is none."""
        for i in (self.latest, self.latest ^ 1):
            buf = self.copies[i]
            if buf is not None and all(a.dtype.kind != "f" or np.isfinite(a).all() for a in buf):
                return self._restore(i)
        return None


class _InterruptHandler:
    """During ``fit``: the first Ctrl-C (SIGINT) asks the loop to stop after the current batch; a second one
    raises ``KeyboardInterrupt``. Installed only in the main thread and only over Python's default handler."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.previous: Any = None

    def __enter__(self) -> _InterruptHandler:
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    self.previous = signal.signal(signal.SIGINT, self._handle)
            except (ValueError, OSError):  # no signals here (embedded interpreter)
                self.previous = None
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.model._interrupted:
            raise KeyboardInterrupt
        self.model._interrupted = True
        self.model.stop_training = True

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None
