"""``Parameter``: an array a module learns (``data``) together with the gradient of the loss (``grad``)."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A tensor owned by a module.

    ``data`` and ``grad`` have the same shape and dtype. Modules *add* into ``grad`` in ``backward``;
    optimizers read ``grad`` and update ``data`` in place, so the array objects never change identity.
    ``zero_grad`` only marks the gradient zero (``grad_is_zero``): the first ``add_matmul``/``add_sum`` writes
    its product straight into the array, and the first read of ``grad`` fills it with zeros, so a gradient
    that one product overwrites costs no pass to clear.
    ``trainable=False`` marks state that is saved with the model but not optimized (e.g. running means).
    """

    __slots__ = ("data", "_grad", "trainable", "grad_is_zero")

    def __init__(self, data: np.ndarray, trainable: bool = True) -> None:
        self.data = np.ascontiguousarray(data)
        self._grad = np.zeros_like(self.data)
        self.trainable = trainable
        self.grad_is_zero = True

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

    def __repr__(self) -> str:
        kind = "" if self.trainable else ", trainable=False"
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}{kind})"
