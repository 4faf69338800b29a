"""Names a package loads on first use (PEP 562): ``__getattr__, __dir__ = lazy_names(__name__, globals(), {...})``.

``names`` maps a public name to ``(module, attribute)``: the module relative to the package (``".layers"``,
``"..data.cat"``) and the attribute to take from it (``""``: the module itself). The first use imports the
module and stores the value in the package, so later uses are plain attribute reads. Packages assign
``__getattr__`` only outside ``TYPE_CHECKING`` and import the names there for type checkers, so a
misspelt name stays a type error.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, namespace: dict[str, Any], names: dict[str, tuple[str, str]]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's ``__getattr__`` and ``__dir__`` (every public and lazy name, loaded or not, and the
    subpackages loaded so far)."""

    def getattr_(name: str) -> Any:
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(target[0], package)
        value = namespace[name] = getattr(module, target[1]) if target[1] else module
        return value

    def dir_() -> list[str]:
        loaded = {n for n, v in namespace.items() if getattr(v, "__name__", "").startswith(f"{package}.")}
        public = set(namespace.get("__all__", ()))
        return sorted({n for n in namespace if n.startswith("__")} | public | set(names) | loaded)

    return getattr_, dir_
