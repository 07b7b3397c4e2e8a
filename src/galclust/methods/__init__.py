"""The clustering-method registry: one module per method, one line here each.

Adding a method: write ``galclust/methods/<name>.py`` (``fit``, ``memory_bytes``, ``route``,
``METHOD``), add it to ``_MODULES`` and add its block under ``clustering`` in the config
schema (a plugin gives it as ``Method.schema``). Job names, the schema check, Snakemake's
``mem_mb``, the diagnostic figures, dendrograms and assigners read :data:`METHODS`.
"""

from __future__ import annotations

from ..registry import Registry
from .base import NOISE, ClusteringResult, Diagnostic, Method

_MODULES = ("kmeans", "agglomerative", "affinity_propagation", "dbscan", "hdbscan", "spectral", "gmm", "birch")

METHODS: Registry[Method] = Registry("method")
register = METHODS.register
METHODS.load(__name__, _MODULES, "METHOD")

__all__ = ["METHODS", "NOISE", "ClusteringResult", "Diagnostic", "Method", "register"]
