"""The reducer registry: PCA, t-SNE, UMAP and LDA views of a feature set, one module each.

A feature set with ``from: <other feature set>`` and ``reduce: {method: <name>, ...}`` is the
named view of the other's reduced features; it is clustered, compared and mapped like any
other. Adding a reducer: write ``galclust/reducers/<name>.py`` (``fit_transform``,
``memory_bytes``, optionally ``transform``, and ``REDUCER``), add it to ``_MODULES`` and its
name to the ``reduce.method`` enum of the config schema.
"""

from __future__ import annotations

from importlib import import_module

from .base import Embedding, Reducer

_MODULES = ("pca", "tsne", "umap", "lda", "concat")

REDUCERS: dict[str, Reducer] = {}


def register(reducer: Reducer) -> Reducer:
    """Add a reducer (a plugin's, or a test's toy) to the registry; returns it."""
    REDUCERS[reducer.name] = reducer
    return reducer


for _name in _MODULES:
    register(import_module(f"{__name__}.{_name}").REDUCER)

from ..plugins import load_plugins  # noqa: E402  (after the built-ins: plugins may replace them)

load_plugins()

__all__ = ["REDUCERS", "Embedding", "Reducer", "register"]
