"""The reducer registry: PCA, t-SNE, UMAP, LDA and concat views of a feature set, one module each.

A feature set with ``from: <other feature set>`` and ``reduce: {method: <name>, ...}`` is the
named view of the other's reduced features; it is clustered, compared and mapped like any
other. Adding a reducer: write ``galclust/reducers/<name>.py`` (``fit_transform``,
``memory_bytes``, optionally ``transform``, and ``REDUCER`` with its ``schema``: the keys of
``reduce`` it reads besides ``method``) and add it to ``_MODULES``.
"""

from __future__ import annotations

from ..registry import Registry
from .base import Embedding, Reducer

_MODULES = ("pca", "tsne", "umap", "lda", "concat")

REDUCERS: Registry[Reducer] = Registry("reducer")
register = REDUCERS.register
REDUCERS.load(__name__, _MODULES, "REDUCER")

__all__ = ["REDUCERS", "Embedding", "Reducer", "register"]
