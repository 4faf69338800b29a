"""The ``Loss`` contract and what the built-in losses share: target checks, the ``eps`` clip, and Keras's masked
reduction.

``value = loss.forward(pred, target, mask=None)``, then ``grad = loss.backward()``: ``pred`` is a model output
``(N, ..., C)``, ``grad`` dLoss/dpred of the same shape. The value is Keras's ``sum_over_batch_size``: the mean
over every element but the last axis (which each loss reduces, e.g. over the classes), so for ``(N, T, C)`` the
mean over the ``N * T`` steps. ``sample_losses`` ``(N,)`` is the mean over each sample's steps (their mean is
the value): ``fit``'s sample and class weights weigh them.

A ``mask`` ``(N, T)`` (True: a real step, False: padding; ``pred`` of shape ``(N, T, ..., C)``) leaves the
padding out, as Keras's ``reduce_weighted_values`` does: the value is ``sum(loss_t * mask_t) / sum(mask)``
(0 when every step is padding), and with sample weights ``w`` ``sum(loss_t * mask_t * w) / sum(mask)`` (the
weights are not in the denominator); ``masked_mean.mask_weights`` gives each step its weight.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import shapes
from ..core.errors import InvalidValueError, ShapeError
from . import function_loss
from .masked_mean import mask_weights


def _as_target(pred: np.ndarray, target: np.ndarray, name: str) -> np.ndarray:
    """Cast ``target`` to ``pred``'s dtype and shape; ``pred.shape[:-1]`` is accepted for ``(..., 1)`` outputs."""
    if type(target) is np.ndarray and target.shape == pred.shape and target.dtype == pred.dtype:
        return target  # the common case, kept cheap: this runs once per training step
    target = np.asarray(target)
    if target.shape != pred.shape and target.shape == pred.shape[:-1] and pred.shape[-1:] == (1,):
        target = target.reshape(pred.shape)
    if target.shape != pred.shape:
        raise ShapeError(f"{name}: target has shape {target.shape}, expected {pred.shape} (the model output's shape)")
    return target.astype(pred.dtype, copy=False)


def _smoothing(value: Any, keras: dict[str, Any]) -> float:
    """Check ``label_smoothing`` (in [0, 1]) and Keras's ``reduction``/``name``/``axis`` (defaults only)."""
    if (keras.get("reduction", "sum_over_batch_size") not in ("sum_over_batch_size", "auto")
            or keras.get("axis", -1) != -1):
        raise InvalidValueError(f"nnscratch losses average over the batch on the last axis; got {keras}")
    unknown = set(keras) - {"reduction", "name", "axis", "dtype"}
    if unknown:
        raise InvalidValueError(f"unexpected loss arguments {sorted(unknown)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InvalidValueError(f"label_smoothing must be a number in [0, 1], got {value!r}")
    return float(value)


def _eps(dtype: np.dtype) -> float:
    return 1e-7 if dtype == np.float32 else 1e-15


def _first_bad(y: np.ndarray, bad: np.ndarray) -> str:
    """``"1.5 at index (3, 0)"``: the first element of ``y`` where ``bad`` is true."""
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{y[index]} at index {index if len(index) > 1 else index[0]}"


class Loss:
    """Base class. ``from_logits`` losses expect raw scores; ``to_probabilities`` maps outputs to probabilities.

    ``check_targets(y, output_shape, name)`` validates a whole target array against the model's output
    shape once, before training (``fit``/``evaluate`` call it); ``forward`` then only checks shapes.
    """

    name = "loss"
    from_logits = False
    sample_losses: np.ndarray | None = None  # the built-in losses' last forward, per sample (for sample weights)
    validate_values = True  # forward checks target values (range, labels); a model that checked up front turns it off
    # A masked forward's weight of each element of ``pred`` (``(N, T, ..., 1)``, ``mask_weights``), which backward
    # applies; None after an unmasked one.
    step_weights: np.ndarray | None = None

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        """Validate the whole target array ``y`` for model outputs of per-sample shape ``output_shape``.

        The base class accepts anything (a custom loss checks its own targets in ``forward``); the
        built-in losses raise ``ShapeError``/``InvalidValueError`` naming ``name``.
        """

    def _check_same_shape(self, y: np.ndarray, output_shape: tuple[int, ...], name: str) -> None:
        """Raise ``ShapeError`` unless ``y`` is ``(samples, *output_shape)`` (or without a last axis of size 1)."""
        shape = tuple(output_shape)
        if shapes.fits(y.shape[1:], shape) or (shape[-1:] == (1,) and shapes.fits(y.shape[1:], shape[:-1])):
            return
        expected = "(samples" + "".join(f", {d}" for d in output_shape) + ")"
        raise ShapeError(f"{name} has shape {y.shape}, but the model outputs {expected} and loss '{self.name}' "
                         f"needs targets of that shape")

    def _masked_mean(self, rows: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
        """``(value, sample_losses)`` of the step losses ``rows`` ``(N, T, ...)`` under ``mask`` ``(N, T)`` (Keras's
        masked mean, see the module doc); sets ``step_weights`` for backward."""
        weights = mask_weights(mask, rows.shape, rows.dtype)
        weighted = rows * weights
        self.step_weights = weights[..., None]
        return float(np.mean(weighted)), weighted.reshape(len(rows), -1).mean(axis=1)

    def _weigh(self, grad: np.ndarray) -> np.ndarray:
        """``grad`` (the unmasked gradient, a fresh array) times ``step_weights`` after a masked forward."""
        if self.step_weights is not None:
            grad *= self.step_weights
        return grad

    def forward(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
        """The batch loss; a subclass defining ``call(y_true, y_pred)`` with ``nnscratch.ops`` needs no more
        (with a ``mask``, ``call`` returns one value per step ``(N, T)``)."""
        call = getattr(self, "call", None)
        if call is None:
            raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred) or forward/backward")
        value, self._traced = function_loss.run(self.name, call, pred, target, mask)
        return value

    def backward(self) -> np.ndarray:
        if getattr(self, "_traced", None) is None:
            raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred) or forward/backward")
        return function_loss.gradient(self._traced)

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        return self.forward(pred, target)

    def to_probabilities(self, pred: np.ndarray) -> np.ndarray:
        return pred

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
