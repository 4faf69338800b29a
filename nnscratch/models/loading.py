"""``load_model``: rebuild a model saved with ``model.save`` (architecture, weights and loss)."""

from __future__ import annotations

import os
from typing import Any

from ..core.errors import ModelFileError, NNScratchError
from ..core.limits import weight_budget
from ..core.registry import from_config
from ..io.model_file import read_model_file, weights_of
from ..training import losses
from .model import Model, _input_shape_of


def model_from_record(config: dict[str, Any], path: Any = "the file") -> Model:
    """An unbuilt model from a model file's architecture record; any problem is a ``ModelFileError``."""
    try:
        model = from_config(config["model"])
    except ModelFileError as exc:
        raise ModelFileError(f"'{path}': {exc}") from None
    except (NNScratchError, ValueError, TypeError, KeyError, AttributeError, OverflowError, NotImplementedError) as exc:
        raise ModelFileError(f"'{path}' has an invalid architecture record: {str(exc) or type(exc).__name__}") from None
    if not isinstance(model, Model):
        raise ModelFileError(f"'{path}' holds a {type(model).__name__} layer, not a model")
    return model


def load_model(path: str | os.PathLike, custom_objects: dict[str, Any] | None = None, compile: bool = True) -> Model:
    """Rebuild the model saved at ``path`` (architecture, weights and loss) and return it.

    A checkpoint written by ``nnscratch.Checkpoint`` is a model file too: this loads its model.
    Raises ``ModelFileError`` for anything that is not a readable model file of this format version.
    ``custom_objects`` (``{"MyLayer": MyLayer}``) registers your own layer classes for this file.
    """
    from ..core.registry import register_layer

    for cls in (custom_objects or {}).values():
        if isinstance(cls, type):
            register_layer(cls)
    try:
        return _load_model(path, compile)
    except MemoryError:
        raise ModelFileError(f"'{path}': not enough memory to build the model the file describes") from None
    except RecursionError:
        raise ModelFileError(f"'{path}' has an invalid architecture record: nested too deeply") from None


def _load_model(path: str | os.PathLike, compile: bool) -> Model:
    config, arrays = read_model_file(path)
    weights = weights_of(arrays)
    # the architecture may create no more weight values than the file holds: checked before allocating
    with weight_budget(sum(a.size for a in weights.values())):
        model = model_from_record(config, path)
        _build(model, config, path)
    try:
        model.load_state_dict(weights)
    except ModelFileError as exc:
        raise ModelFileError(f"'{path}': {exc}") from None
    if config.get("loss") and compile:
        try:
            model.loss = losses.get(config["loss"])
        except (NNScratchError, ValueError, TypeError) as exc:
            raise ModelFileError(f"'{path}' has an invalid loss record: {exc}") from None
    return model


def _build(model: Model, config: dict[str, Any], path: Any) -> None:
    try:
        model.build(_input_shape_of(config["input_shape"]))
    except ModelFileError as exc:
        raise ModelFileError(f"'{path}': {exc}") from None
    except (NNScratchError, ValueError, TypeError, OverflowError, NotImplementedError) as exc:
        why = str(exc) or "a layer in it cannot be built"
        raise ModelFileError(f"'{path}': the architecture in the file cannot take inputs of shape "
                             f"{_input_shape_of(config['input_shape'])}: {why}") from None
