"""Optional dependencies (the package's extras): import one, or say which extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..core.errors import MissingDependencyError


def require(module: str, extra: str, feature: str) -> ModuleType:
    """``import module``, or ``MissingDependencyError`` naming ``extra`` (``pip install "nnscratch[extra]"``)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(f"{feature} needs the '{module}' package, which is not installed ({exc}); "
                                     f"install the extra: pip install \"nnscratch[{extra}]\"") from exc
