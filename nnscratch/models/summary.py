"""``summary_text(model)``: Keras's table of layers, output shapes and parameter counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.errors import InvalidValueError
from .subclassed import runs_call


def _shape(shapes: Any) -> str:
    if isinstance(shapes, list):
        return ", ".join(_shape(s) for s in shapes)
    return str((None, *shapes))


def _size(count: int, itemsize: int) -> str:
    """Keras's memory figure: ``(84.00 B)``, ``(1.21 MB)`` (powers of 1024)."""
    size, unit = float(count * itemsize), "B"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            break
        size /= 1024
    return f"({size:.2f} {unit})"


def summary_text(model: Any, width: int = 90, positions: Sequence[float] | None = None) -> str:
    """One row per node (a shared layer once per call): name (type), output shape, parameters; a functional
    model's inputs first (a Sequential's are not listed, as in Keras); totals with their size in memory.
    A subclassed model (``call``) lists its layers with output shape ``?``, as Keras does. ``width`` characters
    a line; ``positions``: where the three columns end, as fractions of it (Keras's), or in characters."""
    ends = [p * width if p <= 1 else p for p in (positions or (4 / 9, 7 / 9, 1.0))]
    if len(ends) != 3 or not all(a < b for a, b in zip([0, *ends], ends)):
        raise InvalidValueError(f"positions must be three increasing column ends, got {positions!r}")
    cols = (round(ends[0]), round(ends[1]) - round(ends[0]), max(width - round(ends[1]), 1))
    line = "=" * width
    rows = [f'Model: "{model.name}"', line,
            f"{'Layer (type)':<{cols[0]}}{'Output Shape':<{cols[1]}}{'Param #':>{cols[2]}}", line]
    graph = model.graph
    seen: set[int] = set()
    if runs_call(model):  # a subclass with call(): its layers
        for layer in model.layers:
            label = f"{layer.name} ({type(layer).__name__})"
            params = f"{layer.count_params():,}" if layer.built or not layer.weights else "0 (unbuilt)"
            rows.append(f"{label:<{cols[0]}}{'?':<{cols[1]}}{params:>{cols[2]}}")
    elif graph is not None:
        for t in graph.inputs if not hasattr(model, "chain") else ():
            rows.append(f"{(t.name or 'input') + ' (InputLayer)':<{cols[0]}}{_shape(t.sample_shape):<{cols[1]}}"
                        f"{0:>{cols[2]}}")
        for node in graph.nodes:
            layer = node.layer
            count = 0 if id(layer) in seen else layer.count_params()
            seen.add(id(layer))
            shapes = [t.sample_shape for t in node.outputs]
            label = f"{layer.name} ({type(layer).__name__})"
            rows.append(f"{label:<{cols[0]}}{_shape(shapes if len(shapes) > 1 else shapes[0]):<{cols[1]}}"
                        f"{count:>{cols[2]},}")
    else:
        rows.append("(not built yet: call it on data or give the input shape)")
    total = model.count_params() if graph is not None else 0
    trainable = sum(p.data.size for p in model.trainable_weights) if graph is not None else 0
    item = model.dtype.itemsize
    rows += [line, f"Total params: {total:,} {_size(total, item)}",
             f"Trainable params: {trainable:,} {_size(trainable, item)}",
             f"Non-trainable params: {total - trainable:,} {_size(total - trainable, item)}", "_" * width]
    return "\n".join(rows)
