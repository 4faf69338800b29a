"""Losses: ``value = loss.forward(pred, target, mask=None)`` (mean over the batch), then ``grad = loss.backward()``.

``pred`` is the model output ``(batch, ..., outputs)``; ``backward`` returns dLoss/dpred of the same shape. The
contract, the reduction over extra axes and masks (``mask`` ``(batch, steps)``: padding left out, as in Keras)
are in ``loss_base``; ``CategoricalCrossEntropy`` in ``categorical``. All losses stay finite for logits of +-1e4.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import functional as F
from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.rewrites import register_loss_fusion
from ..core.validation import unknown_name
from ..layers.activations import Sigmoid, Softmax
from .categorical import CategoricalCrossEntropy
from .loss_base import Loss, _as_target, _eps, _first_bad, _smoothing


class MeanSquaredError(Loss):
    """mean((pred - target)^2) over all elements."""

    name = "mse"

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        self._check_same_shape(y, output_shape, name)

    def forward(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
        self.diff = pred - _as_target(pred, target, self.name)
        if mask is None:
            self.step_weights = None
            return float(np.vdot(self.diff, self.diff)) / self.diff.size
        value, self._masked = self._masked_mean(np.square(self.diff).mean(axis=-1), mask)
        return value

    @property
    def sample_losses(self) -> np.ndarray:  # type: ignore[override]
        if self.step_weights is not None:
            return self._masked
        return np.square(self.diff).reshape(len(self.diff), -1).mean(axis=1)

    def backward(self) -> np.ndarray:
        g = self.diff * self.diff.dtype.type(2.0 / self.diff.size)
        return g if self.step_weights is None else self._weigh(g)  # (no call in the common case: MSE is cheap)


class MeanAbsoluteError(Loss):
    """mean(|pred - target|) over all elements (gradient sign(pred - target), 0 at ties)."""

    name = "mae"

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        self._check_same_shape(y, output_shape, name)

    def forward(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
        self.diff = pred - _as_target(pred, target, self.name)
        if mask is None:
            self.step_weights = None
            return float(np.mean(np.abs(self.diff)))
        value, self._masked = self._masked_mean(np.abs(self.diff).mean(axis=-1), mask)
        return value

    @property
    def sample_losses(self) -> np.ndarray:  # type: ignore[override]
        if self.step_weights is not None:
            return self._masked
        return np.abs(self.diff).reshape(len(self.diff), -1).mean(axis=1)

    def backward(self) -> np.ndarray:
        g = np.sign(self.diff) * self.diff.dtype.type(1.0 / self.diff.size)
        return g if self.step_weights is None else self._weigh(g)


class BinaryCrossEntropy(Loss):
    """-mean(y log p + (1 - y) log(1 - p)) for targets in [0, 1], shape ``(batch, ..., k)``.

    ``from_logits=False``: ``pred`` are probabilities, clipped to [eps, 1 - eps] for the logarithm
    (eps = 1e-7 in float32, 1e-15 in float64; as Keras does), so one sample's loss is at most -log(eps)
    (16.1 / 34.5) and the gradient stays finite. ``from_logits=True``: ``pred`` are logits z and the loss
    is computed as softplus(z) - y z, exactly, with no clipping.
    """

    name = "binary_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, **keras: Any) -> None:
        self.from_logits = bool(from_logits)
        self.label_smoothing = _smoothing(label_smoothing, keras)

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        self._check_same_shape(y, output_shape, name)
        bad = (y < 0) | (y > 1)
        if bad.any():
            raise InvalidValueError(f"{name} contains {_first_bad(y, bad)}; binary cross-entropy targets must be in "
                                    "[0, 1]")

    def forward(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
        y = _as_target(pred, target, self.name)
        if self.validate_values and (y.min() < 0 or y.max() > 1):
            raise InvalidValueError(f"{self.name}: target contains {_first_bad(y, (y < 0) | (y > 1))}; "
                                    "expected values in [0, 1]")
        if self.label_smoothing:
            y = y * y.dtype.type(1 - self.label_smoothing) + y.dtype.type(0.5 * self.label_smoothing)
        self.pred, self.y = pred, y
        if self.from_logits:
            loss = np.logaddexp(0, pred) - y * pred
        else:
            eps = _eps(pred.dtype)
            p = np.clip(pred, eps, 1 - eps)
            self.p = p
            loss = -(y * np.log(p) + (1 - y) * np.log1p(-p))
        if mask is not None:
            value, self.sample_losses = self._masked_mean(loss.mean(axis=-1), mask)
            return value
        self.step_weights = None
        self.sample_losses = loss.reshape(len(pred), -1).mean(axis=1)
        return float(np.mean(loss))

    def backward(self) -> np.ndarray:
        scale = self.pred.dtype.type(1.0 / self.pred.size)
        if self.from_logits:
            return self._weigh((F.sigmoid(self.pred) - self.y) * scale)
        p, y = self.p, self.y
        return self._weigh(((p - y) / (p * (1 - p))) * scale)

    def to_probabilities(self, pred: np.ndarray) -> np.ndarray:
        return F.sigmoid(pred) if self.from_logits else pred

    def get_config(self) -> dict[str, Any]:
        smoothing = {"label_smoothing": self.label_smoothing} if self.label_smoothing else {}
        return {"name": self.name, "from_logits": self.from_logits, **smoothing}


LOSSES: dict[str, tuple[type[Loss], dict[str, Any]]] = {
    "mse": (MeanSquaredError, {}),
    "mean_squared_error": (MeanSquaredError, {}),
    "mae": (MeanAbsoluteError, {}),
    "mean_absolute_error": (MeanAbsoluteError, {}),
    "binary_crossentropy": (BinaryCrossEntropy, {}),
    "bce": (BinaryCrossEntropy, {}),
    "binary_crossentropy_logits": (BinaryCrossEntropy, {"from_logits": True}),
    "categorical_crossentropy": (CategoricalCrossEntropy, {}),
    "sparse_categorical_crossentropy": (CategoricalCrossEntropy, {}),  # class indices: accepted by the same loss
    "crossentropy": (CategoricalCrossEntropy, {}),
    "softmax_crossentropy": (CategoricalCrossEntropy, {"from_logits": True}),
}


class FunctionLoss(Loss):
    """``compile(loss=fn)``: the batch mean of ``fn(y_true, y_pred)`` written with ``nnscratch.ops``."""

    def __init__(self, fn: Any, name: str | None = None) -> None:
        self.call = fn
        self.name = name or getattr(fn, "__name__", None) or "custom_loss"

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"FunctionLoss({self.name})"


def get(loss: str | Loss | dict[str, Any]) -> Loss:
    """A loss from a name (``"mse"``, ``"binary_crossentropy"``, ...), a config dict, or an instance."""
    if isinstance(loss, Loss):
        return loss
    if callable(loss) and not isinstance(loss, type):
        name = getattr(loss, "__name__", None)
        if name not in LOSSES:
            return FunctionLoss(loss)
        loss = name  # Keras's loss functions (keras.losses.mse...) name a built-in loss
    if isinstance(loss, dict):
        config = dict(loss)
        name = config.pop("name", None)
        cls, _ = LOSSES.get(str(name), (None, None))
        if cls is None:
            raise unknown_name("loss", name, LOSSES)
        try:
            return cls(**config)
        except TypeError as exc:
            raise InvalidValueError(f"bad config for loss '{name}': {exc}") from None
    if isinstance(loss, str):
        key = loss.lower().replace("-", "_")
        if key in LOSSES:
            cls, kwargs = LOSSES[key]
            return cls(**kwargs)
        raise unknown_name("loss", loss, LOSSES)
    raise InvalidTypeError(f"loss must be a name (e.g. 'mse'), a config dict, a Loss or a function "
                           f"fn(y_true, y_pred), got {loss!r} ({type(loss).__name__})")


# Softmax + cross-entropy and sigmoid + binary cross-entropy: trained on the activation's input, exactly.
register_loss_fusion(Softmax, CategoricalCrossEntropy,
                     lambda loss: CategoricalCrossEntropy(from_logits=True, label_smoothing=loss.label_smoothing))
register_loss_fusion(Sigmoid, BinaryCrossEntropy,
                     lambda loss: BinaryCrossEntropy(from_logits=True, label_smoothing=loss.label_smoothing))
