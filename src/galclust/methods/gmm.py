"""Gaussian mixture clustering (scikit-learn GaussianMixture) as a :class:`~galclust.methods.base.Method`.

One job per value of ``clustering.gmm.k`` (tag ``k``: ``gmm-k8``); shared keys
``covariance_type`` ("full"), ``n_init`` (1), ``max_iter`` (100), ``reg_covar`` (1e-6). Seeded
by the job's seed (k-means initialisation). Labels are the most probable component.

``info`` holds ``bic``, ``aic`` (for the information-criterion plot against k),
``converged``, ``n_iter`` and ``lower_bound``; ``centres`` are the component means;
``arrays`` hold ``weights`` and ``precisions_cholesky`` so that new rows can be assigned
without the estimator.

Scale: one EM iteration costs O(N·k·d²) time (full covariances; O(N·k·d) for diag /
spherical), and memory linear in N: the input, the n × k responsibilities and log
densities, one n × d float64 temporary per component evaluation and k d × d matrices. So
there is a single, exact route at any N (run it on PCA-reduced features, where d is small).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..arrays import as_rows
from .base import ClusteringResult, Diagnostic, Method

def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """Always ``exact``: EM is linear in N."""
    return "exact"


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    """Fit a k-component Gaussian mixture to the rows of X; labels are the most probable component."""
    from sklearn.exceptions import ConvergenceWarning  # noqa: PLC0415
    from sklearn.mixture import GaussianMixture  # noqa: PLC0415

    X = as_rows(X, "gmm")
    # the settings are checked by the config schema (clustering.gmm) before any job
    k = int(params["k"])
    if len(X) < max(2, k):
        raise ValueError(f"gmm-k{k}: {len(X)} galaxies are too few for {k} clusters")
    reg_covar = float(params.get("reg_covar", 1e-6))
    # A component that collapses onto a few galaxies (common in wide PCA spaces) makes its
    # covariance singular: retry with a regularisation ten times larger each time, relative to
    # the features' own scale, and record what was used.
    scale = float(np.mean(np.var(X, axis=0))) or 1.0
    for attempt in range(6):
        model = GaussianMixture(
            n_components=k,
            covariance_type=str(params.get("covariance_type", "full")),
            n_init=int(params.get("n_init", 1)),
            max_iter=int(params.get("max_iter", 100)),
            reg_covar=reg_covar,
            random_state=int(seed),
        )
        try:
            with warnings.catch_warnings():
                # Non-convergence is reported in info["converged"], not as a warning.
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X)
            break
        except ValueError as exc:
            if "ill-defined empirical covariance" not in str(exc) or attempt == 5:
                raise
            reg_covar = max(reg_covar * 10, 1e-4 * scale)
    labels = np.asarray(model.predict(X), dtype=np.int64)
    info: dict[str, Any] = {
        "route": "exact",
        "bic": float(model.bic(X)),
        "aic": float(model.aic(X)),
        "converged": bool(model.converged_),
        "n_iter": int(model.n_iter_),
        "lower_bound": float(model.lower_bound_),
        "covariance_type": model.covariance_type,
        "n_empty_components": int(k - len(np.unique(labels))),
        "reg_covar": reg_covar,
    }
    arrays = {
        "weights": np.asarray(model.weights_, dtype=np.float64),
        "precisions_cholesky": np.asarray(model.precisions_cholesky_, dtype=np.float64),
    }
    return ClusteringResult(labels=labels, info=info, centres=np.asarray(model.means_, dtype=np.float64), arrays=arrays)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Predicted peak bytes of :func:`fit` on an n × d float32 array."""
    k = int(params.get("k", 8))
    cov = {"full": k * d * d, "tied": d * d, "diag": k * d, "spherical": k}[params.get("covariance_type", "full")]
    # input, a float64 temporary per component, responsibilities + log densities (and a
    # copy in logsumexp), k-means initialisation (labels, distances), covariance/precision/Cholesky
    return int(4 * n * d + 2 * 8 * n * d + 4 * 8 * n * k + 8 * n * k + 3 * 8 * cov + 8 * k * d)


def information_figure(metrics: list[dict[str, Any]], out: str, label: str) -> None:
    """BIC and AIC against k: their minimum suggests k."""
    from ..plots.information import information_criteria

    points = sorted((m["params"]["k"], m["bic"], m["aic"]) for m in metrics)
    information_criteria([p[0] for p in points], [p[1] for p in points], out, aic=[p[2] for p in points],
                         title=f"Gaussian mixtures, {label}")


METHOD = Method(
    name="gmm",
    setting="k",
    tag="k",
    fit=fit,
    memory_bytes=memory_bytes,
    route=route,
    needs_k=True,
    diagnostics=(Diagnostic("information", information_figure, "no Gaussian mixture configured"),),
    description="Gaussian mixture (EM, k components; BIC/AIC per k)",
)
