"""``keras.models``: ``Model``, ``Sequential``, ``load_model``, ``clone_model``."""

from __future__ import annotations

from typing import Any

from ..core.registry import from_config, to_config
from ..models.loading import load_model
from ..models.model import Model
from ..models.sequential import Sequential
from ._names import module_getattr

__all__ = ["Model", "Sequential", "clone_model", "load_model"]


def clone_model(model: Model, **kwargs: Any) -> Model:
    """A new model of the same architecture with freshly initialized weights (Keras's ``clone_model``)."""
    if kwargs:
        raise TypeError(f"clone_model takes no {sorted(kwargs)} in nnscratch")
    clone = from_config(to_config(model))
    assert isinstance(clone, Model)
    if model.built and not clone.built:
        clone.build(model.input_shape)
    return clone


__getattr__ = module_getattr("keras.models", globals(), {
    "model_from_json": "nnscratch saves architecture and weights together: use model.save and load_model",
    "save_model": "use model.save(path)",
})
