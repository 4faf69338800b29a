"""``Layer``: the base class of every layer and model (``Module`` is its v1 name, kept as an alias).

The contract (``docs/architecture.md``)::

    y  = layer.forward_call(ctx, x)     # x: (batch, ...) array, or a list of them for several inputs
    dx = layer.backward_call(ctx, dy)   # dy = dL/dy; returns dL/dx (None when not ctx.input_grad)
                                        # and ADDS dL/dparam into every param.grad

``ctx`` is the ``Call`` of that one call: whatever the backward needs is stored there, never on the
layer, so a layer called at several places of a graph is exact (its weights' gradients add up).
``layer(x)`` on an array runs ``forward`` at once; on a symbolic tensor (``nn.Input``) it records a node
of a graph. ``layer.forward(x, training)`` / ``layer.backward(dy)`` run one call at a time with a record
the layer keeps for that purpose alone.

A layer owns ``Parameter`` attributes and child layers (attributes, or items of list/tuple attributes);
``named_parameters()`` and ``state_dict()`` find them by walking the attributes. Layers create their
parameters lazily, on the first call, from the input's shape (``build``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from . import random as nn_random
from . import shapes
from .call import Call
from .errors import DTypeError, InvalidTypeError, ModelFileError, NotBuiltError, ShapeError
from .masking import MaskSupport
from .naming import snake_case, unique_name
from .parameter import Parameter
from .regularizers import Penalties
from .tensor import SymbolicTensor, accepts_batch_shape, connect, latest_node


class Layer(MaskSupport, Penalties):
    """Base class: subclasses implement ``forward_call``/``backward_call`` (and ``build`` if they have weights)."""

    # Classes a model file may name: nnscratch's own concrete layers register themselves; a user's layer
    # is added with ``register_layer`` (never any importable name).
    registry: ClassVar[dict[str, type[Layer]]] = {}
    abstract: ClassVar[bool] = True  # base classes set this; concrete subclasses do not inherit it
    checks_dtype: ClassVar[bool] = True  # layers without parameters of their own may accept any float dtype
    # Samples are independent and no random numbers are drawn: a batch may be split across threads
    # (nnscratch.training.parallel). False for Dropout, BatchNorm and the augmentation layers.
    per_sample: ClassVar[bool] = False
    # Most of its time is element-wise and copying work, which NumPy runs on one core (convolution,
    # pooling): splitting the batch across threads pays off only for models with such a layer.
    gains_from_threads: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A v1-style layer overrides forward(x, training)/backward(grad_out) and keeps its call state on
        # itself: it runs as written, one call at a time (a graph refuses to call it at two places).
        if "forward" in cls.__dict__ and "forward_call" not in cls.__dict__:
            cls.forward_call = lambda self, ctx, x: self.forward(x, ctx.training)  # type: ignore[method-assign]
            cls.v1_style = True
        if "backward" in cls.__dict__ and "backward_call" not in cls.__dict__:
            cls.backward_call = lambda self, ctx, grad_out: self.backward(grad_out)  # type: ignore[method-assign]
            cls.v1_style = True
        # A Keras-style layer defines call(inputs) with nnscratch.ops and no backward: differentiated by the tape.
        if "call" in cls.__dict__ and "forward_call" not in cls.__dict__ and not cls.v1_style:
            cls.traced = True
        if "build" in cls.__dict__:
            cls.build = accepts_batch_shape(cls.__dict__["build"])  # type: ignore[method-assign]
        if "abstract" not in cls.__dict__:
            cls.abstract = False
        if cls.__module__.startswith("nnscratch.") and not cls.abstract and not cls.__name__.startswith("_"):
            Layer.registry.setdefault(cls.__name__, cls)

    def __init__(self, name: str | None = None, trainable: bool = True, input_shape: Any = None,
                 input_dim: int | None = None) -> None:
        self.dtype = np.dtype(np.float32)
        self.rng: np.random.Generator | np.random.RandomState = nn_random.layer_rng()
        self.seed: int | None = None  # set by use_seed: the layer keeps a generator of its own
        self.input_shape: Any = None  # per-sample shape seen at build time (a list of them for several inputs)
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidTypeError(f"name must be a non-empty string, got {name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._own_call: Call | None = None
        # Keras's input_shape=/input_dim= on a Sequential's first layer: the Sequential builds from it
        self.declared_input_shape = (input_dim,) if input_dim is not None else input_shape

    v1_style: ClassVar[bool] = False
    trainable_version: ClassVar[int] = 0  # bumped whenever any layer is frozen or unfrozen
    traced: ClassVar[bool] = False  # defines call() only: run and differentiated by ``call_engine``
    # Runs layers written with ``call`` and ``nnscratch.ops`` (installed by ``nnscratch.autodiff``, which
    # the core does not import): ``forward(layer, ctx, x)``, ``backward(layer, ctx, dy)``, ``apply(layer, t)``.
    call_engine: ClassVar[Any] = None

    # ---------------------------------------------------------------- the contract
    def forward_call(self, ctx: Call, x: Any) -> Any:
        """The output of one call; store on ``ctx`` what ``backward_call`` needs."""
        if self.traced:
            return self._engine().forward(self, ctx, x)
        raise NotImplementedError(f"{type(self).__name__} must implement forward_call(ctx, x) (or call(inputs))")

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        """dL/dx of the call recorded in ``ctx``; adds dL/dparam into each ``param.grad``."""
        if self.traced:
            return self._engine().backward(self, ctx, grad_out)
        raise NotImplementedError(f"{type(self).__name__} must implement backward_call(ctx, grad_out)")

    def _engine(self) -> Any:
        if Layer.call_engine is None:
            raise NotImplementedError(f"{type(self).__name__} is written with call(): import nnscratch (which "
                                      f"installs the autodiff engine) before using it")
        return Layer.call_engine

    def add_weight(self, shape: Any = None, initializer: Any = "glorot_uniform", dtype: Any = None,
                   trainable: bool = True, name: str | None = None, **kwargs: Any) -> Parameter:
        """A new weight of ``shape`` for a layer written with ``call`` (Keras's ``add_weight``); assign it
        to an attribute (``self.w = self.add_weight(...)``) so the layer owns it."""
        from . import initializers

        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in (shape or ()))
        init = initializers.get(initializer if initializer is not None else "glorot_uniform")
        return Parameter(init(shape, self.rng, np.dtype(dtype) if dtype is not None else self.dtype),
                         trainable=bool(trainable), name=name)

    def add_loss(self, value: Any) -> None:
        """Add ``value`` (a scalar computed with ``nnscratch.ops`` inside ``call``) to the training loss."""
        self._engine().add_loss(self, value)

    @property
    def keeps_call_state(self) -> bool:
        """True for a v1-style layer (``forward``/``backward`` overridden): it cannot be called twice in a graph."""
        return self.v1_style

    # Loss fusion (``nnscratch.core.rewrites``): a layer whose last step is an activation can give the
    # activation's input (the logits) of a call and continue backward from a gradient with respect to it.
    def output_activation(self) -> Layer | None:
        """The activation this layer applies last (whose input ``logits`` returns), or None."""
        return None

    def logits(self, ctx: Call) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} has no output activation")

    def backward_from_logits(self, ctx: Call, grad: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no output activation")

    # ---------------------------------------------------------------- calling
    def forward(self, x: Any, training: bool = False) -> Any:
        """Run one call now (the layer keeps its record for ``backward``)."""
        ctx = self._own_call
        if ctx is None:
            ctx = self._own_call = Call()
        ctx.training, ctx.input_grad = bool(training), True
        ctx.losses.clear()
        return self.forward_call(ctx, x)

    @property
    def last_call(self) -> Call | None:
        """The record of the last ``forward`` called on this layer directly (what ``backward`` uses)."""
        return self._own_call

    def backward(self, grad_out: Any) -> Any:
        """dL/dx of the last ``forward``; adds the parameter gradients into ``grad``."""
        if self._own_call is None:
            raise NotBuiltError(f"{type(self).__name__}.backward called before forward")
        return self.backward_call(self._own_call, grad_out)

    def __call__(self, x: Any, training: bool | None = None) -> Any:
        """On symbolic tensors (``nn.Input``): a node of a graph (``training=True``/``False`` pins that node's
        mode, Keras's ``base(x, training=False)``); on arrays: ``forward(x, training)``, a real array of
        another dtype (each, for a list) first cast to the layer's (Keras's autocast; ``forward`` is strict)."""
        items = x if isinstance(x, (list, tuple)) else [x]
        if any(isinstance(t, SymbolicTensor) for t in items):
            return connect(self, x, training)
        x = [self._autocast(a) for a in x] if isinstance(x, (list, tuple)) else self._autocast(x)
        engine = Layer.call_engine
        if engine is not None and engine.recording(items):  # inside another layer's call(), on traced tensors
            return engine.apply(self, x, training)
        return self.forward(x, bool(training))

    def _autocast(self, a: Any) -> Any:
        return a.astype(self.dtype) if type(a) is np.ndarray and a.dtype != self.dtype and a.dtype.kind in "biuf" else a

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's latest call on symbolic tensors (Keras's ``layer.output``)."""
        node = latest_node(self, "output")
        return node.outputs if node.several_outputs else node.outputs[0]

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's latest call on symbolic tensors (Keras's ``layer.input``)."""
        node = latest_node(self, "input")
        return node.inputs if node.several_inputs else node.inputs[0]

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Per-sample output shape(s) for per-sample input shape(s), ``None`` for an axis of variable size."""
        return shapes.output_shape(self, input_shape)

    def build(self, input_shape: Any) -> None:
        """Create parameters for inputs of per-sample shape ``input_shape`` (no batch axis)."""
        self.input_shape = tuple(input_shape) if not isinstance(input_shape, list) else input_shape

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
        elif x.shape[1:] != self.input_shape and not shapes.fits(x.shape[1:], self.input_shape):
            raise ShapeError(
                f"{type(self).__name__} was built for inputs of shape (batch, "
                f"{', '.join(map(str, self.input_shape))}), "
                f"got {x.shape}"
            )

    # ---------------------------------------------------------------- freezing
    @property
    def trainable(self) -> bool:
        """False freezes this layer and every layer inside it: optimizers never see their weights."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise InvalidTypeError(f"trainable must be True or False, got {value!r}")
        for layer in self.modules():
            layer._trainable = bool(value)
        Layer.trainable_version += 1  # graphs re-plan which steps need gradients

    # ---------------------------------------------------------------- traversal
    def children(self) -> Iterator[tuple[str, Layer]]:
        """Direct sub-layers as ``(name, layer)``: attributes, or items of list/tuple attributes."""
        for name, value in vars(self).items():
            if isinstance(value, Layer):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Layer):
                        yield f"{name}.{i}", item

    def modules(self) -> Iterator[Layer]:
        """This layer and all layers inside it, depth first, each once."""
        seen: set[int] = set()
        stack: list[Layer] = [self]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            yield layer
            stack.extend(reversed([child for _, child in layer.children()]))

    def named_parameters(self, prefix: str = "", include_frozen: bool = False,
                         _seen: set[int] | None = None) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs, each parameter once (a shared layer is found once).

        Without ``include_frozen``: the weights to train — not the non-trainable state (running means),
        nothing of a layer with ``trainable = False``. With it: every array saved with the model."""
        seen = set() if _seen is None else _seen
        if not include_frozen and not self._trainable:
            return
        for name, value in vars(self).items():
            if isinstance(value, Parameter) and (value.trainable or include_frozen) and id(value) not in seen:
                seen.add(id(value))
                yield prefix + name, value
        for name, child in self.children():
            yield from child.named_parameters(f"{prefix}{name}.", include_frozen, seen)

    def parameters(self) -> list[Parameter]:
        """The trainable parameters, in a stable order (what an optimizer receives)."""
        return [p for _, p in self.named_parameters()]

    @property
    def trainable_weights(self) -> list[Parameter]:
        return self.parameters()

    @property
    def weights(self) -> list[Parameter]:
        """Every parameter, trainable or not, in ``state_dict`` order."""
        return [p for _, p in self.named_parameters(include_frozen=True)]

    @property
    def non_trainable_weights(self) -> list[Parameter]:
        trainable = {id(p) for p in self.parameters()}
        return [p for p in self.weights if id(p) not in trainable]

    variables, trainable_variables, non_trainable_variables = weights, trainable_weights, non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every weight array, in ``weights`` order."""
        return [p.data.copy() for p in self.weights]

    def set_weights(self, arrays: list[np.ndarray]) -> None:
        """Copy ``arrays`` (in ``weights`` order, same shapes) into the weights."""
        weights = self.weights
        if len(arrays) != len(weights):
            raise ShapeError(f"set_weights: {type(self).__name__} has {len(weights)} weight arrays, got {len(arrays)}")
        for i, (p, a) in enumerate(zip(weights, arrays)):
            a = np.asarray(a)
            if a.shape != p.shape:
                raise ShapeError(f"set_weights: array {i} has shape {a.shape}, the weight expects {p.shape}")
        for p, a in zip(weights, arrays):
            p.data[...] = a

    def zero_grad(self) -> None:
        for _, p in self.named_parameters(include_frozen=True):
            p.zero_grad()

    def count_params(self) -> int:
        return sum(p.data.size for p in self.weights)

    # ---------------------------------------------------------------- configuration
    def set_dtype(self, dtype: Any) -> Layer:
        """Choose float32 or float64 for this layer and its children (before building)."""
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

    def set_rng(self, rng: np.random.Generator | np.random.RandomState, seeded: bool = False) -> Layer:
        """Share one random generator with this layer and its children (initialization, dropout); layers with
        a ``seed`` of their own keep theirs unless ``seeded`` (gradient checks, distributed steps)."""
        if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
            raise InvalidTypeError(f"rng must be a numpy Generator or RandomState, got {type(rng).__name__}")
        for m in self.modules():
            if seeded or m.seed is None:
                m.rng = rng
        return self

    def use_seed(self, seed: int | None) -> Layer:
        """Keras's layer ``seed=``: an int gives this layer a generator of its own (its draws repeat from run to
        run, whatever the model's generator; checkpoints save it); ``None`` keeps the model's."""
        self.seed = nn_random.layer_seed(type(self).__name__, seed)
        self.rng = self.rng if self.seed is None else np.random.default_rng(self.seed)
        return self

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments; ``type(self)(**config)`` rebuilds an unbuilt copy."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """A new, unbuilt layer from ``get_config()`` output (Keras's ``from_config``)."""
        return cls(**config)

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
                raise ModelFileError(f"weights for another architecture: tensor '{name}' {p.shape} is missing from the "
                                     "file")
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
            raise ModelFileError(f"weights for another architecture: the file has tensor '{extra[0]}' the model does "
                                 "not have")
        for name, p in own.items():
            p.data[...] = state[name]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


Module = Layer  # the v1 name
