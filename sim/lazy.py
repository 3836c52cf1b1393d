"""Modules that load on first use, so that ``import sim`` stays light (``blowback --help``
answers at once) while ``sim.experiments.sweep.load(...)`` works after a bare ``import sim``.

Each package of ``sim`` sets ``__getattr__ = submodules(__name__)``: an attribute the package
lacks is looked up as its submodule and imported then.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType


def submodules(package: str) -> Callable[[str], ModuleType]:
    """A module ``__getattr__`` for ``package`` that imports ``package.<name>`` on first use."""
    def attribute(name: str) -> ModuleType:
        target = f"{package}.{name}"
        if not name.startswith("_"):
            try:
                return importlib.import_module(target)
            except ModuleNotFoundError as err:
                # A missing dependency of the submodule is told as it is; only a missing
                # submodule is a missing attribute.
                if err.name != target:
                    raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return attribute
