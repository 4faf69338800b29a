"""``Parameter``: an array a module learns (``data``) together with the gradient of the loss (``grad``)."""

from __future__ import annotations

import numpy as np

from .errors import ShapeError


class Parameter:
    """A tensor owned by a module.

    ``data`` and ``grad`` have the same shape and dtype. Modules *add* into ``grad`` in ``backward``;
    optimizers read ``grad`` and update ``data`` in place, so the array objects never change identity.
    ``zero_grad`` only marks the gradient zero (``grad_is_zero``): the first ``add_matmul``/``add_sum`` writes
    its product straight into the array, and the first read of ``grad`` fills it with zeros, so a gradient
    that one product overwrites costs no pass to clear.
    ``trainable=False`` marks state that is saved with the model but not optimized (e.g. running means).
    """

    __slots__ = ("data", "_grad", "trainable", "grad_is_zero", "name")

    def __init__(self, data: np.ndarray, trainable: bool = True, name: str | None = None) -> None:
        self.data = np.asarray(data, order="C")  # (a 0-d weight stays 0-d: np.ascontiguousarray would make it 1-d)
        self._grad = np.zeros_like(self.data)
        self.trainable = trainable
        self.grad_is_zero = True
        self.name = name  # what add_weight(name=...) was given (Keras's variable name), else None

    @property
    def grad(self) -> np.ndarray:
        """dL/d(data). Whoever reads it may add into it, so after any access it is no longer known to be zero."""
        if self.grad_is_zero:
            self._grad.fill(0)
            self.grad_is_zero = False
        return self._grad

    @grad.setter
    def grad(self, value: np.ndarray) -> None:
        self._grad[...] = value
        self.grad_is_zero = False

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def zero_grad(self) -> None:
        """Mark the gradient zero (the array is cleared when it is first read or written into)."""
        self.grad_is_zero = True

    def add_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """``grad += a @ b``; right after ``zero_grad`` (and before anything else touched ``grad``) the product
        is written straight into ``grad`` (no temporary array, no extra pass)."""
        if self.grad_is_zero:
            np.dot(a, b, out=self._grad)
            self.grad_is_zero = False
        else:
            self._grad += np.dot(a, b)

    def add_sum(self, a: np.ndarray) -> None:
        """``grad += a.sum(axis=0)`` (a bias gradient from a batch ``(batch, *shape)``), written straight
        into ``grad`` right after ``zero_grad``."""
        if self.grad_is_zero:
            np.add.reduce(a, axis=0, out=self._grad)
            self.grad_is_zero = False
        else:
            self._grad += np.add.reduce(a, axis=0)

    # Keras's variable API: ``numpy()``, ``value``, ``assign`` (in place: optimizers hold views of ``data``)
    @property
    def value(self) -> np.ndarray:
        return self.data

    def numpy(self) -> np.ndarray:
        """A copy of ``data``."""
        return self.data.copy()

    def assign(self, value: np.ndarray) -> Parameter:
        """Copy ``value`` (the same shape) into ``data`` in place; returns the parameter."""
        value = np.asarray(value)
        if value.shape != self.data.shape:
            raise ShapeError(f"assign: the parameter has shape {self.data.shape}, got a value of shape {value.shape}")
        self.data[...] = value
        return self

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        out = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return out.copy() if copy and out is self.data else out

    def __repr__(self) -> str:
        kind = "" if self.trainable else ", trainable=False"
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}{kind})"
