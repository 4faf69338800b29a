"""``keras.optimizers``: nnscratch's optimizers, which take Keras's argument names (``learning_rate``,
``beta_1``, ``beta_2``, ``epsilon``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``Adam(1e-3)``)."""

from __future__ import annotations

from ...training.adaptive_optimizers import Adagrad, Adamax, Nadam
from ...training.optimizers import SGD, Adam, AdamW, Optimizer, RMSprop, get
from .._names import module_getattr
from . import schedules

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Adamax", "Nadam", "Optimizer", "RMSprop", "get", "schedules"]

_MISSING = ("nnscratch implements SGD (with momentum/nesterov), RMSprop, Adagrad, Adam, AdamW, Adamax and Nadam; "
            "use one of those")
REFUSED = {
    **dict.fromkeys(["Adadelta", "Ftrl", "Lion", "Lamb", "Adafactor"], _MISSING),
    "LossScaleOptimizer": "it serves mixed precision, which nnscratch does not do (float32 or float64 throughout)",
    "legacy": "Keras 2's optimizers are not provided; use keras.optimizers.Adam etc.",
}

__getattr__ = module_getattr("keras.optimizers", globals(), REFUSED)
