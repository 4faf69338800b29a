"""``CategoricalCrossEntropy``: Keras's ``categorical_crossentropy`` and ``sparse_categorical_crossentropy`` in one
loss, for model outputs ``(N, ..., C)`` with the classes on the last axis (a tagger's ``(N, T, C)``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import functional as F
from ..core import shapes
from ..core.errors import InvalidValueError, ShapeError
from .loss_base import Loss, _eps, _first_bad, _smoothing


def _shape(lead: tuple[Any, ...], last: Any = None) -> str:
    """``"(samples, T, C)"``: a per-sample shape with the batch axis in front."""
    return "(samples" + "".join(f", {d}" for d in (*lead, *(() if last is None else (last,)))) + ")"


class CategoricalCrossEntropy(Loss):
    """-mean over the batch (and any axes between) of sum_k y_k log p_k, for ``pred`` ``(N, ..., classes)``.

    Targets are integer class indices ``(N, ...)`` (or ``(N, ..., 1)``) or one-hot / soft labels of ``pred``'s
    shape. As in Keras, the loss is the mean over the ``N * ...`` rows; ``sample_losses`` is each sample's mean.
    ``from_logits=False``: ``pred`` are probabilities, clipped to [eps, 1] before the logarithm (eps = 1e-7
    in float32, 1e-15 in float64; Keras clips likewise, PyTorch's ``NLLLoss`` on ``log`` would give inf):
    a true class given probability 0 costs -log(eps) = 16.1 (float32) / 34.5 (float64) instead of inf,
    and its gradient is bounded by 1 / eps. ``from_logits=True`` fuses the softmax: the loss is computed
    through log-softmax and the gradient is ``(softmax(z) - y) / rows``. A model whose last layer is
    ``Softmax`` fuses automatically. A ``mask`` ``(N, T)`` leaves padding steps out (``loss_base``).
    """

    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, **keras: Any) -> None:
        self.from_logits = bool(from_logits)
        self.label_smoothing = _smoothing(label_smoothing, keras)

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        if not output_shape or output_shape[-1] is None:
            raise ShapeError(f"loss '{self.name}' needs a model output with a known number of classes on its last "
                             f"axis, (samples, ..., classes); the model outputs {_shape(tuple(output_shape))}")
        classes, lead = output_shape[-1], tuple(output_shape[:-1])
        hint = "; for two classes with one sigmoid output use loss='binary_crossentropy'" if classes == 1 else ""
        if shapes.fits(y.shape[1:], lead) or (
                classes > 1 and y.ndim == len(output_shape) + 1 and y.shape[-1] == 1
                and shapes.fits(y.shape[1:-1], lead)):
            labels = y.reshape(y.shape[:len(output_shape)])
            if labels.dtype.kind == "f":
                bad = labels != np.round(labels)
                if bad.any():
                    raise InvalidValueError(f"{name} contains {_first_bad(labels, bad)}; class labels must be whole "
                                            f"numbers 0..{classes - 1}")
            bad = (labels < 0) | (labels >= classes)
            if bad.any():
                raise InvalidValueError(f"{name} contains label {_first_bad(labels, bad)}, out of range: the model "
                                        f"has {classes} output{'s' if classes > 1 else ''}, so labels must be "
                                        f"0..{classes - 1}{hint}")
            return
        if not shapes.fits(y.shape[1:], tuple(output_shape)):
            if not lead:
                what = (f"{y.shape[1]} columns (one-hot for {y.shape[1]} classes)" if y.ndim == 2
                        else f"{y.ndim} dimensions")
                raise ShapeError(f"{name} has shape {y.shape}: {what}, but the model outputs {classes} classes; "
                                 f"expected ({len(y)},) class indices or ({len(y)}, {classes}) one-hot rows{hint}")
            raise ShapeError(f"{name} has shape {y.shape}, but the model outputs {_shape(lead, classes)} "
                             f"({classes} classes on the last axis); expected class indices {_shape(lead)} "
                             f"or one-hot rows {_shape(lead, classes)}{hint}")
        bad = (y < 0) | (y > 1)
        if bad.any():
            raise InvalidValueError(f"{name} contains {_first_bad(y, bad)}; one-hot or probability targets must be in "
                                    "[0, 1]")
        sums = y.sum(axis=-1, dtype=np.float64)
        bad = np.abs(sums - 1) > 1e-3
        if bad.any():
            first = np.argwhere(bad)[0]
            row: Any = int(first[0]) if bad.ndim == 1 else tuple(int(i) for i in first)
            raise InvalidValueError(f"{name} row {row} sums to {sums[row]:.6g}; one-hot or probability targets must "
                                    "sum to 1 over the classes (pass class indices of shape (samples,) instead?)")

    def _targets(self, pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(labels, None)`` for class indices (``(rows,)`` intp), ``(None, y)`` for one-hot/soft ``(rows, classes)``
        rows, where the rows are ``pred``'s all but last axes."""
        target = np.asarray(target)
        lead: tuple[int, ...]
        if pred.ndim == 2:  # (N, C): the common case, kept cheap
            rows, classes = pred.shape
            lead = (rows,)
        else:
            lead, classes = pred.shape[:-1], pred.shape[-1]
            rows = math.prod(lead)
        if target.shape == lead or target.shape == (*lead, 1) and classes > 1:
            labels = target.reshape(rows)
            if not self.validate_values:
                pass
            elif labels.dtype.kind == "f":
                if not np.all(labels == np.round(labels)):
                    raise InvalidValueError(f"{self.name}: class labels must be whole numbers, got e.g. "
                                            f"{labels[labels != np.round(labels)][0]}")
            elif labels.dtype.kind not in "iub":
                raise InvalidValueError(f"{self.name}: class labels must be integers, got dtype {labels.dtype}")
            if self.validate_values and labels.size and (labels.min() < 0 or labels.max() >= classes):
                bad = labels[(labels < 0) | (labels >= classes)][0]
                raise InvalidValueError(f"{self.name}: label {bad} out of range; expected 0..{classes - 1} for "
                                        f"{classes} classes")
            labels = labels.astype(np.intp, copy=False)
            if not self.label_smoothing:
                return labels, None
            y = np.zeros((rows, classes), pred.dtype)
            y[np.arange(rows), labels] = 1
            return None, y
        if target.shape != pred.shape:
            raise ShapeError(f"{self.name}: target has shape {target.shape}, expected {lead} class indices or "
                             f"{pred.shape} one-hot")
        return None, (target if pred.ndim == 2 else target.reshape(rows, classes)).astype(pred.dtype, copy=False)

    def forward(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
        """The mean loss over the rows of ``pred`` ``(N, ..., C)`` (``mask`` ``(N, T)``: over the real steps)."""
        if pred.ndim < 2:
            raise ShapeError(f"{self.name}: expects predictions of shape (batch, ..., classes), got {pred.shape}")
        self.step_weights = None
        flat = pred if pred.ndim == 2 else pred.reshape(-1, pred.shape[-1])  # one row per (sample, step, ...)
        labels, y = self._targets(pred, target)
        if y is not None and self.label_smoothing:  # Keras: y (1 - s) + s / classes
            y = y * y.dtype.type(1 - self.label_smoothing) + y.dtype.type(self.label_smoothing / pred.shape[-1])
        self.pred, self.flat, self.y, self.labels = pred, flat, y, labels
        if self.from_logits:
            self.logp = logp = F.log_softmax(flat)
        else:  # with class indices only each row's class is needed
            logp = np.log(np.clip(flat if y is not None else flat[np.arange(len(flat)), labels], _eps(pred.dtype), 1.0))
        if y is not None:
            rows = -np.einsum("ij,ij->i", y, logp)
        else:  # the log-probability of each row's class: what the sum with a one-hot row gives, exactly
            rows = -(logp[np.arange(len(flat)), labels] if self.from_logits else logp)
        if flat is pred and mask is None:  # (N, C): one row per sample
            self.sample_losses = rows
            return float(np.sum(rows) / pred.shape[0])
        rows = rows.reshape(pred.shape[:-1])
        if mask is not None:
            value, self.sample_losses = self._masked_mean(rows, mask)
            return value
        self.sample_losses = rows.reshape(len(pred), -1).mean(axis=1)
        return float(np.sum(rows) / rows.size)

    def backward(self) -> np.ndarray:
        flat, labels = self.flat, self.labels
        scale = flat.dtype.type(1.0 / flat.shape[0])
        rows = np.arange(len(flat))
        if self.from_logits:  # softmax - y, the softmax from the forward's log-softmax
            g = np.exp(self.logp)
            if labels is not None:
                g[rows, labels] -= 1
            else:
                g -= self.y
            g *= scale
        elif labels is not None:  # -y / p: non-zero at each row's class only
            g = np.zeros_like(flat)
            g[rows, labels] = -scale / np.clip(flat[rows, labels], _eps(flat.dtype), 1.0)
        else:
            p = np.clip(flat, _eps(flat.dtype), 1.0)
            g = -(self.y / p) * scale
        return g if flat is self.pred else self._weigh(g.reshape(self.pred.shape))

    def to_probabilities(self, pred: np.ndarray) -> np.ndarray:
        return F.softmax(pred) if self.from_logits else pred

    def get_config(self) -> dict[str, Any]:
        smoothing = {"label_smoothing": self.label_smoothing} if self.label_smoothing else {}
        return {"name": self.name, "from_logits": self.from_logits, **smoothing}
