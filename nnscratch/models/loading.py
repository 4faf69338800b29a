"""``load_model``: rebuild a model saved with ``model.save`` (architecture, weights and loss)."""

from __future__ import annotations

import json
import os
from typing import Any

from ..core.errors import ModelFileError, NNScratchError
from ..core.limits import activation_ceiling, weight_budget
from ..core.registry import from_config
from ..core.validation import positive_int
from ..io import model_file
from ..io.model_file import read_model_file, weights_of
from ..training import losses
from .architecture import input_shape_of
from .model import Model


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
    _register(custom_objects)
    try:
        return _load_model(path, compile)
    except MemoryError:
        raise ModelFileError(f"'{path}': not enough memory to build the model the file describes") from None
    except RecursionError:
        raise ModelFileError(f"'{path}' has an invalid architecture record: nested too deeply") from None


def _register(custom_objects: dict[str, Any] | None) -> None:
    from ..core.registry import register_layer

    for cls in (custom_objects or {}).values():
        if isinstance(cls, type):
            register_layer(cls)


def model_from_json(text: str, custom_objects: dict[str, Any] | None = None,
                    max_weights: int | None = 100_000_000) -> Model:
    """The model that ``model.to_json()`` text describes, built for its input shape, with fresh weights. Only
    registered layer classes (and those of ``custom_objects``) are created. The text holds no weights to bound
    the build by, so it may create at most ``max_weights`` weight values (400 MB in float32; ``None``: no
    limit): a hostile text asking for more gets a ``ModelFileError`` before anything large is allocated. While it
    is built, one sample's activations are held to ``io.model_file.MAX_TENSOR_BYTES`` each (``core.limits``)."""
    _register(custom_objects)
    if max_weights is None:
        return _model_from_json(text)
    with weight_budget(positive_int(max_weights, "max_weights"), "max_weights allows"), _activations():
        try:
            return _model_from_json(text)
        except MemoryError:
            raise ModelFileError("not enough memory to build the model the JSON text describes") from None
        except RecursionError:
            raise ModelFileError("the JSON text has an invalid architecture record: nested too deeply") from None


def _activations() -> Any:
    """The ceiling on one sample's activations while a record is built (``MAX_TENSOR_BYTES``, read now)."""
    return activation_ceiling(int(model_file.MAX_TENSOR_BYTES), "nnscratch.io.model_file.MAX_TENSOR_BYTES")


def _model_from_json(text: str) -> Model:
    try:
        record = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"model_from_json takes the JSON text of model.to_json(): {exc}") from None
    if not isinstance(record, dict):
        raise ModelFileError(f"model_from_json takes the JSON text of model.to_json(), got {type(record).__name__}")
    model = model_from_record({"model": record}, "the JSON text")
    if not model.built and isinstance(record.get("input_shape"), list):
        model.build(input_shape_of(record["input_shape"]))
    return model


def _load_model(path: str | os.PathLike, compile: bool) -> Model:
    config, arrays = read_model_file(path)
    weights = weights_of(arrays)
    # the architecture may create no more weight values than the file holds: checked before allocating
    with weight_budget(sum(a.size for a in weights.values())), _activations():
        model = model_from_record(config, path)
        _build(model, config, path)
    try:
        model.load_state_dict(weights)
    except ModelFileError as exc:
        raise ModelFileError(f"'{path}': {exc}") from None
    if config.get("loss") and compile:
        try:
            record = config["loss"]
            model.loss = ([None if c is None else losses.get(c) for c in record] if isinstance(record, list)
                          else losses.get(record))
        except (NNScratchError, ValueError, TypeError) as exc:
            raise ModelFileError(f"'{path}' has an invalid loss record: {exc}") from None
    return model


def _build(model: Model, config: dict[str, Any], path: Any) -> None:
    try:
        model.build(input_shape_of(config["input_shape"]))
    except ModelFileError as exc:
        raise ModelFileError(f"'{path}': {exc}") from None
    except (NNScratchError, ValueError, TypeError, OverflowError, NotImplementedError) as exc:
        why = str(exc) or "a layer in it cannot be built"
        raise ModelFileError(f"'{path}': the architecture in the file cannot take inputs of shape "
                             f"{input_shape_of(config['input_shape'])}: {why}") from None
