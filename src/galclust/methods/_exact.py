"""Helpers shared by the method modules: the exact scikit-learn route and its bookkeeping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import ClusteringResult

FLOAT64 = 8


def as_features(X: np.ndarray) -> np.ndarray:
    """Rows to cluster: float32 stays float32 (affinity propagation's tie-breaking noise is
    dtype-scaled and the published labels were made from float32), the rest becomes float64."""
    X = np.asarray(X)
    return X if X.dtype == np.float32 else X.astype(np.float64)


def exact_route(params: Mapping[str, Any], n: int, d: int) -> str:  # noqa: ARG001 (Method.route signature)
    """Methods with a single route."""
    return "exact"


def fit_estimator(estimator: Any, X: np.ndarray, route: str = "exact") -> ClusteringResult:
    """fit_predict a scikit-learn estimator; inertia/iterations go to ``info`` where defined."""
    labels = np.asarray(estimator.fit_predict(as_features(X)), dtype=np.int64)
    info: dict[str, Any] = {"route": route}
    if hasattr(estimator, "inertia_"):
        info["inertia"] = float(estimator.inertia_)
    if hasattr(estimator, "n_iter_"):
        info["n_iter"] = int(np.max(estimator.n_iter_))
    centres = getattr(estimator, "cluster_centers_", None)
    return ClusteringResult(labels, info, None if centres is None else np.asarray(centres, np.float32))
