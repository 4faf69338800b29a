"""``NNEstimatorBase``: the parameters and the training shared by ``NNClassifier`` and ``NNRegressor``.

The constructor only stores its arguments (scikit-learn's contract); they are checked by ``fit``.
``fit`` builds a fresh nnscratch model (``Sequential`` of ``Dense`` layers, or ``model_fn``), compiles
it and trains it with ``Model.fit``; ``partial_fit`` trains the same model one more epoch.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight

from .. import Dense, EarlyStopping, Model, Sequential, optimizers
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError

_SEED_LIMIT = np.iinfo(np.int32).max


def _count(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (numpy ints accepted, bools refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class NNEstimatorBase(BaseEstimator):
    """Shared parameters of the nnscratch estimators (stored as given; checked by ``fit``).

    hidden_layer_sizes: units of each hidden ``Dense`` layer (an int is one layer; ``()`` none).
    activation: the hidden layers' activation name (``"relu"``, ``"tanh"``, ``"sigmoid"``, ...).
    optimizer: an optimizer name (``"adam"``, ``"sgd"``, ``"momentum"``, ``"rmsprop"``, ``"adamw"``) built
        with ``learning_rate``, or an ``nnscratch.Optimizer`` (copied for each fit; its own rate is used).
    epochs: epochs of ``fit`` (the most, with ``early_stopping``); ``partial_fit`` always runs one.
    batch_size: samples per step, or ``"auto"`` = ``min(200, samples)``.
    early_stopping: hold out ``validation_fraction`` of the samples (stratified for classifiers) and stop
        when the validation loss has not improved for ``patience`` epochs, keeping the best weights.
    random_state: None, an int or a ``RandomState``: seeds weight initialization, shuffling and the split.
    model_fn: ``model_fn(n_features, n_outputs) -> nnscratch.Model`` replaces the hidden-layer spec. The
        model must output ``(samples, n_outputs)``; if it is not compiled the estimator compiles it with
        the task's loss and ``optimizer``. With a ``random_state`` its generator is reseeded.
    verbose: 0 silent, 1 nnscratch's progress display.
    warm_start: ``fit`` goes on training the fitted model (its weights, optimizer state, ``history_`` and
        ``n_iter_``) for ``epochs`` more epochs instead of starting anew; the data must have the same
        features and the same classes (or targets) as before.
    """

    model_: Model  # learned by fit (class-level annotations only: unset until then)
    history_: dict[str, list[float]]
    n_iter_: int

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu", optimizer: Any = "adam",
                 learning_rate: float = 1e-3, epochs: int = 200, batch_size: int | str = 32,
                 early_stopping: bool = False, validation_fraction: float = 0.1, patience: int = 10,
                 random_state: Any = None, model_fn: Callable[[int, int], Model] | None = None,
                 verbose: int = 0, warm_start: bool = False) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.model_fn = model_fn
        self.verbose = verbose
        self.warm_start = warm_start

    def _warm(self) -> bool:
        """Whether ``fit`` continues the fitted model (``warm_start`` and a model to continue)."""
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise InvalidTypeError(f"warm_start must be True or False, got {self.warm_start!r}")
        return bool(self.warm_start) and hasattr(self, "model_")

    # ------------------------------------------------------------ task hooks (subclasses)
    def _loss(self, y: np.ndarray) -> str:
        """The loss for the encoded targets ``y`` of this fit."""
        raise NotImplementedError

    def _output_activation(self, y: np.ndarray) -> str | None:
        raise NotImplementedError

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        """Labels to stratify the early-stopping split on (None: plain random split)."""
        return None

    # ------------------------------------------------------------ building
    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, (bool, np.bool_)):
            sizes = (sizes,)
        try:
            return tuple(_count(s, "each of hidden_layer_sizes", 1) for s in sizes)
        except TypeError:
            raise InvalidTypeError(f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}") from None

    def _make_optimizer(self) -> optimizers.Optimizer:
        if isinstance(self.optimizer, optimizers.Optimizer):
            return copy.deepcopy(self.optimizer)  # the parameter itself is never trained
        if not isinstance(self.optimizer, str):
            raise InvalidTypeError("optimizer must be a name such as 'adam' or an nnscratch Optimizer, got "
                                   f"{self.optimizer!r}")
        return optimizers.get(self.optimizer, lr=self.learning_rate)

    def _make_model(self, x: np.ndarray, y: np.ndarray, n_outputs: int, seed: int, seeded: bool) -> Model:
        """A compiled model for inputs like ``x`` ``(samples, features)``, ``n_outputs`` outputs and encoded
        targets like ``y``."""
        n_features = x.shape[1]
        if self.model_fn is None:
            layers = [Dense(units, activation=self.activation) for units in self._hidden_sizes()]
            model: Model = Sequential([*layers, Dense(n_outputs, activation=self._output_activation(y))],
                                      seed=seed)
        else:
            if not callable(self.model_fn):
                raise InvalidTypeError("model_fn must be a function (n_features, n_outputs) -> model, got "
                                       f"{self.model_fn!r}")
            model = self.model_fn(n_features, n_outputs)
            if not isinstance(model, Model):
                raise InvalidTypeError(f"model_fn({n_features}, {n_outputs}) must return an nnscratch Model, got "
                                       f"{type(model).__name__}")
            if seeded:
                model.set_rng(np.random.default_rng(seed))
            shape = model.predict(x[:1]).shape[1:]
            if shape != (n_outputs,):
                raise ShapeError(f"model_fn({n_features}, {n_outputs}) built a model with outputs of shape "
                                 f"(samples, {', '.join(map(str, shape))}); expected (samples, {n_outputs})")
        if getattr(model, "loss", None) is None:
            model.compile(loss=self._loss(y), optimizer=self._make_optimizer())
        return model

    # ------------------------------------------------------------ training
    def _batch_size(self, n: int) -> int:
        if isinstance(self.batch_size, str) and self.batch_size == "auto":
            return min(200, n)
        return min(_count(self.batch_size, "batch_size (or 'auto')", 1), n)

    def _verbose(self) -> int:
        return 1 if _count(self.verbose, "verbose", 0) else 0

    def _split(self, rng: np.random.RandomState, *arrays: np.ndarray) -> list[np.ndarray]:
        """Training and validation parts of each of ``arrays`` (``x``, ``y`` and perhaps the sample weights),
        as ``train_test_split`` returns them, for early stopping (stratified by ``y`` when possible)."""
        x, y = arrays[:2]
        fraction = self.validation_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
            raise InvalidValueError(f"validation_fraction must be a number in (0, 1), got {fraction!r}")
        if len(x) < 2:
            raise InvalidValueError(f"early_stopping needs n_samples >= 2 (training and validation samples), "
                                    f"got n_samples={len(x)}")
        state = int(rng.randint(_SEED_LIMIT))
        stratify = self._stratify(y)
        if stratify is not None:
            try:
                return list(train_test_split(*arrays, test_size=fraction, random_state=state, stratify=stratify))
            except ValueError:  # a class with one sample, or fewer validation samples than classes
                pass
        return list(train_test_split(*arrays, test_size=fraction, random_state=state))

    def _train(self, x: np.ndarray, y: np.ndarray, n_outputs: int, incremental: bool,
               sample_weight: Any = None) -> None:
        """Train on ``x`` ``(samples, features)`` float32 and encoded targets ``y``: a new model for ``fit``
        (``epochs`` epochs; the fitted one with ``warm_start``), one more epoch of the current model for
        ``partial_fit``. ``sample_weight``
        ``(samples,)`` weighs each sample's loss (scikit-learn's checks; None: all 1)."""
        weights = None if sample_weight is None else _check_sample_weight(sample_weight, x, dtype=x.dtype)
        first = not hasattr(self, "model_") or not (incremental or self._warm())
        epochs = 1 if incremental else _count(self.epochs, "epochs", 1)
        batch_size, verbose = self._batch_size(len(x)), self._verbose()
        if not incremental and not isinstance(self.early_stopping, (bool, np.bool_)):
            raise InvalidTypeError(f"early_stopping must be True or False, got {self.early_stopping!r}")
        rng = check_random_state(self.random_state)
        if first:
            seed = int(rng.randint(_SEED_LIMIT))
            model = self._make_model(x, y, n_outputs, seed, seeded=self.random_state is not None)
        else:
            model = self.model_
        fit_args: dict[str, Any] = {}
        if self.early_stopping and not incremental:
            patience = _count(self.patience, "patience", 0)
            parts = self._split(rng, x, y) if weights is None else self._split(rng, x, y, weights)
            x, xv, y, yv = parts[:4]
            validation = (xv, yv) if weights is None else (xv, yv, parts[5])
            weights = None if weights is None else parts[4]
            fit_args = {"validation_data": validation,
                        "callbacks": [EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)]}
        if weights is not None:
            fit_args["sample_weight"] = weights
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose, **fit_args)
        if first:
            self.model_, self.history_, self.n_iter_ = model, {}, 0
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(values)
        self.n_iter_ += len(history.epoch)
