"""``Model``: a graph of layers (``nn.Model(inputs, outputs)``) with the training API.

    x = nn.Input(shape=(28, 28, 1))
    h = nn.Conv2D(8, 3, activation="relu")(x)
    y = nn.Dense(10, activation="softmax")(nn.Flatten()(h))
    model = nn.Model(inputs=x, outputs=y)

A model is a layer: it can be called on symbolic tensors inside another model, or on arrays. Its
layers and weights are found by walking the graph; a layer called at several nodes appears once in
``layers`` and its gradients add up. ``compile``/``fit``/``evaluate``/``predict`` and the per-batch
methods are a thin layer over ``nnscratch.training`` (the loop, callbacks and checkpoints live there).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, NotBuiltError
from ..core.graph import Graph
from ..core.layer import Layer
from ..core.random import layer_rng, make_rng
from ..core.shapes import SampleShape
from ..core.tensor import SymbolicTensor
from ..core.validation import positive_int
from ..training import loop, source_loop
from ..training import trainer as trainer_mod
from ..training.batch_source import is_batch_source
from ..training.compile_args import UNSET, compile_arguments
from ..training.data import check_data_arguments
from ..training.history import History
from . import architecture, stateful, structure, subclassed
from .class_predictions import ClassPredictions
from .input_layer import InputLayer
from .nested_masks import NestedMasks
from .summary import summary_text


class Model(NestedMasks, Layer, ClassPredictions, stateful.ResetStates):
    """A graph model from ``inputs`` to ``outputs`` (symbolic tensors; a list or a dict by name for several:
    ``models/structure.py``).

    ``seed`` drives shuffling, dropout and augmentation in ``fit`` (the weights were drawn when the layers
    were called on the inputs: use ``nn.set_random_seed`` before building for repeatable weights).
    ``rewrites=False`` runs every node as written, without the registered fusions (same numbers).
    A subclass may instead create layers in ``__init__`` and define ``call(inputs, training=None)``
    (``nnscratch.models.subclassed``): it is built on the first data it sees. Masks: ``nested_masks``."""

    input_keys: list[str] | None = None  # the names of inputs=/outputs= given as dicts
    output_keys: list[str] | None = None

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None, seed: Any = None,
                 trainable: bool = True, **kwargs: Any) -> None:
        super().__init__(name=name)
        self.functional = inputs is not None or outputs is not None  # else a subclass with call() builds itself
        self.rewrites = True
        self.graph: Graph | None = None
        self.layers: list[Layer] = []
        self.trainer: trainer_mod.Trainer | None = None
        self.history: History | None = None
        self.stop_training = False
        self.rng = make_rng(seed) if seed is not None else layer_rng()  # nn.set_random_seed's generator, if set
        self._seeded = seed is not None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise InvalidValueError("Model needs both inputs and outputs (symbolic tensors)")
            ins, self.input_keys, several_inputs = structure.flatten(inputs, "inputs")
            outs, self.output_keys, several_outputs = structure.flatten(outputs, "outputs")
            self._set_graph(Graph(ins, outs), several_inputs, several_outputs)
        if kwargs:
            raise InvalidValueError(f"Model got unexpected arguments {sorted(kwargs)}")
        if not trainable:
            self.trainable = False

    def _set_graph(self, graph: Graph, several_inputs: bool, several_outputs: bool) -> None:
        self.graph = graph
        self.layers = list(graph.layers)
        self.several_inputs, self.several_outputs = several_inputs, several_outputs
        self.dtype = graph.inputs[0].dtype
        shapes = [t.sample_shape for t in graph.inputs]
        self.input_shape = shapes if several_inputs else shapes[0]
        if self._seeded:
            for layer in self._layers:
                layer.set_rng(self.rng)

    # ------------------------------------------------------------------ graph
    @property
    def layers(self) -> list[Layer]:
        """The model's layers; a graph model's start with an ``InputLayer`` per input (as Keras's functional
        models); a subclassed model's: its layer attributes, in assignment order."""
        if subclassed.runs_call(self):
            return [layer for _, layer in subclassed.sub_layers(self)]
        if self.functional and self.graph is not None:
            return [*map(InputLayer.of, self.graph.inputs), *self._layers]
        return self._layers

    @layers.setter
    def layers(self, value: list[Layer]) -> None:
        self._layers = value

    def children(self) -> Any:
        if subclassed.runs_call(self):
            yield from subclassed.children(self)
            return
        for i, layer in enumerate(self._layers):
            yield f"layers.{i}", layer

    @property
    def inputs(self) -> list[SymbolicTensor]:
        return self._graph().inputs

    @property
    def outputs(self) -> list[SymbolicTensor]:
        return self._graph().outputs

    @property
    def output(self) -> Any:
        """The model's own symbolic output (a list or dict for several), for models built from its layers."""
        return structure.packed(self._graph().outputs, self.output_keys, self.several_outputs)

    @property
    def input(self) -> Any:
        return structure.packed(self._graph().inputs, self.input_keys, self.several_inputs)

    @property
    def input_names(self) -> list[str]:
        if self.input_keys is not None:
            return list(self.input_keys)
        return [t.name or f"input_{i}" for i, t in enumerate(self._graph().inputs)]

    @property
    def output_names(self) -> list[str]:
        if self.output_keys is not None:
            return list(self.output_keys)
        if subclassed.runs_call(self):
            return [f"output_{i}" for i in range(len(self._graph().outputs))]
        return [t.node.layer.name if t.node is not None else (t.name or f"output_{i}")
                for i, t in enumerate(self._graph().outputs)]

    def _graph(self) -> Graph:
        if self.graph is None:
            raise NotBuiltError(f"{type(self).__name__} '{self.name}' has no graph yet: call it on data or build it "
                                f"(model.build(input_shape))")
        return self.graph

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``name`` or by position in ``layers``."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise InvalidValueError(f"no layer named '{name}' in model '{self.name}' "
                                f"(layers: {', '.join(layer.name for layer in self.layers)})")

    def build(self, input_shape: Any) -> Model:  # type: ignore[override]  # returns self, for chaining
        """Create every parameter for samples of shape ``input_shape`` (a graph model is built already)."""
        if self.graph is None and subclassed.runs_call(self):  # (a batch axis is gone: the rest is per sample)
            subclassed.build(self, input_shape if isinstance(input_shape, list) else SampleShape(input_shape))
        if self.graph is None:
            raise NotBuiltError(f"{type(self).__name__} cannot be built from a shape alone")
        return self

    def _build_call(self, shapes: Any) -> None:
        """Build a subclassed model for per-sample ``shapes`` (its own ``build`` first, with Keras's batch shape)."""
        batch = [(None, *s) for s in shapes] if isinstance(shapes, list) else (None, *shapes)
        self.build(batch)
        if self.graph is None:  # its own build did not call super().build
            subclassed.build(self, batch)

    def _built_for(self, x: Any) -> None:
        if self.graph is None and subclassed.runs_call(self):
            self._build_call(subclassed.shapes_of(x))

    @property
    def built(self) -> bool:
        return self.graph is not None

    # ------------------------------------------------------------------ the layer contract
    def input_list(self, x: Any) -> list[np.ndarray]:
        """``x`` as one array per model input (a list, a dict by input name, or one array)."""
        self._built_for(x)
        graph = self._graph()
        if isinstance(x, dict):
            names = self.input_names
            missing = [n for n in names if n not in x]
            if missing:
                raise InvalidValueError(f"model inputs {missing} are missing from the dict (it has {sorted(x)})")
            return [x[n] for n in names]
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        if len(xs) != len(graph.inputs):
            hint = ("; a list or tuple holds one array per input: for one input of nested lists pass np.asarray(x)"
                    if len(graph.inputs) == 1 else "")
            raise InvalidValueError(f"model '{self.name}' takes {len(graph.inputs)} input(s), got {len(xs)}{hint}")
        return xs

    def run(self, ctx: Call, xs: list[np.ndarray]) -> list[np.ndarray]:
        """Forward through the graph: one array per output, the call recorded in ``ctx``."""
        return self._graph().forward(ctx, xs, self.rewrites, self.call_masks(ctx))

    def run_backward(self, ctx: Call, grads: list[np.ndarray | None], from_logits: frozenset[int] = frozenset()
                     ) -> list[np.ndarray | None]:
        """Backward through the graph from one gradient per output (None where none reaches it)."""
        return self._graph().backward(ctx, grads, from_logits)

    def __call__(self, x: Any, training: bool | None = None) -> Any:
        """As ``Layer.__call__``; inputs may come as a dict by input name, outputs go as the model was built."""
        if isinstance(x, dict) and any(isinstance(t, SymbolicTensor) for t in x.values()):
            x = self.input_list(x) if self.several_inputs else self.input_list(x)[0]
        out = super().__call__(x, training)
        return self.packed_outputs(out) if isinstance(out, list) else out

    def forward(self, x: Any, training: bool = False) -> Any:
        out = super().forward(x, training)
        return self.packed_outputs(out) if isinstance(out, list) else out

    def packed_outputs(self, values: list[Any]) -> Any:
        """One value per output, in the model's form: a dict by output name, a list, or the one value."""
        return structure.packed(values, self.output_keys, self.several_outputs)

    def forward_call(self, ctx: Call, x: Any) -> Any:  # inside another graph: a list for several outputs
        outs = self.run(ctx, self.input_list(x))
        return outs if self.several_outputs else outs[0]

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        if isinstance(grad_out, dict):
            grad_out = [grad_out[name] for name in self.output_names]
        grads = list(grad_out) if self.several_outputs else [grad_out]
        dxs = self.run_backward(ctx, grads)
        return dxs if self.several_inputs else dxs[0]

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.graph is None and subclassed.runs_call(self):
            self._build_call(input_shape)
        shapes = [t.sample_shape for t in self._graph().outputs]
        return shapes if self.several_outputs else shapes[0]

    @property
    def keeps_call_state(self) -> bool:
        return False

    # ------------------------------------------------------------------ training API (nnscratch.training)
    def compile(self, *args: Any, loss: Any = UNSET, optimizer: Any = UNSET, metrics: Any = UNSET,
                loss_weights: Any = UNSET, **kwargs: Any) -> Model:
        """Choose the loss (one, or one per output: a list or a dict by output name; default ``"mse"``), the
        optimizer (default ``"adam"``) and the metrics; ``loss_weights`` weighs the outputs' losses in the
        total (Keras semantics). By position, the loss and the optimizer come in either order:
        ``compile("mse", "adam")`` or Keras's ``compile("adam", "mse")``, then the metrics (or Keras 3's
        ``loss_weights``: numbers) (``training/compile_args.py``)."""
        a = compile_arguments(args, loss=loss, optimizer=optimizer, metrics=metrics, loss_weights=loss_weights)
        self.trainer = trainer_mod.Trainer(self, a["loss"], a["optimizer"], a["metrics"], a["loss_weights"], **kwargs)
        return self

    @property
    def loss(self) -> Any:
        return self.trainer.loss if self.trainer is not None else None

    @loss.setter
    def loss(self, value: Any) -> None:
        if self.trainer is None:
            self.trainer = trainer_mod.Trainer(self, value, None, ())
        else:
            self.trainer.set_loss(value)

    @property
    def optimizer(self) -> Any:
        return self.trainer.optimizer if self.trainer is not None else None

    def _compiled(self) -> trainer_mod.Trainer:
        if self.trainer is None:
            raise NotBuiltError("call model.compile(loss=..., optimizer=...) first")
        return self.trainer

    def fit(self, x: Any, y: Any = None, epochs: int = 1, batch_size: int | None = 32, **kwargs: Any) -> History:
        """Train on arrays (``nnscratch.training.loop.fit`` has every argument: validation, callbacks,
        resume...) or on a ``PyDataset`` or generator of batches (``source_loop.fit_source``)."""
        check_data_arguments("fit", x, kwargs)
        if is_batch_source(x):
            return source_loop.fit_source(self, x, y, epochs=epochs, **kwargs)
        self._built_for(x)
        return loop.fit(self, x, y, epochs=epochs, batch_size=batch_size, **kwargs)

    def evaluate(self, x: Any, y: Any = None, batch_size: int | None = None, verbose: Any = 0,
                 return_dict: bool = False, **kwargs: Any) -> Any:
        """The loss and metrics averaged over all samples (or ``steps`` batches of a ``PyDataset`` or a
        generator), in inference mode, as Keras returns them: the loss alone (a float) when there are no
        metrics, else a list ``[loss, metric, ...]``; with ``return_dict=True`` a dict ``{"loss": ..., metric:
        ...}``. ``verbose`` 1 or 2 prints one line."""
        check_data_arguments("evaluate", x, kwargs)
        if is_batch_source(x):
            results = source_loop.evaluate_source(self, x, **kwargs)
        else:
            self._built_for(x)
            results = loop.evaluate(self, x, y, batch_size=batch_size, **kwargs)
        if verbose and verbose != "auto":
            print(" - ".join(f"{k}: {v:.4f}" for k, v in results.items()))
        if return_dict:
            return results
        values = list(results.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = 0, callbacks: Any = (),
                **kwargs: Any) -> Any:
        """Model outputs for ``x`` ``(samples, ...)`` (or the batches of a ``PyDataset`` or a generator, of which
        ``steps``), computed in batches in inference mode."""
        check_data_arguments("predict", x, kwargs)
        if is_batch_source(x):
            return source_loop.predict_source(self, x, callbacks=callbacks, **kwargs)
        if kwargs:
            raise TypeError(f"predict got unexpected arguments {sorted(kwargs)}")
        self._built_for(x)
        return loop.predict(self, x, batch_size=batch_size, callbacks=callbacks)

    def train_step(self, x: Any, y: Any) -> dict[str, float]:
        """One optimizer step on a batch (override it for a custom training loop); returns the logs.

        ``fit`` passes ``x`` and ``y`` as lists (one array per input and output), already checked."""
        return self._compiled().train_step(*_lists(x, y))

    def test_step(self, x: Any, y: Any) -> dict[str, float]:
        """Loss and metrics of a batch in inference mode; no weight changes."""
        return self._compiled().test_step(*_lists(x, y))

    def train_on_batch(self, x: Any, y: Any) -> dict[str, float]:
        """``train_step`` on one batch of arrays (checked first); returns the batch's logs."""
        return loop.train_on_batch(self, x, y)

    def test_on_batch(self, x: Any, y: Any) -> dict[str, float]:
        return loop.test_on_batch(self, x, y)

    def predict_on_batch(self, x: Any) -> Any:
        return loop.predict(self, x, batch_size=None)

    def compute_gradients(self, x: Any, y: Any) -> tuple[float, dict[str, np.ndarray]]:
        """``(loss, {weight name: gradient})`` of one batch, in training mode; no weight changes."""
        return loop.compute_gradients(self, x, y)

    # ------------------------------------------------------------------ files and display
    def save(self, path: str | os.PathLike) -> Path:
        """Write architecture (JSON) and weights to one ``.npz`` file, atomically; returns the path."""
        from ..io.model_file import save_model

        return save_model(self, path)

    def export(self, path: str | os.PathLike, format: str = "onnx") -> Path:
        """Write the model for other runtimes (``"onnx"``: ``nnscratch.interop.onnx_export``); returns the path."""
        from ..interop.onnx_export import export_model

        return export_model(self, path, format)

    def save_weights(self, path: str | os.PathLike) -> Path:
        """Keras's ``save_weights``: a model file (architecture and weights) that ``load_weights`` reads."""
        return self.save(path)

    def load_weights(self, path: str | os.PathLike) -> None:
        """Load weights saved by ``save`` into this (same-architecture) model."""
        from ..io.model_file import read_model_file, weights_of

        config, arrays = read_model_file(path)
        self.build(architecture.input_shape_of(config["input_shape"]))
        self.load_state_dict(weights_of(arrays))

    def summary(self, line_length: int | None = None, positions: Any = None, print_fn: Any = print) -> str:
        """A table of layers (name and type), output shapes and parameter counts; printed and returned.
        ``line_length`` (default 90) and ``positions`` (where the columns end) as in Keras."""
        text = summary_text(self, 90 if line_length is None else positive_int(line_length, "line_length"), positions)
        if print_fn is not None:
            print_fn(text)
        return text

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON (Keras's ``to_json``; ``keras.models.model_from_json`` rebuilds it)."""
        return architecture.to_json(self, **kwargs)

    @property
    def metrics_names(self) -> list[str]:
        """The keys of the logs of the last training or evaluation (``loss`` first); empty before either."""
        return list(self.trainer.results()) if self.trainer is not None else []

    def get_config(self) -> dict[str, Any]:
        if subclassed.runs_call(self):
            return {}  # a subclass with constructor arguments returns them from its own get_config, as in Keras
        from .functional_config import graph_config

        return graph_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Model:
        from .functional_config import graph_from_config

        return graph_from_config(cls, config)


def _lists(x: Any, y: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return (x if isinstance(x, list) else [x]), (y if isinstance(y, list) else [y])

