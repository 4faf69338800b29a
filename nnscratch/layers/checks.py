"""Argument and input checks shared by the layers: integers given as ``k`` or ``(k,)``, input rank, layout.

Every failure is an ``NNScratchError`` naming the layer, what was expected and what was given.
"""

from __future__ import annotations

import numbers
from typing import Any

from ..core.errors import InvalidValueError, ShapeError


def single(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` (an int or a one-element tuple/list of one, Keras's 1-D form) as an int ``>= minimum``."""
    item = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if isinstance(item, bool) or not isinstance(item, numbers.Integral) or item < minimum:
        raise InvalidValueError(f"{name} must be an integer >= {minimum} (or a tuple of one), got {value!r}")
    return int(item)


def side_pairs(value: Any, name: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((top, bottom), (left, right))`` integers >= 0 from ``n``, ``(h, w)`` or ``((top, bottom), (left, right))``."""
    def ok(v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 0

    if ok(value):
        return (int(value), int(value)), (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2:
        if all(ok(v) for v in value):
            return (int(value[0]), int(value[0])), (int(value[1]), int(value[1]))
        if all(isinstance(v, (tuple, list)) and len(v) == 2 and all(ok(u) for u in v) for v in value):
            return (int(value[0][0]), int(value[0][1])), (int(value[1][0]), int(value[1][1]))
    raise InvalidValueError(f"{name} must be an integer >= 0, a pair (height, width) of them, or "
                            f"((top, bottom), (left, right)), got {value!r}")


def channels_last(data_format: Any, layer: str) -> None:
    """Accept ``None`` or ``"channels_last"`` (nnscratch's only layout)."""
    if data_format not in (None, "channels_last"):
        raise InvalidValueError(f"{layer} works on channels-last arrays only (data_format='channels_last'), "
                                f"got data_format={data_format!r}; move the channels last with np.moveaxis")


def sample_shape_error(layer: str, layout: str, input_shape: tuple[int | None, ...]) -> ShapeError:
    """The error for a per-sample ``input_shape`` of the wrong rank (raised from ``build``)."""
    return ShapeError(f"{layer} expects inputs of shape (batch, {layout}), "
                      f"got (batch{''.join(f', {d}' for d in input_shape)})")


def valid_or_same(value: Any, layer: str, hint: str = "") -> str:
    """``"valid"`` or ``"same"`` (any case), the only paddings Keras 3 takes for ``layer``; anything else (``"causal"``,
    explicit amounts) is one ``InvalidValueError`` naming the layer, with ``hint`` after it."""
    if isinstance(value, str) and value.lower() in ("valid", "same"):
        return value.lower()
    causal = isinstance(value, str) and value.lower() == "causal"
    raise InvalidValueError(f"{layer} padding must be 'valid' or 'same' (as in Keras 3), got {value!r}"
                            + (f"; {hint}" if hint and causal else ""))
