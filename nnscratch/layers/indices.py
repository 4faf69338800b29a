"""Integer inputs carried as arrays (an ``Embedding``'s indices, a ``CategoryEncoding``'s tokens): checked once."""

from __future__ import annotations

import numpy as np

from ..core.errors import DTypeError, InvalidValueError


def whole_indices(x: np.ndarray, depth: int, layer: str, setting: str, plural: str = "indices",
                  noun: str = "index") -> np.ndarray:
    """``x`` as ``intp``, after checking that it holds whole numbers in ``[0, depth)`` (integers, or floats that
    hold them exactly). Errors name ``layer``, its ``setting`` (``input_dim=``) and the first bad value."""
    if x.dtype.kind not in "iuf":
        raise DTypeError(f"{layer} expects integer {plural} (as integers or whole floats), got dtype {x.dtype}")
    exact = 2 ** (np.finfo(x.dtype).nmant + 1) if x.dtype.kind == "f" else None
    if exact is not None and depth > exact:
        raise DTypeError(f"{layer} with {setting}={depth} needs integer or float64 {plural}: {x.dtype} holds whole "
                         f"numbers exactly only up to {exact}")
    with np.errstate(invalid="ignore"):
        index = x.astype(np.intp)
    if exact is not None and not np.array_equal(index, x):
        first = tuple(int(i) for i in np.argwhere(index != x)[0])
        raise InvalidValueError(f"{layer} input holds {x[first]} at index {first}; expected whole numbers "
                                f"({plural} in [0, {depth}))")
    bad = (index < 0) | (index >= depth)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidValueError(f"{layer} input holds {noun} {index[first]} at {first}, out of range: {setting}="
                                f"{depth}, so {plural} must be 0..{depth - 1}")
    return index
