"""The JSON form of a graph model: its inputs, its layers and the nodes that connect them.

    {"name": ..., "input_layers": [{"name", "shape", "dtype"}], "layers": [layer configs],
     "nodes": [[layer index, [tensor refs], several inputs(, training)]], "output_layers": [tensor refs],
     "several_inputs": bool, "several_outputs": bool(, "input_keys": [names], "output_keys": [names])}

A tensor ref is ``["input", i]`` or ``[node index, output index]``; a node called with ``training=True/False``
has it as a fourth entry. Rebuilding replays the nodes in
order, so layers are built (and shared) exactly as they were; the weights are then loaded by name.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import ModelFileError
from ..core.registry import from_config, to_config
from ..core.tensor import Input, SymbolicTensor


def graph_config(model: Any) -> dict[str, Any]:
    graph = model._graph()
    index = {id(layer): i for i, layer in enumerate(graph.layers)}
    refs: dict[int, list[Any]] = {id(t): ["input", i] for i, t in enumerate(graph.inputs)}
    nodes = []
    for k, node in enumerate(graph.nodes):
        entry = [index[id(node.layer)], [refs[id(t)] for t in node.inputs], node.several_inputs]
        nodes.append(entry if node.training is None else [*entry, node.training])
        for j, t in enumerate(node.outputs):
            refs[id(t)] = [k, j]
    return {
        "name": model.name,
        "input_layers": [{"name": t.name, "shape": list(t.sample_shape), "dtype": t.dtype.name} for t in graph.inputs],
        "layers": [to_config(layer) for layer in graph.layers],
        "nodes": nodes,
        "output_layers": [refs[id(t)] for t in graph.outputs],
        "several_inputs": model.several_inputs,
        "several_outputs": model.several_outputs,
        **({} if model.input_keys is None else {"input_keys": list(model.input_keys)}),
        **({} if model.output_keys is None else {"output_keys": list(model.output_keys)}),
    }


def graph_from_config(cls: type, config: dict[str, Any]) -> Any:
    """Rebuild (and build) a graph model from ``graph_config`` output; any inconsistency is a ModelFileError."""
    try:
        inputs = [Input(shape=tuple(spec["shape"]), dtype=spec.get("dtype", "float32"), name=spec.get("name"))
                  for spec in config["input_layers"]]
        layers = [from_config(spec) for spec in config["layers"]]
        outs: list[list[SymbolicTensor]] = []

        def tensor(ref: Any) -> SymbolicTensor:
            if ref[0] == "input":
                return inputs[ref[1]]
            if not isinstance(ref[0], int) or not 0 <= ref[0] < len(outs):
                raise ModelFileError(f"node reference {ref!r} points to a node not defined before it")
            return outs[ref[0]][ref[1]]

        for layer_index, refs, several, *pinned in config["nodes"]:
            args = [tensor(r) for r in refs]
            training = pinned[0] if pinned and isinstance(pinned[0], bool) else None
            result = layers[layer_index](args if several else args[0], training=training)
            outs.append(list(result.values()) if isinstance(result, dict) else
                        result if isinstance(result, list) else [result])
        outputs = [tensor(r) for r in config["output_layers"]]
    except ModelFileError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ModelFileError(f"invalid {cls.__name__} (graph model) record: {type(exc).__name__}: {exc}") from None
    return cls(inputs=_form(inputs, config.get("input_keys"), config.get("several_inputs")), name=config.get("name"),
               outputs=_form(outputs, config.get("output_keys"), config.get("several_outputs")))


def _form(tensors: list[SymbolicTensor], keys: Any, several: Any) -> Any:
    """The ``inputs``/``outputs`` argument of the recorded model: a dict by ``keys``, a list, or one tensor."""
    if keys is not None:
        if not isinstance(keys, list) or len(keys) != len(tensors):
            raise ModelFileError(f"the record names {keys!r:.100} do not match its {len(tensors)} tensors")
        return dict(zip(keys, tensors))
    return tensors if several else tensors[0]
