"""Ward agglomerative clustering (scikit-learn)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from ._exact import FLOAT64, exact_route, fit_estimator
from .base import ClusteringResult, Method


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:  # noqa: ARG001 (deterministic)
    return fit_estimator(AgglomerativeClustering(n_clusters=params["k"], linkage="ward"), X)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:  # noqa: ARG001
    # condensed distances (n(n-1)/2 float64) and the copy the tree build makes of them
    return FLOAT64 * (n * (n - 1) + n * d)


METHOD = Method("agglomerative", "k", "k", fit, memory_bytes, exact_route, needs_k=True,
                description="ward-linkage agglomerative clustering")
