"""DBSCAN (scikit-learn)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.cluster import DBSCAN

from ._exact import FLOAT64, exact_route, fit_estimator
from .base import ClusteringResult, Method


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:  # noqa: ARG001 (deterministic)
    return fit_estimator(DBSCAN(eps=params["eps"], min_samples=params.get("min_samples", 5)), X)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:  # noqa: ARG001
    # the ε-neighbourhoods: assume up to 100 neighbours per galaxy (int64 indices)
    return FLOAT64 * (n * d + 100 * n)


METHOD = Method("dbscan", "eps", "eps", fit, memory_bytes, exact_route,
                description="DBSCAN: density-connected regions within eps, noise labelled -1")
