"""Which layer classes a model file may name, and the JSON form of a layer (``to_config``/``from_config``).

nnscratch's own concrete layers register themselves when defined (``Layer.__init_subclass__``); a user's
layer is added with ``register_layer`` (or ``load_model(..., custom_objects=...)``). A model file can
never name an arbitrary importable class, an abstract base class, or anything that is not a layer.
"""

from __future__ import annotations

from typing import Any, cast

from .errors import InvalidTypeError, InvalidValueError, ModelFileError
from .layer import Layer


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Let model files name the layer class ``cls`` (a decorator for your own layers)."""
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise InvalidTypeError(f"register_layer takes a Layer subclass, got {cls!r}")
    known = Layer.registry.get(cls.__name__)
    if known is not None and known is not cls:
        raise InvalidValueError(f"a layer class named '{cls.__name__}' is registered already ({known.__module__})")
    Layer.registry[cls.__name__] = cls
    return cls


def to_config(layer: Layer) -> dict[str, Any]:
    """``{"class": name, "config": {...}, "name": ...}``: the JSON form of a layer's architecture."""
    spec: dict[str, Any] = {"class": type(layer).__name__, "config": layer.get_config(), "name": layer.name}
    if not layer.trainable:
        spec["trainable"] = False
    if layer.seed is not None:
        spec["seed"] = layer.seed
    return spec


def from_config(spec: dict[str, Any]) -> Layer:
    """Rebuild an (unbuilt) layer from ``to_config`` output; only registered, concrete classes are created."""
    if (not isinstance(spec, dict) or not isinstance(spec.get("class"), str)
            or not isinstance(spec.get("config", {}), dict)):
        raise ModelFileError(f"a layer entry must look like {{'class': name, 'config': {{...}}}}, got {spec!r:.200}")
    cls = Layer.registry.get(spec["class"])
    if cls is None or cls.abstract:
        raise ModelFileError(f"unknown layer class '{spec['class']:.100}' in the model file "
                             f"(a layer of your own must be registered with nnscratch.register_layer)")
    try:
        config = spec.get("config", {})
        # a class with its own from_config (graph models) rebuilds itself; others take the config as arguments
        layer = cast(Any, cls).from_config(config) if "from_config" in vars(cls) else cls(**config)
    except TypeError as exc:
        raise ModelFileError(f"bad configuration for layer {spec['class']}: {exc}") from None
    name = spec.get("name")
    if isinstance(name, str) and name:
        layer.name = name
    if spec.get("trainable") is False:
        layer.trainable = False
    if spec.get("seed") is not None:
        layer.use_seed(spec["seed"])
    return layer
