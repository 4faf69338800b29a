"""nnscratch: a NumPy-vectorized deep-learning mini-framework.

    import nnscratch as nn
    model = nn.Sequential([nn.Dense(64, activation="relu"), nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer=nn.Adam(lr=1e-3), metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, validation_split=0.2)
"""

from . import callbacks, checkpoint, initializers, losses, metrics, optimizers, parallel, schedules
from .callbacks import Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint
from .checkpoint import Checkpoint
from .ensemble import Ensemble
from .errors import (
    DatasetError, DTypeError, ImageError, InvalidTypeError, InvalidValueError, ModelFileError, NNScratchError,
    NotBuiltError, ShapeError, TrainingDivergedError,
)
from .history import History
from .layers import AvgPool2D, BatchNorm, Conv2D, GlobalAvgPool2D, MaxPool2D
from .layers import Normalization, RandomFlip, RandomShift
from .layers import (
    ELU, GELU, Activation, Dense, Dropout, Flatten, Identity, LeakyReLU, ReLU, Reshape, Sigmoid, Softmax, Tanh,
)
from .losses import BinaryCrossEntropy, CategoricalCrossEntropy, Loss, MeanAbsoluteError, MeanSquaredError
from .model import Model
from .module import Module
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from .parallel import get_num_threads, set_num_threads
from .parameter import Parameter
from .progress import ProgressBar
from .sequential import Sequential
from .serialization import load_model

__version__ = "0.1.0"

load = load_model
