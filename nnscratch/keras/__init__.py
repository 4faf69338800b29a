"""Keras 3's public names for nnscratch's own objects: ``from nnscratch import keras``.

    from nnscratch import keras
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])

Everything here is nnscratch's single implementation arranged under Keras's names (``keras.layers.Dense``
is ``nnscratch.Dense``); ``keras.ops`` is ``nnscratch.ops``. A Keras name nnscratch cannot run raises an
``NNScratchError`` saying why and what to do instead. ``docs/keras.md`` lists every name and difference.
"""

from __future__ import annotations

import sys

from .. import ops
from ..core.layer import Layer
from ..core.tensor import Input, SymbolicTensor
from ..models.loading import load_model
from ..models.model import Model
from ..models.sequential import Sequential
from . import (
    activations,
    backend,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    random,
    regularizers,
    utils,
)
from ._names import KerasNameError, module_getattr

sys.modules[__name__ + ".ops"] = ops  # ``import nnscratch.keras.ops`` is nnscratch.ops itself

KerasTensor = SymbolicTensor

__all__ = [
    "Input", "KerasNameError", "KerasTensor", "Layer", "Model", "Sequential", "activations", "backend", "callbacks",
    "datasets", "initializers", "layers", "load_model", "losses", "metrics", "models", "ops", "optimizers",
    "random", "regularizers", "utils",
]

_PRECISION = "nnscratch computes in float32 (or float64: Sequential(..., dtype='float64')), never in mixed precision"
__getattr__ = module_getattr("keras", globals(), {
    "mixed_precision": _PRECISION,
    "distribution": "nnscratch runs on the CPU of one machine (it splits a batch across threads by itself)",
    "preprocessing": ("Keras's preprocessing utilities build tf.data pipelines; preprocess NumPy arrays "
                      "yourself (keras.utils.pad_sequences pads token lists)"),
    "applications": "no pretrained models are bundled; build the model from keras.layers",
    "config": "nnscratch has no global configuration: float32 and channels-last throughout",
    "export": "nnscratch models are saved with model.save and read with keras.models.load_model",
    "saving": "use model.save(path) and keras.models.load_model(path, custom_objects=...)",
    "quantizers": _PRECISION, "dtype_policies": _PRECISION, "tree": "not provided",
    "visualization": "nnscratch draws no plots", "wrappers": "use nnscratch.sklearn for scikit-learn estimators",
    "constraints": "weight constraints are not supported", "Function": "not provided",
    "Variable": "weights are nnscratch.Parameter objects (layer.weights)", "StatelessScope": "not provided",
    "device": "nnscratch runs on the CPU only; there is no device to choose",
})
