"""Optional dependencies (``pip install "nnscratch[EXTRA]"``), imported only when a feature needs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..core.errors import NNScratchError


class MissingExtraError(NNScratchError, ImportError):
    """An optional dependency is not installed; the message names the package and the extra that brings it."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature``, or raise ``MissingExtraError`` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise MissingExtraError(f"{feature} needs {package}, which is not installed: pip install "
                                f"\"nnscratch[{extra}]\" "
                                f"(or: pip install {package})") from None
