"""Affinity propagation (scikit-learn), as the reference study ran it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.cluster import AffinityPropagation

from ._exact import FLOAT64, exact_route, fit_estimator
from .base import ClusteringResult, Method

log = logging.getLogger(__name__)


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    max_iter = params.get("max_iter", 200)
    estimator = AffinityPropagation(damping=params["damping"], max_iter=max_iter,
                                    convergence_iter=params.get("convergence_iter", 15), random_state=seed)
    result = fit_estimator(estimator, X)
    result.info["converged"] = bool(result.info.get("n_iter", 0) < max_iter)
    if not result.info["converged"]:
        log.warning("affinity propagation did not converge in %d iterations", max_iter)
    return result


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:  # noqa: ARG001
    # similarities, responsibilities, availabilities and a temporary: four N×N float64
    return FLOAT64 * (4 * n * n + n * d)


METHOD = Method("affinity_propagation", "damping", "d", fit, memory_bytes, exact_route,
                description="affinity propagation (damping), exemplars chosen by message passing")
