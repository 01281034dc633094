"""What several env families share: the registry, the conformance checks and the privacy contract.

:func:`lazy_exports` lets a face (``envs`` or a family's ``__init__``) export names whose modules are heavy
(torch, networkx, bm25s) without importing them when ``import envs`` registers the ids.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the face ``package``: ``exports`` maps each lazily exported name to the
    submodule (relative to ``package``) that defines it, imported on first use and then cached."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
