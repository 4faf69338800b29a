"""``compile``'s positional arguments: nnscratch's ``compile(loss, optimizer)``, Keras's ``(optimizer, loss)``.

The two orders cannot be confused: an optimizer is an ``Optimizer``, an optimizer name (``"adam"``, ``"sgd"``,
...) or an optimizer config dict, and no loss is any of these. So ``compile("mse", "adam")``,
``compile("adam", "mse")`` and ``compile(keras.optimizers.Adam(1e-3), loss="mse")`` mean the same.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import InvalidValueError
from .optimizer_base import Optimizer
from .optimizers import OPTIMIZERS

UNSET: Any = object()  # compile's default for loss= and optimizer= (given neither by name nor by position)
DEFAULT_LOSS, DEFAULT_OPTIMIZER = "mse", "adam"


def is_optimizer(value: Any) -> bool:
    """An ``Optimizer``, an optimizer name or an optimizer config dict (``{"name": "adam", ...}``)."""
    if isinstance(value, Optimizer):
        return True
    if isinstance(value, dict):
        value = value.get("name")
    return isinstance(value, str) and value.lower() in OPTIMIZERS


def loss_and_optimizer(args: tuple[Any, ...], loss: Any = UNSET, optimizer: Any = UNSET) -> tuple[Any, Any]:
    """``(loss, optimizer)`` from ``compile``'s positional ``args`` (at most two, in either order) and keywords."""
    if len(args) > 2:
        raise TypeError(f"compile takes at most 2 positional arguments (the loss and the optimizer, in either "
                        f"order), got {len(args)}; pass metrics=..., loss_weights=... by name")
    given = {"loss": loss, "optimizer": optimizer}
    for value in args:
        role = "optimizer" if is_optimizer(value) else "loss"
        if given[role] is not UNSET:
            other = "optimizer" if role == "loss" else "loss"
            plural = "losses" if role == "loss" else "optimizers"
            raise InvalidValueError(f"compile was given two {plural} ({given[role]!r} and {value!r}) and no {other}; "
                                    f"an optimizer is an Optimizer or one of the names {', '.join(OPTIMIZERS)}")
        given[role] = value
    return (DEFAULT_LOSS if given["loss"] is UNSET else given["loss"],
            DEFAULT_OPTIMIZER if given["optimizer"] is UNSET else given["optimizer"])
