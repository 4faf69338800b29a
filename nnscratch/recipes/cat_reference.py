"""The deeplearning.ai course's L-layer cat classifier, reproduced to every printed digit.

12288-20-7-5-1: ``[Linear -> ReLU] x 3 -> Linear -> sigmoid``, binary cross-entropy, float64,
full-batch gradient descent with learning rate 0.0075 for 2500 iterations, weights
``randn(out, in) / sqrt(in)`` drawn in order after ``np.random.seed(1)``, zero biases. It prints
"Cost after iteration 0: 0.771749" ... "Cost after iteration 2400: 0.092878", then trains to 0.9856
and tests at 0.80, the published figures. ``layers=(12288, 7, 1)`` is the course's 2-layer model
(weights ``randn(out, in) * 0.01``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np

from ..core import initializers
from ..core.errors import InvalidValueError
from ..data.classify import DEFAULT_PREPROCESSING, input_shape_for, preprocess_images
from ..layers import Dense
from ..models.sequential import Sequential
from ..training import checkpoint
from ..training.history import History
from ..training.optimizers import SGD
from ..utils.cost_printer import COURSE_FORMAT, CostPrinter

INPUTS = input_shape_for(DEFAULT_PREPROCESSING)[0]  # 12288 = 64 * 64 * 3
REFERENCE_LAYERS = (INPUTS, 20, 7, 5, 1)
REFERENCE_LR = 0.0075
REFERENCE_ITERATIONS = 2500
REFERENCE_SEED = 1
PRINT_EVERY = 100


def parse_layers(text: str) -> list[int]:
    """``"12288,20,7,5,1"`` -> ``[12288, 20, 7, 5, 1]``: input size first, one sigmoid output last."""
    try:
        dims = [int(part) for part in text.replace(" ", "").split(",")]
    except ValueError:
        raise InvalidValueError(f"--layers must be comma-separated integers like 12288,20,7,5,1, "
                                f"got {text!r}") from None
    check_layers(dims, text)
    return dims


def check_layers(dims: Sequence[int], shown: object = None) -> None:
    """Raise ``InvalidValueError`` unless ``dims`` is ``12288, ..., 1`` with positive sizes."""
    if len(dims) < 2 or dims[0] != INPUTS or dims[-1] != 1 or min(dims) < 1:
        raise InvalidValueError(f"--layers must start with {INPUTS} (64*64*3 inputs), end with 1 (the sigmoid output) "
                                f"and have positive sizes, got {shown if shown is not None else list(dims)!r}")


def build_reference(layers: Sequence[int] = REFERENCE_LAYERS, seed: int = REFERENCE_SEED) -> Sequential:
    """The course's network for ``layers``, compiled: BCE, ``SGD(lr=0.0075)``, accuracy; float64.

    Weights as the course draws them after ``np.random.seed(seed)``: ``randn(out, in) * 0.01`` for the
    2-layer model (``len(layers) == 3``), ``randn(out, in) / sqrt(in)`` otherwise; biases zero. A
    ``RandomState(seed)`` given as the model seed yields the global generator's stream, and the layers
    draw their weights in order when the model is built.
    """
    check_layers(layers)
    init = initializers.ScaledNormal(0.01) if len(layers) == 3 else initializers.lecun_normal
    dense = [Dense(units, activation="relu", kernel_initializer=init) for units in layers[1:-1]]
    dense.append(Dense(1, activation="sigmoid", kernel_initializer=init))
    model = Sequential(dense, seed=np.random.RandomState(seed), dtype="float64")
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr=REFERENCE_LR), metrics=["accuracy"])
    return model


def train_reference(images: np.ndarray, labels: np.ndarray, *, layers: Sequence[int] = REFERENCE_LAYERS,
                    seed: int = REFERENCE_SEED, iterations: int = REFERENCE_ITERATIONS,
                    log: Callable[[str], None] | None = None, checkpoint_dir: str | os.PathLike | None = None,
                    resume: bool = False) -> tuple[Sequential, History, dict[int, float]]:
    """Train the course's network on uint8 images ``(N, 64, 64, 3)`` and 0/1 labels ``(N,)``.

    ``log`` gets the course's "Cost after iteration i: ..." lines (every 100 iterations and the last).
    Returns ``(model, history, costs)``, ``costs`` = ``{iteration: cost}`` of the lines logged.
    """
    model = build_reference(layers, seed)
    printer = CostPrinter(PRINT_EVERY, COURSE_FORMAT, log=log or (lambda line: None))
    x = preprocess_images(images, DEFAULT_PREPROCESSING, "float64")
    history = checkpoint.fit_with_checkpoints(model, x, labels, checkpoint_dir=checkpoint_dir, resume=resume,
                                              epochs=iterations, batch_size=None, verbose=0, callbacks=[printer])
    # Ctrl-C: fit already said where it stopped and what the checkpoint holds
    if getattr(history, "interrupted", False):
        raise KeyboardInterrupt
    return model, history, dict(printer.printed)
