"""nnscratch: a NumPy-vectorized deep-learning mini-framework.

    import nnscratch as nn
    model = nn.Sequential([nn.Dense(64, activation="relu"), nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer=nn.Adam(lr=1e-3), metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, validation_split=0.2)

``import nnscratch`` loads NumPy, the core and the autodiff engine; the layers, models, training, ``ops`` and
the model-file code load on first use of one of their names (PEP 562 ``__getattr__``), so a script pays only
for what it uses. Every name in ``__all__`` is importable as before (``nn.X``, ``from nnscratch import X``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import autodiff  # installs Layer.call_engine (layers written with call()) and the Tensor operators
from .core.errors import (
    DatasetError,
    DTypeError,
    ImageError,
    InvalidTypeError,
    InvalidValueError,
    ModelFileError,
    NNScratchError,
    NotBuiltError,
    ShapeError,
    TrainingDivergedError,
)
from .core.lazy import lazy_names

if TYPE_CHECKING:  # the names below load lazily (``__getattr__``); these imports are for type checkers only
    from . import ops
    from .core import initializers
    from .core.call import Call
    from .core.layer import Layer, Module
    from .core.parameter import Parameter
    from .core.random import set_random_seed
    from .core.registry import register_layer
    from .core.rewrites import register_fusion, register_loss_fusion
    from .core.tensor import Input, SymbolicTensor
    from .layers import (
        ELU,
        GELU,
        GRU,
        LSTM,
        RNN,
        Activation,
        ActivityRegularization,
        Add,
        AdditiveAttention,
        AlphaDropout,
        Attention,
        Average,
        AveragePooling1D,
        AveragePooling3D,
        AvgPool1D,
        AvgPool2D,
        AvgPool3D,
        BatchNorm,
        Bidirectional,
        CategoryEncoding,
        CenterCrop,
        Concatenate,
        Conv1D,
        Conv1DTranspose,
        Conv2D,
        Conv2DTranspose,
        Conv3D,
        ConvLSTM2D,
        Cropping1D,
        Cropping2D,
        Cropping3D,
        Dense,
        DepthwiseConv1D,
        DepthwiseConv2D,
        Discretization,
        Dot,
        Dropout,
        Embedding,
        Flatten,
        GaussianDropout,
        GaussianNoise,
        GlobalAveragePooling1D,
        GlobalAveragePooling3D,
        GlobalAvgPool1D,
        GlobalAvgPool2D,
        GlobalAvgPool3D,
        GlobalMaxPool1D,
        GlobalMaxPool2D,
        GlobalMaxPool3D,
        GlobalMaxPooling1D,
        GlobalMaxPooling2D,
        GlobalMaxPooling3D,
        GroupNormalization,
        GRUCell,
        Identity,
        Lambda,
        LayerNormalization,
        LeakyReLU,
        LSTMCell,
        Masking,
        Maximum,
        MaxPool1D,
        MaxPool2D,
        MaxPool3D,
        MaxPooling1D,
        MaxPooling3D,
        Minimum,
        MultiHeadAttention,
        Multiply,
        Normalization,
        Permute,
        PReLU,
        RandomBrightness,
        RandomContrast,
        RandomCrop,
        RandomFlip,
        RandomRotation,
        RandomShift,
        RandomTranslation,
        RandomZoom,
        ReLU,
        RepeatVector,
        Rescaling,
        Reshape,
        Resizing,
        SeparableConv1D,
        SeparableConv2D,
        Sigmoid,
        SimpleRNN,
        SimpleRNNCell,
        Softmax,
        SpatialDropout1D,
        SpatialDropout2D,
        StackedRNNCells,
        Subtract,
        Tanh,
        TimeDistributed,
        UnitNormalization,
        UpSampling1D,
        UpSampling2D,
        UpSampling3D,
        ZeroPadding1D,
        ZeroPadding2D,
        ZeroPadding3D,
    )
    from .models.ensemble import Ensemble
    from .models.input_layer import InputLayer
    from .models.loading import load_model
    from .models.loading import load_model as load
    from .models.model import Model
    from .models.sequential import Sequential
    from .training import callbacks, checkpoint, losses, metrics, optimizers, parallel, schedules
    from .training.adaptive_optimizers import Adagrad, Adamax, Nadam
    from .training.batch_source import PyDataset
    from .training.callbacks import Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint
    from .training.checkpoint import Checkpoint
    from .training.history import History
    from .training.losses import (
        BinaryCrossEntropy,
        CategoricalCrossEntropy,
        Loss,
        MeanAbsoluteError,
        MeanSquaredError,
    )
    from .training.optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
    from .training.parallel import get_num_threads, set_num_threads
    from .training.progress import ProgressBar
    from .training.trainer import Trainer

__version__ = "2.0.0.dev0"

# name -> (module relative to this package, attribute in it; "" for the module itself)
_LAZY: dict[str, tuple[str, str]] = {
    **{name: (f".{name}", "") for name in ("ops", "core", "io", "layers", "models", "training")},
    "initializers": (".core.initializers", ""),
    "Call": (".core.call", "Call"),
    "Layer": (".core.layer", "Layer"),
    "Module": (".core.layer", "Module"),
    "Parameter": (".core.parameter", "Parameter"),
    "set_random_seed": (".core.random", "set_random_seed"),
    "register_layer": (".core.registry", "register_layer"),
    "register_fusion": (".core.rewrites", "register_fusion"),
    "register_loss_fusion": (".core.rewrites", "register_loss_fusion"),
    "Input": (".core.tensor", "Input"),
    "SymbolicTensor": (".core.tensor", "SymbolicTensor"),
    **{name: (".layers", name) for name in (
        "ELU", "GELU", "Activation", "Add", "Average", "AveragePooling1D", "AvgPool1D", "AvgPool2D", "BatchNorm",
        "Concatenate", "Conv1D", "Conv2D", "Conv2DTranspose", "Cropping2D", "Dense", "DepthwiseConv2D", "Dropout",
        "Embedding", "SeparableConv2D", "GaussianNoise", "Permute", "PReLU", "RepeatVector", "SpatialDropout1D",
        "SpatialDropout2D", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "MultiHeadAttention",
        "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
        "Attention", "AdditiveAttention", "ActivityRegularization", "AlphaDropout", "Dot", "GaussianDropout",
        "UnitNormalization", "Masking", "DepthwiseConv1D", "SeparableConv1D", "Conv1DTranspose",
        "TimeDistributed", "GroupNormalization", "Flatten", "GlobalAveragePooling1D", "GlobalAvgPool1D",
        "GlobalAvgPool2D", "GlobalMaxPool1D",
        "GlobalMaxPool2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Identity", "Lambda", "LayerNormalization",
        "LeakyReLU", "Maximum", "MaxPool1D", "MaxPool2D", "MaxPooling1D", "Minimum", "Multiply", "Normalization",
        "RandomBrightness", "RandomContrast", "RandomFlip", "RandomRotation", "RandomShift", "RandomTranslation",
        "RandomZoom", "ReLU", "Rescaling", "Resizing", "Reshape", "Sigmoid", "Softmax", "Subtract", "Tanh",
        "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "CategoryEncoding",
        "CenterCrop", "Discretization", "RandomCrop", "Conv3D", "ConvLSTM2D", "MaxPool3D", "MaxPooling3D", "AvgPool3D",
        "AveragePooling3D", "GlobalMaxPool3D", "GlobalMaxPooling3D", "GlobalAvgPool3D", "GlobalAveragePooling3D",
        "UpSampling3D", "ZeroPadding3D", "Cropping3D")},
    "Ensemble": (".models.ensemble", "Ensemble"),
    "load_model": (".models.loading", "load_model"),
    "load": (".models.loading", "load_model"),
    "Model": (".models.model", "Model"),
    "Sequential": (".models.sequential", "Sequential"),
    "InputLayer": (".models.input_layer", "InputLayer"),
    **{name: (f".training.{name}", "") for name in (
        "callbacks", "checkpoint", "losses", "metrics", "optimizers", "parallel", "schedules")},
    **{name: (".training.callbacks", name) for name in (
        "Callback", "EarlyStopping", "LearningRateScheduler", "ModelCheckpoint")},
    "Checkpoint": (".training.checkpoint", "Checkpoint"),
    "History": (".training.history", "History"),
    "PyDataset": (".training.batch_source", "PyDataset"),
    **{name: (".training.losses", name) for name in (
        "BinaryCrossEntropy", "CategoricalCrossEntropy", "Loss", "MeanAbsoluteError", "MeanSquaredError")},
    **{name: (".training.optimizers", name) for name in ("SGD", "Adam", "AdamW", "Optimizer", "RMSprop")},
    **{name: (".training.adaptive_optimizers", name) for name in ("Adagrad", "Adamax", "Nadam")},
    "get_num_threads": (".training.parallel", "get_num_threads"),
    "set_num_threads": (".training.parallel", "set_num_threads"),
    "ProgressBar": (".training.progress", "ProgressBar"),
    "Trainer": (".training.trainer", "Trainer"),
}


_getattr, __dir__ = lazy_names(__name__, globals(), _LAZY)
if not TYPE_CHECKING:  # type checkers see the imports above instead, so a misspelt name stays an error there
    __getattr__ = _getattr


__all__ = [
    "Activation", "Adam", "AdamW", "Add", "Average", "AvgPool2D", "BatchNorm", "BinaryCrossEntropy", "Call",
    "Callback", "CategoricalCrossEntropy", "Checkpoint", "Concatenate", "Conv2D", "DTypeError", "DatasetError",
    "Dense", "Dropout", "ELU", "EarlyStopping", "Ensemble", "Flatten", "GELU", "GlobalAvgPool2D", "History",
    "Identity", "ImageError", "Input", "InputLayer", "Lambda", "InvalidTypeError", "InvalidValueError", "Layer",
    "LeakyReLU",
    "LearningRateScheduler", "Loss", "MaxPool2D", "Maximum", "MeanAbsoluteError", "MeanSquaredError", "Minimum",
    "Model", "ModelCheckpoint", "ModelFileError", "Module", "Multiply", "NNScratchError", "Normalization",
    "NotBuiltError", "Optimizer", "Parameter", "ProgressBar", "PyDataset", "RMSprop", "RandomFlip", "RandomShift",
    "ReLU", "Reshape", "SGD", "Sequential", "ShapeError", "Sigmoid", "Softmax", "Subtract", "SymbolicTensor", "Tanh",
    "Trainer", "TrainingDivergedError", "get_num_threads", "load", "load_model", "register_fusion", "register_layer",
    "register_loss_fusion", "set_num_threads", "set_random_seed", "autodiff", "callbacks", "checkpoint",
    "initializers", "losses", "metrics", "ops", "optimizers", "parallel", "schedules",
    "AveragePooling1D", "AvgPool1D", "Conv1D", "Conv2DTranspose", "Cropping2D", "Embedding", "GlobalAveragePooling1D",
    "GlobalAvgPool1D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "LayerNormalization", "MaxPool1D", "MaxPooling1D", "UpSampling2D", "ZeroPadding2D", "Rescaling",
    "Cropping1D", "UpSampling1D", "ZeroPadding1D",
    "RandomBrightness", "RandomContrast", "RandomRotation", "RandomTranslation", "RandomZoom", "Resizing",
    "DepthwiseConv2D", "SeparableConv2D", "Adagrad", "Adamax", "Nadam", "GaussianNoise", "Permute", "PReLU",
    "RepeatVector", "SpatialDropout1D", "SpatialDropout2D", "SimpleRNN", "LSTM", "GRU", "Bidirectional",
    "MultiHeadAttention", "TimeDistributed", "GroupNormalization", "Attention", "AdditiveAttention",
    "ActivityRegularization", "AlphaDropout", "Dot", "GaussianDropout", "UnitNormalization", "Masking",
    "DepthwiseConv1D", "SeparableConv1D", "Conv1DTranspose",
    "CategoryEncoding", "CenterCrop", "Discretization", "RandomCrop",
    "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
    "Conv3D", "ConvLSTM2D", "MaxPool3D", "MaxPooling3D", "AvgPool3D", "AveragePooling3D", "GlobalMaxPool3D",
    "GlobalMaxPooling3D", "GlobalAvgPool3D", "GlobalAveragePooling3D", "UpSampling3D", "ZeroPadding3D", "Cropping3D",
]
