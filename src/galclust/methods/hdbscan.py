"""HDBSCAN (scikit-learn)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.cluster import HDBSCAN

from ._exact import FLOAT64, exact_route, fit_estimator
from .base import ClusteringResult, Method


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:  # noqa: ARG001 (deterministic)
    return fit_estimator(HDBSCAN(min_cluster_size=params["min_cluster_size"], copy=True), X)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    return FLOAT64 * (n * d + 4 * n * max(5, params["min_cluster_size"]))


METHOD = Method("hdbscan", "min_cluster_size", "m", fit, memory_bytes, exact_route,
                description="HDBSCAN: hierarchical density clustering, noise labelled -1")
