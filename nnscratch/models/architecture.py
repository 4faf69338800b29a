"""A model's architecture as a record: the layer record of ``to_config`` and, for a built model, the input
shape(s) it was built for; as JSON text for Keras's ``model.to_json()`` (``loading.model_from_json`` reads
it back, with fresh weights)."""

from __future__ import annotations

import json
from typing import Any

from ..core.registry import to_config
from ..core.shapes import SampleShape
from ..io.model_file import input_shape_record


def input_shape_of(value: Any) -> Any:
    """The inverse of ``io.model_file.input_shape_record``: the per-sample input shape(s) of a record (``None``
    for an axis of variable size, never a batch axis)."""
    if value and isinstance(value[0], list):
        return [SampleShape(v) for v in value]
    return SampleShape(value)


def to_json(model: Any, **kwargs: Any) -> str:
    """``model``'s architecture as JSON (``kwargs`` go to ``json.dumps``, e.g. ``indent=2``)."""
    record = to_config(model)
    if model.built:
        record["input_shape"] = input_shape_record(model.input_shape)
    return json.dumps(record, **kwargs)
