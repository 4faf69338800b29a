"""``cls.from_config(layer.get_config())`` rebuilds every registered layer and model (Keras's round trip)."""

import numpy as np
import pytest

import nnscratch as nn
import nnscratch.layers  # noqa: F401  (loads, and so registers, every layer class)
import nnscratch.models  # noqa: F401
from nnscratch.core.layer import Layer

ARGUMENTS = {  # the required constructor arguments of each registered class; the rest construct with none
    "Conv1D": {"filters": 2, "kernel_size": 3}, "Conv2D": {"filters": 2, "kernel_size": 3},
    "Conv3D": {"filters": 2, "kernel_size": 3}, "ConvLSTM2D": {"filters": 2, "kernel_size": 3},
    "Conv2DTranspose": {"filters": 2, "kernel_size": 3}, "Cropping2D": {"cropping": 1}, "Dense": {"units": 3},
    "Dropout": {"rate": 0.25}, "Embedding": {"input_dim": 5, "output_dim": 2}, "RandomShift": {"max_shift": 2},
    "Reshape": {"target_shape": (2, 2)}, "ZeroPadding2D": {"padding": 1}, "Rescaling": {"scale": 0.5},
    "RandomRotation": {"factor": 0.1}, "RandomZoom": {"height_factor": (0.1, 0.2)},
    "RandomTranslation": {"height_factor": 0.1, "width_factor": 0.2}, "RandomContrast": {"factor": 0.2},
    "RandomBrightness": {"factor": 0.2}, "Resizing": {"height": 4, "width": 3},
    "DepthwiseConv2D": {"kernel_size": 3}, "SeparableConv2D": {"filters": 2, "kernel_size": 3},
    "DepthwiseConv1D": {"kernel_size": 3}, "SeparableConv1D": {"filters": 2, "kernel_size": 3},
    "Conv1DTranspose": {"filters": 2, "kernel_size": 3},
    "GaussianNoise": {"stddev": 0.1}, "Permute": {"dims": (2, 1)}, "RepeatVector": {"n": 2},
    "SimpleRNN": {"units": 3}, "LSTM": {"units": 3, "return_sequences": True}, "GRU": {"units": 3, "dropout": 0.1},
    "Bidirectional": {"layer": nn.LSTM(2), "merge_mode": "sum"}, "MultiHeadAttention": {"num_heads": 2, "key_dim": 3},
    "TimeDistributed": {"layer": nn.Conv2D(2, 3)}, "GroupNormalization": {"groups": 2},
    "AlphaDropout": {"rate": 0.2}, "GaussianDropout": {"rate": 0.2}, "Dot": {"axes": 1}, "Masking": {"mask_value": -1.0},
    "InputLayer": {"shape": (3,)},
    "RNN": {"cell": nn.LSTMCell(2), "return_sequences": True}, "SimpleRNNCell": {"units": 4}, "LSTMCell": {"units": 4},
    "GRUCell": {"units": 4, "reset_after": False}, "StackedRNNCells": {"cells": [nn.GRUCell(2), nn.SimpleRNNCell(3)]},
    "CenterCrop": {"height": 2, "width": 2}, "RandomCrop": {"height": 2, "width": 2},
    "CategoryEncoding": {"num_tokens": 3}, "Discretization": {"bin_boundaries": [0.0, 1.0]},
    "Operation": {"op": "getitem", "args": [{"__tensor__": 0}, {"__tuple__": [{"__slice__": [None, None, None]},
                                                                              {"__ellipsis__": True}, 0]}]},
}
CONTAINERS = {"Model", "Sequential", "Ensemble"}


BUILT_IN = sorted(name for name, cls in Layer.registry.items()  # (tests and the benchmarks define layers of their own)
                  if cls.__module__.startswith(("nnscratch.layers.", "nnscratch.models.", "nnscratch.autodiff."))
                  and name not in CONTAINERS)


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_layer_rebuilds_from_its_config(name):
    cls = Layer.registry[name]
    layer = cls(**ARGUMENTS.get(name, {}))
    copy = cls.from_config(layer.get_config())
    assert type(copy) is cls and copy is not layer and copy.get_config() == layer.get_config()


def members():
    return [nn.Sequential([nn.Input((3,)), nn.Dense(2, activation="relu"), nn.Dense(1)]) for _ in range(2)]


@pytest.mark.parametrize("make", [
    lambda: members()[0],
    lambda: nn.Model(*(lambda x: (x, nn.Dense(1)(nn.Dense(2)(x))))(nn.Input((3,)))),
    lambda: nn.Ensemble(members()),
], ids=["Sequential", "Model", "Ensemble"])
def test_models_rebuild_from_their_config_with_the_same_architecture(make):
    model = make()
    copy = type(model).from_config(model.get_config())
    assert type(copy) is type(model) and copy.get_config() == model.get_config()
    if not copy.built:  # a Sequential's config holds its layers, not its input shape (saved files keep that)
        copy.build(model.input_shape)
    x = np.ones((2, 3), np.float32)
    copy.set_weights(model.get_weights())
    np.testing.assert_array_equal(copy.predict(x), model.predict(x))
