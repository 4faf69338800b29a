"""``keras.models``: ``Model``, ``Sequential``, ``load_model``, ``save_model``, ``clone_model``,
``model_from_json``."""

from __future__ import annotations

from typing import Any

from ..core.registry import from_config, to_config
from ..models.loading import load_model, model_from_json
from ..models.model import Model
from ..models.sequential import Sequential
from ._names import module_getattr

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]


def clone_model(model: Model, **kwargs: Any) -> Model:
    """A new model of the same architecture with freshly initialized weights (Keras's ``clone_model``)."""
    if kwargs:
        raise TypeError(f"clone_model takes no {sorted(kwargs)} in nnscratch")
    clone = from_config(to_config(model))
    assert isinstance(clone, Model)
    if model.built and not clone.built:
        clone.build(model.input_shape)
    return clone


def save_model(model: Model, filepath: Any, **kwargs: Any) -> Any:
    """``model.save(filepath)`` (Keras's function form)."""
    if kwargs:
        raise TypeError(f"save_model takes no {sorted(kwargs)} in nnscratch")
    return model.save(filepath)


__getattr__ = module_getattr("keras.models", globals(), {})
