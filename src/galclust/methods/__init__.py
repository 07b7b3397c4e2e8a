"""The clustering-method registry: one module per method, one line here each.

Adding a method: write ``galclust/methods/<name>.py`` (``fit``, ``memory_bytes``, ``route``,
``METHOD``), add it to ``_MODULES`` and add its block under ``clustering`` in the config
schema. Job names, the schema check, Snakemake's ``mem_mb`` and the cluster step read
:data:`METHODS`.
"""

from __future__ import annotations

from importlib import import_module

from .base import NOISE, ClusteringResult, Method

_MODULES = ("kmeans", "agglomerative", "affinity_propagation", "dbscan", "hdbscan", "spectral", "gmm", "birch")

METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add a method (a plugin's, or a test's toy) to the registry; returns it."""
    METHODS[method.name] = method
    return method


for _name in _MODULES:
    register(import_module(f"{__name__}.{_name}").METHOD)

from ..plugins import load_plugins  # noqa: E402  (after the built-ins: plugins may replace them)

load_plugins()

__all__ = ["METHODS", "NOISE", "ClusteringResult", "Method", "register"]
