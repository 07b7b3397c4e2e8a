"""k-means (scikit-learn, seeded, ``n_init`` restarts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.cluster import KMeans

from ._exact import FLOAT64, exact_route, fit_estimator
from .base import ClusteringResult, Method


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    estimator = KMeans(n_clusters=params["k"], n_init=params.get("n_init", 10), random_state=seed)
    return fit_estimator(estimator, X)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    # a float64 copy of X, distances to the k centres, labels
    return FLOAT64 * (n * d + n * params["k"] + 2 * n)


METHOD = Method("kmeans", "k", "k", fit, memory_bytes, exact_route, needs_k=True,
                description="k-means, seeded, best of n_init restarts")
