"""``MetricVariable``: a metric's state (Keras's ``Metric.add_weight``): an array changed by ``assign``,
``assign_add`` and ``assign_sub``, read like an array (``float(v)``, ``np.asarray(v)``, ``ops`` functions,
arithmetic operators)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.errors import ShapeError


def _value(x: Any) -> Any:
    """The array behind a variable or a traced Tensor; anything else as it is."""
    if isinstance(x, MetricVariable):
        return x.value
    data = getattr(x, "data", None)
    return data if isinstance(data, np.ndarray) else x


class MetricVariable:
    """``value`` ``shape`` (``()`` for a scalar) of ``dtype``; ``assign*`` write into it in place."""

    def __init__(self, value: np.ndarray, name: str | None = None) -> None:
        self.value = np.array(value)
        self.name = name or "variable"

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    def _set(self, new: Any, what: str) -> MetricVariable:
        new = np.asarray(_value(new))
        if new.shape != self.value.shape and new.size != self.value.size and new.size != 1:
            raise ShapeError(f"{self.name}.{what}: a value of shape {new.shape} for a variable of shape "
                             f"{self.value.shape}")
        self.value[...] = new.reshape(self.value.shape) if new.size == self.value.size else new
        return self

    def assign(self, value: Any) -> MetricVariable:
        """Set the value (same shape, or one number for every entry); returns the variable."""
        return self._set(value, "assign")

    def assign_add(self, delta: Any) -> MetricVariable:
        return self._set(self.value + np.asarray(_value(delta)), "assign_add")

    def assign_sub(self, delta: Any) -> MetricVariable:
        return self._set(self.value - np.asarray(_value(delta)), "assign_sub")

    def numpy(self) -> np.ndarray:
        return self.value.copy()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.value if dtype is None else self.value.astype(dtype)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __getitem__(self, index: Any) -> Any:
        return self.value[index]

    def __neg__(self) -> Any:
        return -self.value

    def __repr__(self) -> str:
        return f"MetricVariable(name={self.name!r}, value={self.value!r})"


def _binary(op: Callable[[Any, Any], Any], reflected: bool) -> Callable[[MetricVariable, Any], Any]:
    if reflected:
        return lambda self, other: op(_value(other), self.value)
    return lambda self, other: op(self.value, _value(other))


for _name, _op in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv), ("pow", operator.pow)]:
    setattr(MetricVariable, f"__{_name}__", _binary(_op, False))
    setattr(MetricVariable, f"__r{_name}__", _binary(_op, True))
for _name, _op in [("lt", operator.lt), ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge)]:
    setattr(MetricVariable, f"__{_name}__", _binary(_op, False))
