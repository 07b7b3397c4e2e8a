"""Spectral clustering on the symmetric k-NN graph (scikit-learn)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.cluster import SpectralClustering

from ._exact import FLOAT64, exact_route, fit_estimator
from .base import ClusteringResult, Method


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    estimator = SpectralClustering(n_clusters=params["k"], affinity="nearest_neighbors",
                                   n_neighbors=params.get("n_neighbors", 10), random_state=seed,
                                   assign_labels="kmeans")
    return fit_estimator(estimator, X)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    # sparse graph (2 n n_neighbors entries) and the eigenvectors; dense work arrays of ARPACK
    return FLOAT64 * (n * d + 6 * n * params.get("n_neighbors", 10) + 4 * n * params["k"])


METHOD = Method("spectral", "k", "k", fit, memory_bytes, exact_route, needs_k=True,
                description="spectral clustering of the k-NN graph")
