"""Losses: ``value = loss.forward(pred, target)`` (mean over the batch), then ``grad = loss.backward()``.

``pred`` is the model output ``(batch, outputs)``; ``backward`` returns dLoss/dpred of the same shape.
All losses stay finite for logits of +-1e4.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import functional as F
from ..core import shapes
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.rewrites import register_loss_fusion
from ..core.validation import unknown_name
from ..layers.activations import Sigmoid, Softmax
from . import function_loss


def _as_target(pred: np.ndarray, target: np.ndarray, name: str) -> np.ndarray:
    """Cast ``target`` to ``pred``'s dtype and shape; ``(batch,)`` is accepted for ``(batch, 1)``."""
    if type(target) is np.ndarray and target.shape == pred.shape and target.dtype == pred.dtype:
        return target  # the common case, kept cheap: this runs once per training step
    target = np.asarray(target)
    if target.shape != pred.shape and target.shape == pred.shape[:1] and pred.shape[1:] == (1,):
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

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        """Validate the whole target array ``y`` for model outputs of per-sample shape ``output_shape``.

        The base class accepts anything (a custom loss checks its own targets in ``forward``); the
        built-in losses raise ``ShapeError``/``InvalidValueError`` naming ``name``.
        """

    def _check_same_shape(self, y: np.ndarray, output_shape: tuple[int, ...], name: str) -> None:
        """Raise ``ShapeError`` unless ``y`` is ``(samples, *output_shape)`` (or ``(samples,)`` for one output)."""
        if shapes.fits(y.shape[1:], tuple(output_shape)) or (y.ndim == 1 and tuple(output_shape) == (1,)):
            return
        expected = "(samples" + "".join(f", {d}" for d in output_shape) + ")"
        raise ShapeError(f"{name} has shape {y.shape}, but the model outputs {expected} and loss '{self.name}' "
                         f"needs targets of that shape")

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        """The batch loss; a subclass defining ``call(y_true, y_pred)`` with ``nnscratch.ops`` needs no more."""
        call = getattr(self, "call", None)
        if call is None:
            raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred) or forward/backward")
        value, self._traced = function_loss.run(self.name, call, pred, target)
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


class MeanSquaredError(Loss):
    """mean((pred - target)^2) over all elements."""

    name = "mse"

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        self._check_same_shape(y, output_shape, name)

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        self.diff = pred - _as_target(pred, target, self.name)
        return float(np.vdot(self.diff, self.diff)) / self.diff.size

    @property
    def sample_losses(self) -> np.ndarray:  # type: ignore[override]
        return np.square(self.diff).reshape(len(self.diff), -1).mean(axis=1)

    def backward(self) -> np.ndarray:
        return self.diff * self.diff.dtype.type(2.0 / self.diff.size)


class MeanAbsoluteError(Loss):
    """mean(|pred - target|) over all elements (gradient sign(pred - target), 0 at ties)."""

    name = "mae"

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        self._check_same_shape(y, output_shape, name)

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        self.diff = pred - _as_target(pred, target, self.name)
        return float(np.mean(np.abs(self.diff)))

    @property
    def sample_losses(self) -> np.ndarray:  # type: ignore[override]
        return np.abs(self.diff).reshape(len(self.diff), -1).mean(axis=1)

    def backward(self) -> np.ndarray:
        return np.sign(self.diff) * self.diff.dtype.type(1.0 / self.diff.size)


class BinaryCrossEntropy(Loss):
    """-mean(y log p + (1 - y) log(1 - p)) for targets in [0, 1], shape ``(batch, k)``.

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

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
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
        self.sample_losses = loss.reshape(len(pred), -1).mean(axis=1)
        return float(np.mean(loss))

    def backward(self) -> np.ndarray:
        scale = self.pred.dtype.type(1.0 / self.pred.size)
        if self.from_logits:
            return (F.sigmoid(self.pred) - self.y) * scale
        p, y = self.p, self.y
        return ((p - y) / (p * (1 - p))) * scale

    def to_probabilities(self, pred: np.ndarray) -> np.ndarray:
        return F.sigmoid(pred) if self.from_logits else pred

    def get_config(self) -> dict[str, Any]:
        smoothing = {"label_smoothing": self.label_smoothing} if self.label_smoothing else {}
        return {"name": self.name, "from_logits": self.from_logits, **smoothing}


class CategoricalCrossEntropy(Loss):
    """-mean over the batch of sum_k y_k log p_k, for ``pred`` of shape ``(batch, classes)``.

    Targets are integer class indices ``(batch,)`` or one-hot / soft labels ``(batch, classes)``.
    ``from_logits=False``: ``pred`` are probabilities, clipped to [eps, 1] before the logarithm (eps = 1e-7
    in float32, 1e-15 in float64; Keras clips likewise, PyTorch's ``NLLLoss`` on ``log`` would give inf):
    a true class given probability 0 costs -log(eps) = 16.1 (float32) / 34.5 (float64) instead of inf,
    and its gradient is bounded by 1 / eps. ``from_logits=True`` fuses the softmax: the loss is computed
    through log-softmax and the gradient is ``(softmax(z) - y) / batch``. A model whose last layer is
    ``Softmax`` fuses automatically.
    """

    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, **keras: Any) -> None:
        self.from_logits = bool(from_logits)
        self.label_smoothing = _smoothing(label_smoothing, keras)

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        if len(output_shape) != 1:
            raise ShapeError(f"loss '{self.name}' needs a model output of shape (samples, classes), "
                             f"the model outputs (samples, {', '.join(map(str, output_shape))}); add a Flatten layer")
        classes = output_shape[0]
        hint = "; for two classes with one sigmoid output use loss='binary_crossentropy'" if classes == 1 else ""
        if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and classes > 1):
            labels = y.reshape(len(y))
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
        if y.ndim != 2 or y.shape[1] != classes:
            what = f"{y.shape[1]} columns (one-hot for {y.shape[1]} classes)" if y.ndim == 2 else f"{y.ndim} dimensions"
            raise ShapeError(f"{name} has shape {y.shape}: {what}, but the model outputs {classes} classes; expected "
                             f"({len(y)},) class indices or ({len(y)}, {classes}) one-hot rows{hint}")
        bad = (y < 0) | (y > 1)
        if bad.any():
            raise InvalidValueError(f"{name} contains {_first_bad(y, bad)}; one-hot or probability targets must be in "
                                    "[0, 1]")
        sums = y.sum(axis=1, dtype=np.float64)
        bad = np.abs(sums - 1) > 1e-3
        if bad.any():
            row = int(np.argmax(bad))
            raise InvalidValueError(f"{name} row {row} sums to {sums[row]:.6g}; one-hot or probability targets must "
                                    "sum to 1 over the classes (pass class indices of shape (samples,) instead?)")

    def _targets(self, pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(labels, None)`` for class indices (``(batch,)`` intp), ``(None, y)`` for one-hot/soft rows."""
        target = np.asarray(target)
        n, classes = pred.shape
        if target.shape == (n,) or target.shape == (n, 1) and classes > 1:
            labels = target.reshape(n)
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
            y = np.zeros_like(pred)
            y[np.arange(n), labels] = 1
            return None, y
        if target.shape != pred.shape:
            raise ShapeError(f"{self.name}: target has shape {target.shape}, expected ({n},) class indices or ({n}, "
                             f"{classes}) one-hot")
        return None, target.astype(pred.dtype, copy=False)

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        if pred.ndim != 2:
            raise ShapeError(f"{self.name}: expects predictions of shape (batch, classes), got {pred.shape}")
        labels, y = self._targets(pred, target)
        if y is not None and self.label_smoothing:  # Keras: y (1 - s) + s / classes
            y = y * y.dtype.type(1 - self.label_smoothing) + y.dtype.type(self.label_smoothing / pred.shape[1])
        self.pred, self.y, self.labels = pred, y, labels
        if self.from_logits:
            self.logp = logp = F.log_softmax(pred)
        else:  # with class indices only each row's class is needed
            logp = np.log(np.clip(pred if y is not None else pred[np.arange(len(pred)), labels], _eps(pred.dtype), 1.0))
        if y is not None:
            self.sample_losses = -np.einsum("ij,ij->i", y, logp)
        else:  # the log-probability of each row's class: what the sum with a one-hot row gives, exactly
            self.sample_losses = -(logp[np.arange(len(pred)), labels] if self.from_logits else logp)
        return float(np.sum(self.sample_losses) / pred.shape[0])

    def backward(self) -> np.ndarray:
        pred, labels = self.pred, self.labels
        scale = pred.dtype.type(1.0 / pred.shape[0])
        rows = np.arange(len(pred))
        if self.from_logits:  # softmax - y, the softmax from the forward's log-softmax
            g = np.exp(self.logp)
            if labels is not None:
                g[rows, labels] -= 1
            else:
                g -= self.y
            g *= scale
            return g
        if labels is not None:  # -y / p: non-zero at each row's class only
            g = np.zeros_like(pred)
            g[rows, labels] = -scale / np.clip(pred[rows, labels], _eps(pred.dtype), 1.0)
            return g
        p = np.clip(pred, _eps(pred.dtype), 1.0)
        return -(self.y / p) * scale

    def to_probabilities(self, pred: np.ndarray) -> np.ndarray:
        return F.softmax(pred) if self.from_logits else pred

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
