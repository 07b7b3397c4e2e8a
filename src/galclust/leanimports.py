"""Keep pandas out of jobs that never use it.

scikit-learn's ``sklearn.utils.fixes`` imports pandas, when it is installed, for one module
attribute that nothing reads (its pandas helpers take pandas as an argument, and the checks
for DataFrames look in ``sys.modules``). That import is about a fifth of a clustering job's
CPU time (0.3 of 1.4 CPU-s for ``import sklearn.base``; bench/bench_job_startup.py), paid by
every job that touches scikit-learn: clustering, reduction, maps, quality, comparison.

:func:`install` adds an import hook that runs that one module with pandas reported missing
(a ``None`` entry in ``sys.modules``, which makes ``import pandas`` raise ImportError) and
removes the entry as soon as the module has run, so seaborn, a plugin or the user can import
pandas as usual afterwards. Where pandas is already imported the hook changes nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

#: the module that imports pandas without using it
PANDAS_FREE_MODULE = "sklearn.utils.fixes"


class _WithoutPandas(importlib.abc.Loader):
    """The module's own loader, run with pandas reported missing."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        hidden = "pandas" not in sys.modules
        if hidden:
            sys.modules["pandas"] = None  # type: ignore[assignment]
        try:
            self._loader.exec_module(module)
        finally:
            if hidden and "pandas" in sys.modules and sys.modules["pandas"] is None:
                del sys.modules["pandas"]

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename... for tracebacks
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != PANDAS_FREE_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _WithoutPandas(spec.loader)
        return spec


def install() -> None:
    """Add the hook (once per process; before scikit-learn is first imported, or it does nothing)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
