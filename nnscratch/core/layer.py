"""``Module``: the base class of every layer and container.

A module owns ``Parameter`` attributes and child ``Module`` attributes (directly, or in a list/tuple);
``parameters()`` and ``state_dict()`` find them by walking the attributes, so nothing is registered by hand.

Contract (see ``docs/architecture.md``)::

    y  = module.forward(x, training)    # caches what backward needs
    dx = module.backward(dy)            # dy = dLoss/dy, same shape as y; returns dLoss/dx
                                        # and ADDS dLoss/dparam into every param.grad

Layers create their parameters lazily on the first ``forward`` from the input's shape.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterator

import numpy as np

from .errors import DTypeError, InvalidTypeError, ModelFileError, NotBuiltError, ShapeError
from .parameter import Parameter


class Module:
    """Base class: subclasses implement ``forward`` and ``backward`` (and ``build`` if they have weights)."""

    registry: ClassVar[dict[str, type[Module]]] = {}
    checks_dtype: ClassVar[bool] = True  # layers without parameters of their own may accept any float dtype
    # Samples are independent and no random numbers are drawn: a batch may be split across threads
    # (nnscratch.parallel). False for Dropout, BatchNorm and the augmentation layers.
    per_sample: ClassVar[bool] = False
    # Most of its time is element-wise and copying work, which NumPy runs on one core (convolution,
    # pooling): splitting the batch across threads pays off only for models with such a layer.
    gains_from_threads: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Module.registry.setdefault(cls.__name__, cls)  # a later class of the same name never shadows a built-in

    def __init__(self) -> None:
        self.training = False
        self.dtype = np.dtype(np.float32)
        self.rng: np.random.Generator | np.random.RandomState = np.random.default_rng()
        self.input_shape: tuple[int, ...] | None = None  # per-sample shape seen at build time

    # ---------------------------------------------------------------- computation
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self.forward(x, training)

    def build(self, input_shape: tuple[int, ...]) -> None:
        """Create parameters for inputs of per-sample shape ``input_shape`` (no batch axis)."""
        self.input_shape = tuple(input_shape)

    @property
    def built(self) -> bool:
        return self.input_shape is not None

    def _ensure_built(self, x: np.ndarray) -> None:
        """Build on first use; afterwards check that ``x`` matches the built dtype and shape."""
        try:
            dtype = x.dtype
        except AttributeError:
            raise DTypeError(f"{type(self).__name__} expects a numpy array of shape (batch, ...), "
                             f"got {type(x).__name__}; use np.asarray(x, dtype='{self.dtype}')") from None
        if self.checks_dtype and dtype != self.dtype:
            raise DTypeError(
                f"{type(self).__name__} expects {self.dtype} input, got {x.dtype}; "
                f"cast with x.astype('{self.dtype}') or build the model with dtype='{x.dtype}'"
            )
        if self.input_shape is None:
            self.build(x.shape[1:])
        elif x.shape[1:] != self.input_shape:
            raise ShapeError(
                f"{type(self).__name__} was built for inputs of shape (batch, {', '.join(map(str, self.input_shape))}), "
                f"got {x.shape}"
            )

    # ---------------------------------------------------------------- traversal
    def children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules as ``(name, module)``: attributes, or items of list/tuple attributes."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def modules(self) -> Iterator[Module]:
        """This module and all its descendants, depth first."""
        yield self
        for _, child in self.children():
            yield from child.modules()

    def named_parameters(self, prefix: str = "", include_frozen: bool = False) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs; non-trainable state only with ``include_frozen``."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter) and (value.trainable or include_frozen):
                yield prefix + name, value
        for name, child in self.children():
            yield from child.named_parameters(f"{prefix}{name}.", include_frozen)

    def parameters(self) -> list[Parameter]:
        """The trainable parameters, in a stable order (what an optimizer receives)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    # ---------------------------------------------------------------- configuration
    def set_dtype(self, dtype: Any) -> Module:
        """Choose float32 or float64 for this module and its children (before building)."""
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise DTypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
        if dtype not in (np.float32, np.float64):
            raise DTypeError(f"dtype must be float32 or float64, got {dtype}")
        for m in self.modules():
            if m.built and m.dtype != dtype and any(True for _ in m.named_parameters(include_frozen=True)):
                raise DTypeError(f"{type(m).__name__} is already built in {m.dtype}; set the dtype before building")
            m.dtype = dtype
        return self

    def set_rng(self, rng: np.random.Generator | np.random.RandomState) -> Module:
        """Share one random generator with this module and its children (initialization, dropout)."""
        if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
            raise InvalidTypeError(f"rng must be a numpy Generator or RandomState, got {type(rng).__name__}")
        for m in self.modules():
            m.rng = rng
        return self

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments; ``type(self)(**config)`` rebuilds an unbuilt copy."""
        return {}

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter and non-trainable state array by dotted name (copies)."""
        return {name: p.data.copy() for name, p in self.named_parameters(include_frozen=True)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays into the parameters in place; raise ``ModelFileError`` on the first mismatch."""
        if not isinstance(state, dict):
            raise InvalidTypeError(f"state must be a dict of arrays by parameter name, got {type(state).__name__}")
        own = dict(self.named_parameters(include_frozen=True))
        if not own and state:
            raise NotBuiltError(f"{type(self).__name__} has no parameters yet: build it before loading weights")
        for name, p in own.items():
            if name not in state:
                raise ModelFileError(f"weights for another architecture: tensor '{name}' {p.shape} is missing from the file")
            value = np.asarray(state[name])
            if value.dtype.kind not in "biuf":
                raise ModelFileError(f"tensor '{name}' has dtype {value.dtype}; expected floating-point numbers")
            if value.shape != p.shape:
                raise ModelFileError(
                    f"weights for another architecture: tensor '{name}' has shape {value.shape} in the file, "
                    f"the model expects {p.shape}"
                )
        extra = [name for name in state if name not in own]
        if extra:
            raise ModelFileError(f"weights for another architecture: the file has tensor '{extra[0]}' the model does not have")
        for name, p in own.items():
            p.data[...] = state[name]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def to_config(module: Module) -> dict[str, Any]:
    """``{"class": name, "config": {...}}``: the JSON form of a module's architecture."""
    return {"class": type(module).__name__, "config": module.get_config()}


def from_config(spec: dict[str, Any]) -> Module:
    """Rebuild an (unbuilt) module from ``to_config`` output; only registered Module classes are created."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str) or not isinstance(spec.get("config", {}), dict):
        raise ModelFileError(f"a layer entry must look like {{'class': name, 'config': {{...}}}}, got {spec!r:.200}")
    cls = Module.registry.get(spec["class"])
    if cls is None:
        raise ModelFileError(f"unknown layer class '{spec['class']}' in the model file")
    try:
        return cls(**spec.get("config", {}))
    except TypeError as exc:
        raise ModelFileError(f"bad configuration for layer {spec['class']}: {exc}") from None
