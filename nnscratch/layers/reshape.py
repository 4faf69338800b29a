"""``Flatten``, ``Reshape``, ``Permute`` and ``RepeatVector``: change the per-sample shape, keep the batch axis."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.layer import Layer


class Reshape(Layer):
    """``(batch, *in_shape) -> (batch, *target_shape)``; one entry of ``target_shape`` may be -1."""

    per_sample = True

    checks_dtype = False

    def __init__(self, target_shape: tuple[int, ...] | list[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, np.integer)) and not isinstance(target_shape, bool):
            target_shape = (target_shape,)
        if not isinstance(target_shape, (tuple, list)) or not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in target_shape):
            raise InvalidTypeError(f"Reshape target_shape must be a tuple of integers, got {target_shape!r}")
        if not target_shape or any(d < 1 and d != -1 for d in target_shape) or list(target_shape).count(-1) > 1:
            raise InvalidValueError("Reshape target_shape must hold sizes >= 1 and at most one -1, got "
                                    f"{tuple(target_shape)}")
        self.target_shape = tuple(int(d) for d in target_shape)

    def _ensure_built(self, x: np.ndarray) -> None:
        per_sample = math.prod(x.shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        fits = per_sample % known == 0 if -1 in self.target_shape else per_sample == known
        if not fits:
            raise ShapeError(f"Reshape cannot turn (batch, {', '.join(map(str, x.shape[1:]))}) into (batch, "
                             f"{', '.join(map(str, self.target_shape))})")
        super()._ensure_built(x)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        if -1 not in self.target_shape:
            return x.reshape((x.shape[0],) + self.target_shape)
        known = math.prod(d for d in self.target_shape if d != -1)  # -1 spelt out: NumPy refuses it for 0 samples
        return x.reshape((x.shape[0],) + tuple(math.prod(x.shape[1:]) // known if d == -1 else d
                                               for d in self.target_shape))

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out.reshape((grad_out.shape[0],) + self.input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"target_shape": list(self.target_shape)}


class Flatten(Reshape):
    """``(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("data_format", None)
        super().__init__((-1,), **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {}


class Permute(Layer):
    """Reorder the sample's axes: ``dims`` is a permutation of ``1..ndim`` (Keras's: axis 0, the batch, stays),
    e.g. ``Permute((2, 1))`` turns ``(N, L, C)`` into ``(N, C, L)``."""

    per_sample = True
    checks_dtype = False

    def __init__(self, dims: tuple[int, ...] | list[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(dims, (tuple, list)) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise InvalidValueError(f"Permute dims must be a permutation of 1..n (axis 0 is the batch), got {dims!r}")
        self.dims = tuple(int(d) for d in dims)

    def _ensure_built(self, x: np.ndarray) -> None:
        if x.ndim != len(self.dims) + 1:
            raise ShapeError(f"Permute{self.dims} needs samples of {len(self.dims)} axes, got shape {x.shape}")
        super()._ensure_built(x)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        return x.transpose(0, *self.dims)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out.transpose(0, *(int(a) + 1 for a in np.argsort(self.dims)))

    def get_config(self) -> dict[str, Any]:
        return {"dims": list(self.dims)}


class RepeatVector(Layer):
    """``(N, F) -> (N, n, F)``: each sample's vector ``n`` times (backward: the sum of the copies' gradients)."""

    per_sample = True
    checks_dtype = False

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InvalidValueError(f"RepeatVector n must be a positive integer, got {n!r}")
        self.n = int(n)

    def _ensure_built(self, x: np.ndarray) -> None:
        if x.ndim != 2:
            raise ShapeError(f"RepeatVector expects vectors (batch, features), got shape {x.shape}")
        super()._ensure_built(x)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        return np.repeat(x[:, None, :], self.n, axis=1)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out.sum(axis=1)

    def get_config(self) -> dict[str, Any]:
        return {"n": self.n}
