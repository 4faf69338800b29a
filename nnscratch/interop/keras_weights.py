"""Weights from Keras: ``load_keras_weights(model, "w.weights.h5")`` into the same architecture.

Two HDF5 layouts are read (with h5py; nothing is unpickled):

- Keras 3 (``model.save_weights("w.weights.h5")``): ``layers/<name>/vars/0``, ``1``, ... where ``<name>`` is
  the snake-case class name with a counter per class in the model's layer order (``dense``, ``dense_1``,
  ``conv2d``, ``batch_normalization``), a nested model under ``layers/sequential/layers/...`` or
  ``layers/functional/...``; the variables in the layer's order.
- Keras 2 (``model.save("m.h5")`` under ``model_weights/``, or ``model.save_weights("w.h5")`` at the root):
  the ``layer_names`` attribute lists the layers in order, each group's ``weight_names`` attribute its
  weights (``dense/kernel:0``), stored at ``<layer>/<weight name>``; weights are matched by the layer and
  variable names they carry (a nested model lists its sub-layers' weights).

Layers with weights are matched in order: ``Dense`` (kernel ``(in, out)`` and bias: nnscratch's layout),
``Conv2D`` (kernel ``(KH, KW, C, OC)``: the same), ``BatchNorm`` (gamma, beta, moving mean, moving
variance; mind that Keras's default epsilon is 1e-3, nnscratch's 1e-5: build the layer with the
Keras model's). Every shape and dtype is checked before any data are read, and nothing changes unless
all the weights fit.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..core.errors import ModelFileError, NotBuiltError
from ..core.graph import Graph
from ..layers.batchnorm import BatchNorm
from ..layers.conv import Conv2D
from ..layers.dense import Dense

# nnscratch class -> (Keras class name in snake case, [(Keras variable, our attribute)] in Keras's order)
KERAS_LAYERS: dict[type, tuple[str, list[tuple[str, str]]]] = {
    Dense: ("dense", [("kernel", "weight"), ("bias", "bias")]),
    Conv2D: ("conv2d", [("kernel", "weight"), ("bias", "bias")]),
    BatchNorm: ("batch_normalization", [("gamma", "gamma"), ("beta", "beta"), ("moving_mean", "running_mean"),
                                        ("moving_variance", "running_var")]),
}
KERAS_MODELS = {"Sequential": "sequential"}  # any other graph model is Keras's "functional"


def load_keras_weights(model: Any, path: str | os.PathLike) -> None:
    """Copy the weights of the Keras HDF5 file ``path`` into ``model`` (built, same architecture)."""
    import h5py

    if not isinstance(getattr(model, "graph", None), Graph):
        raise NotBuiltError(f"{type(model).__name__} has no graph yet: build it before loading Keras weights")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ModelFileError(f"'{path}' cannot be read as an HDF5 file (a Keras weights file): {exc}") from None
    with f:
        if isinstance(f.get("layers"), h5py.Group):
            pairs = _keras3_pairs(h5py, f["layers"], model, "layers")
        else:
            root = f["model_weights"] if isinstance(f.get("model_weights"), h5py.Group) else f
            if "layer_names" not in root.attrs:
                raise ModelFileError(f"'{path}' is an HDF5 file but not a Keras weights file: it has neither a "
                                     f"'layers' group (Keras 3) nor a 'layer_names' attribute (Keras 2)")
            pairs = _keras2_pairs(h5py, root, model)
        values = [(p, _read(h5py, ds, p, where)) for p, ds, where in pairs]
    for p, value in values:
        p.data[...] = value


def _weighted_layers(model: Any) -> list[Any]:
    """The layers with weights, in the model's order, nested models expanded."""
    out = []
    for layer in model.layers:
        if isinstance(getattr(layer, "graph", None), Graph):
            out.extend(_weighted_layers(layer))
        elif any(True for _ in layer.named_parameters(include_frozen=True)):
            out.append(layer)
    return out


def _variables(layer: Any) -> list[tuple[str, Any]]:
    """``[(Keras variable name, Parameter)]`` of ``layer`` in Keras's order (an unused bias left out)."""
    spec = KERAS_LAYERS.get(type(layer))
    if spec is None:
        raise ModelFileError(f"layer '{layer.name}' ({type(layer).__name__}) has weights that no Keras layer maps to; "
                             f"loadable: {', '.join(sorted(c.__name__ for c in KERAS_LAYERS))}")
    return [(var, getattr(layer, attr)) for var, attr in spec[1] if getattr(layer, attr) is not None]


def _keras3_pairs(h5py: Any, layers: Any, model: Any, where: str) -> list[tuple[Any, Any, str]]:
    """``(parameter, dataset, path)`` for every weight, from Keras 3's ``layers/<class>_<k>/vars/<i>``."""
    pairs: list[tuple[Any, Any, str]] = []
    counts: dict[str, int] = {}
    for layer in model.layers:
        nested = isinstance(getattr(layer, "graph", None), Graph)
        if nested:
            base = KERAS_MODELS.get(type(layer).__name__, "functional")
        elif any(True for _ in layer.named_parameters(include_frozen=True)):
            _variables(layer)  # refuses a layer whose weights no Keras layer holds
            base = KERAS_LAYERS[type(layer)][0]
        else:
            continue
        k = counts.get(base, 0)
        counts[base] = k + 1
        name = base if k == 0 else f"{base}_{k}"
        group = layers.get(name)
        if not isinstance(group, h5py.Group):
            raise ModelFileError(f"the Keras file has no '{where}/{name}' for layer '{layer.name}' "
                                 f"({type(layer).__name__}); it has: {', '.join(sorted(layers))}")
        if nested:
            if not isinstance(group.get("layers"), h5py.Group):
                raise ModelFileError(f"the Keras file's '{where}/{name}' is not a model (no 'layers' group) for "
                                     f"nested model '{layer.name}'")
            pairs += _keras3_pairs(h5py, group["layers"], layer, f"{where}/{name}/layers")
            continue
        found = group.get("vars")
        stored = sorted(found, key=lambda s: int(s) if s.isdigit() else -1) if isinstance(found, h5py.Group) else []
        variables = _variables(layer)
        if len(stored) != len(variables) or any(not s.isdigit() for s in stored):
            raise ModelFileError(f"the Keras file's '{where}/{name}/vars' holds {len(stored)} arrays "
                                 f"({', '.join(stored) or 'none'}); layer '{layer.name}' ({type(layer).__name__}) "
                                 f"needs {len(variables)}: {', '.join(v for v, _ in variables)}")
        pairs += [(p, found[s], f"{where}/{name}/vars/{s} ({var})") for s, (var, p) in zip(stored, variables)]
    return pairs


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _keras2_pairs(h5py: Any, root: Any, model: Any) -> list[tuple[Any, Any, str]]:
    """``(parameter, dataset, path)`` for every weight, from Keras 2's ``layer_names``/``weight_names``."""
    groups: dict[str, dict[str, tuple[Any, str]]] = {}  # Keras layer -> {variable: (dataset, path)}, in order
    for layer_name in map(_text, root.attrs["layer_names"]):
        group = root.get(layer_name)
        if not isinstance(group, h5py.Group):
            raise ModelFileError(f"the Keras file lists layer '{layer_name}' but has no group for it")
        for weight_name in map(_text, group.attrs.get("weight_names", [])):
            parts = weight_name.split("/")
            owner = parts[-2] if len(parts) > 1 else layer_name
            variable = parts[-1].split(":")[0]
            if weight_name not in group:
                raise ModelFileError(f"the Keras file lists weight '{weight_name}' of layer '{layer_name}' but does "
                                     f"not hold it")
            groups.setdefault(owner, {})[variable] = (group[weight_name], f"{layer_name}/{weight_name}")
    ours = _weighted_layers(model)
    if len(groups) != len(ours):
        raise ModelFileError(f"the Keras file has weights for {len(groups)} layers ({', '.join(groups)}), the model "
                             f"has {len(ours)} layers with weights ({', '.join(layer.name for layer in ours)})")
    pairs = []
    for (owner, stored), layer in zip(groups.items(), ours):
        variables = _variables(layer)
        if set(stored) != {var for var, _ in variables}:
            raise ModelFileError(f"Keras layer '{owner}' holds {', '.join(stored)}; layer '{layer.name}' "
                                 f"({type(layer).__name__}) needs {', '.join(v for v, _ in variables)}")
        pairs += [(p, stored[var][0], stored[var][1]) for var, p in variables]
    return pairs


def _read(h5py: Any, ds: Any, p: Any, where: str) -> np.ndarray:
    """The dataset's values, once its kind, dtype and shape are known to fit the parameter ``p``."""
    if not isinstance(ds, h5py.Dataset):
        raise ModelFileError(f"the Keras file's '{where}' is not an array")
    if ds.dtype.kind != "f":
        raise ModelFileError(f"the Keras file's '{where}' holds {ds.dtype} values; expected floating-point numbers")
    if ds.shape != p.shape:
        raise ModelFileError(f"the Keras file's '{where}' has shape {ds.shape}, the model expects {p.shape}")
    if ds.external or ds.is_virtual:
        raise ModelFileError(f"the Keras file's '{where}' keeps its data in other files; it is not read")
    return np.asarray(ds[()], dtype=p.data.dtype)
