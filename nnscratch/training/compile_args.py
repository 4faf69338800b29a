"""``compile``'s positional arguments: nnscratch's ``compile(loss, optimizer, metrics)`` and Keras's
``compile(optimizer, loss, loss_weights)`` (Keras 2's third was ``metrics``).

The orders cannot be confused: an optimizer is an ``Optimizer``, an optimizer name (``"adam"``, ``"sgd"``,
...) or an optimizer config dict, and no loss is any of these; a third positional made of numbers (a list,
or a dict by output name) is ``loss_weights``, anything else ``metrics``. So ``compile("mse", "adam")``,
``compile("adam", "mse")`` and ``compile(keras.optimizers.Adam(1e-3), loss="mse")`` mean the same.
"""

from __future__ import annotations

import numbers
from typing import Any

from ..core.errors import InvalidValueError
from .optimizer_base import Optimizer
from .optimizers import OPTIMIZERS

UNSET: Any = object()  # compile's default for an argument given neither by name nor by position
DEFAULTS = {"loss": "mse", "optimizer": "adam", "metrics": (), "loss_weights": None}


def is_optimizer(value: Any) -> bool:
    """An ``Optimizer``, an optimizer name or an optimizer config dict (``{"name": "adam", ...}``)."""
    if isinstance(value, Optimizer):
        return True
    if isinstance(value, dict):
        value = value.get("name")
    return isinstance(value, str) and value.lower() in OPTIMIZERS


def are_weights(value: Any) -> bool:
    """Numbers: a list of them, or a dict of them by output name (``loss_weights``)."""
    if not isinstance(value, (dict, list, tuple)) or not value:
        return False
    return all(isinstance(v, numbers.Real) and not isinstance(v, bool)
               for v in (value.values() if isinstance(value, dict) else value))


def compile_arguments(args: tuple[Any, ...], **given: Any) -> dict[str, Any]:
    """``loss``, ``optimizer``, ``metrics``, ``loss_weights`` from ``compile``'s positional ``args`` and its
    keywords ``given`` (``UNSET`` where not passed); the defaults fill the rest."""
    if len(args) > 3:
        raise TypeError(f"compile takes at most 3 positional arguments (the loss and the optimizer in either "
                        f"order, then the metrics), got {len(args)}; pass the others by name")
    for i, value in enumerate(args):
        role = ("optimizer" if is_optimizer(value) else "loss") if i < 2 else (
            "loss_weights" if are_weights(value) else "metrics")
        if given[role] is not UNSET:
            hint = (f"; an optimizer is an Optimizer or one of the names {', '.join(OPTIMIZERS)}"
                    if role in ("loss", "optimizer") else "")
            raise InvalidValueError(f"compile was given {role} twice ({given[role]!r} and {value!r}){hint}")
        given[role] = value
    return {k: DEFAULTS[k] if v is UNSET else v for k, v in given.items()}
