"""``LambdaCallback``: a callback made of plain functions (Keras's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.errors import InvalidTypeError
from .callbacks import Callback

_HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end", "on_train_batch_begin",
          "on_train_batch_end", "on_batch_begin", "on_batch_end", "on_test_begin", "on_test_end")


class LambdaCallback(Callback):
    """``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``: each given function replaces that hook
    (the epoch and batch hooks take ``(index, logs)``, the others ``(logs)``)."""

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        for name, fn in hooks.items():
            if name not in _HOOKS:
                raise InvalidTypeError(f"LambdaCallback got {name!r}; the hooks it takes are {', '.join(_HOOKS)}")
            if not callable(fn):
                raise InvalidTypeError(f"LambdaCallback {name} must be a function, got {fn!r}")
            setattr(self, name, fn)
