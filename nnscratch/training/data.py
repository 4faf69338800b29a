"""Arrays in and out of a training loop: one array per model input and per output, checked once."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
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


def validation_parts(validation_data: Any) -> tuple[Any, Any, Any]:
    """``(x_val, y_val, sample_weight or None)`` of ``fit``'s array ``validation_data``."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        length = f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else ""
        raise InvalidTypeError(f"validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight), "
                               f"got {type(validation_data).__name__}{length} (a PyDataset or generator is taken "
                               f"when x is one too)")
    return (*validation_data, None)[:3]


# Keras's arguments for a PyDataset or a generator (for arrays an epoch is all samples), and Keras 2's
# queue arguments, which Keras 3 and nnscratch take on the PyDataset.
SOURCE_ARGUMENTS = {"fit": ("steps_per_epoch", "validation_steps"), "evaluate": ("steps",), "predict": ("steps",)}
QUEUE_ARGUMENTS = ("workers", "use_multiprocessing", "max_queue_size")


def check_data_arguments(method: str, x: Any, arguments: dict[str, Any]) -> None:
    """One clear error for arguments that do not go with ``x``: the queue arguments anywhere, the step counts
    with arrays."""
    from .batch_source import is_batch_source

    queue = [name for name in QUEUE_ARGUMENTS if name in arguments]
    if queue:
        raise InvalidValueError(f"{method} got {queue[0]}=: pass it to your PyDataset's constructor instead "
                                f"(super().__init__(workers=..., max_queue_size=...)), as in Keras 3")
    given = [name for name in ("steps_per_epoch", "validation_steps", "steps") if name in arguments]
    allowed = SOURCE_ARGUMENTS.get(method, ()) if is_batch_source(x) else ()
    refused = [name for name in given if name not in allowed]
    if refused:
        with_ = f"a {type(x).__name__}" if is_batch_source(x) else "arrays"
        raise InvalidValueError(f"{method} got {refused[0]}= with {with_} as x: step counts are for a PyDataset or "
                                f"a generator of batches (with arrays an epoch goes through all samples)")
