"""Arrays in and out of a training loop: one array per model input and per output, checked once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError, ShapeError
from ..core.validation import as_float_array, as_targets, check_sample_shape


def input_arrays(model: Any, x: Any, name: str = "x") -> list[np.ndarray]:
    """``x`` (an array, a list in input order, or a dict by input name) as checked float arrays."""
    checked: np.ndarray | None = None
    if not model.built:
        x = checked = as_float_array(x, name, model.dtype)
        model.build(checked.shape[1:])
    xs = model.input_list(x)
    graph = model.graph
    several = len(xs) > 1
    out = []
    for i, (arr, t) in enumerate(zip(xs, graph.inputs)):
        label = f"{name}[{i}]" if several else name
        if checked is None or arr is not checked or checked.dtype != t.dtype:  # not the array just checked
            arr = as_float_array(arr, label, t.dtype)
        check_sample_shape(arr, label, t.sample_shape)
        out.append(arr)
    if len({len(a) for a in out}) > 1:
        raise ShapeError(f"{name}: the inputs have different numbers of samples: {[len(a) for a in out]}")
    return out


def target_arrays(model: Any, y: Any, n: int, name: str = "y") -> list[np.ndarray]:
    """``y`` (an array, a list in output order, or a dict by output name) with ``n`` rows each."""
    names = model.output_names
    if isinstance(y, dict):
        missing = [k for k in names if k not in y]
        if missing:
            raise InvalidValueError(f"{name} has no targets for outputs {missing} (it has {sorted(y)})")
        ys = [y[k] for k in names]
    elif len(names) > 1:
        if not isinstance(y, (list, tuple)) or len(y) != len(names):
            raise InvalidValueError(f"{name} must hold one target array per output ({len(names)}: {names}), "
                                    f"as a list or a dict by output name")
        ys = list(y)
    elif isinstance(y, (list, tuple)) and len(y) == 1 and isinstance(y[0], np.ndarray) and y[0].ndim and len(y[0]) == n:
        ys = [y[0]]  # one target array per output, for a model with one output
    else:
        ys = [y]
    several = len(ys) > 1
    return [as_targets(t, f"{name}[{i}]" if several else name, n, model.dtype) for i, t in enumerate(ys)]


def take(arrays: list[np.ndarray], index: Any) -> list[np.ndarray]:
    return [a[index] for a in arrays]


# Keras's arguments for generators and datasets, which nnscratch's fit/evaluate/predict do not take.
DATASET_ARGUMENTS = ("steps_per_epoch", "validation_steps", "steps", "workers", "use_multiprocessing", "max_queue_size")


def refuse_datasets(method: str, x: Any, arguments: dict[str, Any]) -> None:
    """One clear error for a generator or iterator ``x``, or Keras's dataset arguments, given to ``method``."""
    given = [name for name in DATASET_ARGUMENTS if name in arguments]
    if isinstance(x, Iterator) or given:
        what = f"the argument {given[0]}=" if given else f"a {type(x).__name__} as x"
        raise InvalidValueError(f"{method} got {what}: nnscratch's {method} takes NumPy arrays (a list or dict of "
                                f"them for several inputs) and goes through all samples, not generators or datasets; "
                                f"collect the batches first, e.g. x = np.concatenate([xb for xb, yb in batches])")
