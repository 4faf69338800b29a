"""nnscratch: a NumPy-vectorized deep-learning mini-framework.

    import nnscratch as nn
    model = nn.Sequential([nn.Dense(64, activation="relu"), nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer=nn.Adam(lr=1e-3), metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, validation_split=0.2)
"""

from .training import callbacks, checkpoint, losses, metrics, optimizers, parallel, schedules
from .core import initializers
from .training.callbacks import Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint
from .training.checkpoint import Checkpoint
from .models.ensemble import Ensemble
from .core.errors import DatasetError, DTypeError, ImageError, InvalidTypeError, InvalidValueError, ModelFileError, NNScratchError, NotBuiltError, ShapeError, TrainingDivergedError
from .training.history import History
from .layers import AvgPool2D, BatchNorm, Conv2D, GlobalAvgPool2D, MaxPool2D
from .layers import Normalization, RandomFlip, RandomShift
from .layers import ELU, GELU, Activation, Dense, Dropout, Flatten, Identity, LeakyReLU, ReLU, Reshape, Sigmoid, Softmax, Tanh
from .training.losses import BinaryCrossEntropy, CategoricalCrossEntropy, Loss, MeanAbsoluteError, MeanSquaredError
from .models.model import Model
from .core.layer import Module
from .training.optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from .training.parallel import get_num_threads, set_num_threads
from .core.parameter import Parameter
from .training.progress import ProgressBar
from .models.sequential import Sequential
from .io.model_file import load_model

__version__ = "2.0.0.dev0"

load = load_model

__all__ = [
    "Activation", "Adam", "AdamW", "AvgPool2D", "BatchNorm", "BinaryCrossEntropy", "Callback",
    "CategoricalCrossEntropy", "Checkpoint", "Conv2D", "DTypeError", "DatasetError", "Dense", "Dropout", "ELU",
    "EarlyStopping", "Ensemble", "Flatten", "GELU", "GlobalAvgPool2D", "History", "Identity", "ImageError",
    "InvalidTypeError", "InvalidValueError", "LeakyReLU", "LearningRateScheduler", "Loss", "MaxPool2D",
    "MeanAbsoluteError", "MeanSquaredError", "Model", "ModelCheckpoint", "ModelFileError", "Module",
    "NNScratchError", "Normalization", "NotBuiltError", "Optimizer", "Parameter", "ProgressBar", "RMSprop",
    "RandomFlip", "RandomShift", "ReLU", "Reshape", "SGD", "Sequential", "ShapeError", "Sigmoid", "Softmax", "Tanh",
    "TrainingDivergedError", "get_num_threads", "load", "load_model", "set_num_threads", "callbacks", "checkpoint",
    "initializers", "losses", "metrics", "optimizers", "parallel", "schedules",
]
