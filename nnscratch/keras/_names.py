"""How the keras namespace answers a name it does not provide: an ``NNScratchError`` that says why and what to
do instead, never a bare ``AttributeError``."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from ..core.errors import NNScratchError


class KerasNameError(NNScratchError, AttributeError):
    """A Keras name nnscratch does not provide (also an ``AttributeError``, so ``hasattr`` still answers)."""


DOCS = "see docs/keras.md for what the keras namespace provides"


def module_getattr(module: str, provided: dict[str, Any], refused: dict[str, str],
                   fallback: Callable[[str], Any] | None = None) -> Callable[[str], Any]:
    """A module ``__getattr__`` (``provided`` is the module's ``globals()``): ``fallback(name)`` (None when it
    has none), else ``KerasNameError`` with the reason in ``refused`` or a "did you mean" suggestion."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if fallback is not None:
            value = fallback(name)
            if value is not None:
                return value
        if name in refused:
            raise KerasNameError(f"{module}.{name} is not available in nnscratch: {refused[name]} ({DOCS})")
        close = difflib.get_close_matches(name, [k for k in provided if not k.startswith("_")], n=1)
        hint = f"; did you mean {module}.{close[0]}?" if close else ""
        raise KerasNameError(f"{module}.{name} is not a name nnscratch's keras namespace provides{hint} ({DOCS})")

    return __getattr__
