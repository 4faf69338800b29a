"""Keras's other element-wise losses: ``LogCosh``, ``MeanAbsolutePercentageError``,
``MeanSquaredLogarithmicError``, ``Poisson``, ``KLDivergence``, ``Hinge``, ``SquaredHinge``.

Each is a function ``v(pred, target)`` of one element with its derivative in ``pred``. As in Keras, a
sample's loss is the mean of ``v`` over the last axis (the sum, for ``KLDivergence``), and the batch loss
the mean over the samples (and any axes between; a mask ``(N, T)`` leaves padding steps out, ``loss_base``).
Targets have the model output's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import losses


class ElementwiseLoss(losses.Loss):
    """Base: subclasses define ``values(pred, target)`` and ``derivative(pred, target)``, elementwise."""

    sum_last_axis = False  # per sample: the sum over the last axis instead of its mean

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        self._check_same_shape(y, output_shape, name)

    def values(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
        target = losses._as_target(pred, target, self.name).reshape(pred.shape)
        self.pred, self.target = pred, target
        v = self.values(pred, target)
        rows = v.sum(axis=-1) if self.sum_last_axis and v.ndim > 1 else (v.mean(axis=-1) if v.ndim > 1 else v)
        if mask is not None:
            value, self.sample_losses = self._masked_mean(rows, mask)
            return value
        self.step_weights = None
        self.sample_losses = rows.reshape(len(pred), -1).mean(axis=1)
        return float(np.mean(rows))

    def backward(self) -> np.ndarray:
        pred = self.pred
        per_row = pred.shape[-1] if pred.ndim > 1 else 1
        scale = (1.0 if self.sum_last_axis else 1.0 / per_row) / (pred.size // per_row)
        return self._weigh((self.derivative(pred, self.target) * scale).astype(pred.dtype, copy=False))


class LogCosh(ElementwiseLoss):
    """``log(cosh(pred - target))``: squared error near zero, absolute error far away."""

    name = "log_cosh"

    def values(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        a = np.abs(pred - target)
        return a + np.log1p(np.exp(-2 * a)) - np.log(pred.dtype.type(2))  # exact for any |d|, no overflow

    def derivative(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        return np.tanh(pred - target)


class MeanAbsolutePercentageError(ElementwiseLoss):
    """``100 * |target - pred| / max(|target|, eps)``."""

    name = "mean_absolute_percentage_error"

    def values(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        return 100 * np.abs(target - pred) / np.maximum(np.abs(target), losses._eps(pred.dtype))

    def derivative(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        return 100 * np.sign(pred - target) / np.maximum(np.abs(target), losses._eps(pred.dtype))


class MeanSquaredLogarithmicError(ElementwiseLoss):
    """``(log(max(pred, eps) + 1) - log(max(target, eps) + 1))**2``."""

    name = "mean_squared_logarithmic_error"

    def values(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        eps = losses._eps(pred.dtype)
        return np.square(np.log1p(np.maximum(pred, eps)) - np.log1p(np.maximum(target, eps)))

    def derivative(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        eps = losses._eps(pred.dtype)
        p = np.maximum(pred, eps)
        return 2 * (np.log1p(p) - np.log1p(np.maximum(target, eps))) / (1 + p) * (pred > eps)


class Poisson(ElementwiseLoss):
    """``pred - target * log(pred + eps)`` (``pred`` a predicted rate)."""

    name = "poisson"

    def values(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        return pred - target * np.log(pred + losses._eps(pred.dtype))

    def derivative(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        return 1 - target / (pred + losses._eps(pred.dtype))


class KLDivergence(ElementwiseLoss):
    """``sum(t * log(t / p))`` over the last axis, ``t`` and ``p`` clipped to ``[eps, 1]``."""

    name = "kl_divergence"
    sum_last_axis = True

    def values(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        eps = losses._eps(pred.dtype)
        t = np.clip(target, eps, 1)
        return t * np.log(t / np.clip(pred, eps, 1))

    def derivative(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        eps = losses._eps(pred.dtype)
        inside = (pred > eps) & (pred < 1)
        return -np.clip(target, eps, 1) / np.clip(pred, eps, 1) * inside


def _signed(target: np.ndarray) -> np.ndarray:
    """Keras's hinge targets: -1 or 1, with 0/1 labels turned into -1/1."""
    return np.where(target == 0, -1, target).astype(target.dtype)


class Hinge(ElementwiseLoss):
    """``max(1 - t * pred, 0)`` for targets ``t`` of -1/1 (0/1 labels are turned into -1/1)."""

    name = "hinge"

    def values(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        return np.maximum(1 - _signed(target) * pred, 0)

    def derivative(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        t = _signed(target)
        return -t * (1 - t * pred > 0)


class SquaredHinge(Hinge):
    """``max(1 - t * pred, 0)**2`` for targets of -1/1 (or 0/1)."""

    name = "squared_hinge"

    def values(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        return np.square(super().values(pred, target))

    def derivative(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        t = _signed(target)
        return -2 * t * np.maximum(1 - t * pred, 0)


CLASSES: dict[str, type[ElementwiseLoss]] = {cls.name: cls for cls in (
    LogCosh, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Poisson, KLDivergence, Hinge, SquaredHinge)}
ALIASES = {"logcosh": "log_cosh", "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
           "kld": "kl_divergence", "kullback_leibler_divergence": "kl_divergence"}
for _name, _cls in CLASSES.items():
    losses.LOSSES[_name] = (_cls, {})
for _alias, _name in ALIASES.items():
    losses.LOSSES[_alias] = (CLASSES[_name], {})


def sample_values(loss: losses.Loss, y_true: Any, y_pred: Any) -> np.ndarray:
    """A built-in loss's value for each sample ``(batch,)``, Keras's argument order."""
    y_pred = np.asarray(y_pred)
    if not np.issubdtype(y_pred.dtype, np.floating):
        y_pred = y_pred.astype(np.float32)
    loss.forward(y_pred, np.asarray(y_true))
    return np.asarray(loss.sample_losses)


def per_sample(cls: type[losses.Loss]) -> Any:
    """Keras's function form ``fn(y_true, y_pred)`` of the loss ``cls``: one value per sample."""
    def fn(y_true: Any, y_pred: Any) -> np.ndarray:
        return sample_values(cls(), y_true, y_pred)

    fn.__name__ = fn.__qualname__ = cls.name
    return fn
