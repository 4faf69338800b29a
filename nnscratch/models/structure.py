"""The form in which a graph model takes its inputs and gives its outputs: one tensor, a list, or a dict by
name (Keras's ``Model(inputs=[...], outputs={"priority": p, "department": d})``).

Inside, a graph always holds lists. A dict's keys become the model's input or output names (so losses,
metrics, targets and logs go by them: ``loss={"priority": ...}``, ``priority_loss``), in the dict's order,
and the model gives its outputs back as a dict with those keys: ``predict``, a call on arrays or on
symbolic tensors, ``model.output``.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import InvalidValueError


def flatten(value: Any, what: str) -> tuple[list[Any], list[str] | None, bool]:
    """``(items, dict keys or None, several)`` of a model's ``inputs`` or ``outputs`` argument."""
    if isinstance(value, dict):
        keys = list(value)
        if not keys:
            raise InvalidValueError(f"Model {what} is an empty dict; expected {what} by name")
        bad = [k for k in keys if not isinstance(k, str) or not k]
        if bad:
            raise InvalidValueError(f"Model {what} dict keys are the {what[:-1]} names and must be non-empty "
                                    f"strings, got {bad[0]!r}")
        return list(value.values()), keys, True
    if isinstance(value, (list, tuple)):
        return list(value), None, True
    return [value], None, False


def packed(values: list[Any], keys: list[str] | None, several: bool) -> Any:
    """``values`` (one per input or output) in the model's form: a dict by ``keys``, a list, or the one value."""
    if keys is not None:
        return dict(zip(keys, values))
    return values if several else values[0]
