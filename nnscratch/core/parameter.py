"""``Parameter``: an array a module learns (``data``) together with the gradient of the loss (``grad``)."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A tensor owned by a module.

    ``data`` and ``grad`` have the same shape and dtype. Modules *add* into ``grad`` in ``backward``;
    optimizers read ``grad`` and update ``data`` in place, so the array objects never change identity.
    ``trainable=False`` marks state that is saved with the model but not optimized (e.g. running means).
    """

    __slots__ = ("data", "grad", "trainable", "grad_is_zero")

    def __init__(self, data: np.ndarray, trainable: bool = True) -> None:
        self.data = np.ascontiguousarray(data)
        self.grad = np.zeros_like(self.data)
        self.trainable = trainable
        self.grad_is_zero = True

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def zero_grad(self) -> None:
        self.grad.fill(0)
        self.grad_is_zero = True

    def add_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """``grad += a @ b``; right after ``zero_grad`` the product is written straight into ``grad``
        (no temporary array, no extra pass)."""
        if self.grad_is_zero:
            np.dot(a, b, out=self.grad)
            self.grad_is_zero = False
        else:
            self.grad += np.dot(a, b)

    def __repr__(self) -> str:
        kind = "" if self.trainable else ", trainable=False"
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}{kind})"
