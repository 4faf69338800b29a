"""Keras's spelling of optimizer arguments, accepted next to nnscratch's own, and gradient clipping.

``keras_arguments`` wraps an optimizer's ``__init__``: ``learning_rate`` -> ``lr``, ``beta_1`` -> ``beta1``,
``beta_2`` -> ``beta2``, ``epsilon`` -> ``eps``; a number or a schedule given as the first positional
argument is the learning rate (``Adam(1e-3)``), as in Keras. Giving both spellings is an error.

Clipping (Keras's semantics, applied to the gradients before the update, after any L2 decay term):
``clipvalue`` clips every element to ``[-v, v]``; ``clipnorm`` rescales each parameter's gradient whose
L2 norm exceeds it; ``global_clipnorm`` rescales all gradients together when their joint norm exceeds it.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError

ALIASES = {"learning_rate": "lr", "beta_1": "beta1", "beta_2": "beta2", "epsilon": "eps"}
# Keras arguments with no effect here (a plain NumPy loop): accepted when they ask for Keras's default.
IGNORED = {"name": None, "jit_compile": None, "loss_scale_factor": None, "gradient_accumulation_steps": None,
           "use_ema": False, "amsgrad": False, "centered": False}


def keras_arguments(init: Callable[..., None]) -> Callable[..., None]:
    """Decorate an optimizer ``__init__(self, params=None, lr=..., ...)`` to take Keras's names too."""

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        if args and (isinstance(args[0], numbers.Real) and not isinstance(args[0], bool)
                     or callable(args[0]) and not hasattr(args[0], "__iter__")):
            if "lr" in kwargs or "learning_rate" in kwargs or len(args) > 1:
                raise InvalidValueError(f"{type(self).__name__}: the learning rate was given twice "
                                        f"(positionally as {args[0]!r} and again)")
            kwargs["lr"], args = args[0], ()
        for keras_name, name in ALIASES.items():
            if keras_name in kwargs:
                if name in kwargs:
                    raise InvalidValueError(f"{type(self).__name__}: pass {keras_name} or {name}, not both")
                kwargs[name] = kwargs.pop(keras_name)
        for key, default in IGNORED.items():
            if key in kwargs:
                value = kwargs.pop(key)
                if default is not None and value != default:
                    raise InvalidValueError(f"{type(self).__name__}: {key}={value!r} is not supported by nnscratch "
                                            f"(leave it at {default!r})")
        return init(self, *args, **kwargs)

    return wrapper


def _limit(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise InvalidValueError(f"{name} must be a number > 0 or None, got {value!r}")
    return float(value)


class Clipping:
    """The clipping settings of an optimizer; ``apply(grads)`` returns the gradients to use (new arrays
    only where a gradient is changed: the parameters' ``grad`` arrays are never written)."""

    def __init__(self, clipnorm: Any = None, clipvalue: Any = None, global_clipnorm: Any = None) -> None:
        self.clipnorm = _limit("clipnorm", clipnorm)
        self.clipvalue = _limit("clipvalue", clipvalue)
        self.global_clipnorm = _limit("global_clipnorm", global_clipnorm)
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise InvalidValueError("pass clipnorm or global_clipnorm, not both")

    @property
    def active(self) -> bool:
        return self.clipnorm is not None or self.clipvalue is not None or self.global_clipnorm is not None

    def apply(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.clipvalue is not None:
            grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            out = []
            for g in grads:
                norm = math.sqrt(float(np.vdot(g, g)))
                out.append(g * g.dtype.type(self.clipnorm / norm) if norm > self.clipnorm else g)
            grads = out
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
            if norm > self.global_clipnorm:
                grads = [g * g.dtype.type(self.global_clipnorm / norm) for g in grads]
        return grads

    def get_config(self) -> dict[str, Any]:
        return {k: v for k, v in (("clipnorm", self.clipnorm), ("clipvalue", self.clipvalue),
                                  ("global_clipnorm", self.global_clipnorm)) if v is not None}
