"""k-means: scikit-learn's KMeans exactly as the reference study ran it, and a mini-batch
route (MiniBatchKMeans, then a few full Lloyd passes from its centres) for large N.

Params: ``k``; ``n_init`` (10); ``route`` (auto|exact|scalable); ``exact_max_n`` (100 000);
scalable only: ``batch_size`` (4096), ``refine_iter`` (5 full Lloyd passes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._scale import EXACT, as_features, check_fits, choose_route, log_route
from .base import ClusteringResult, Diagnostic, Method

NAME = "kmeans"
#: Past this, n_init full k-means++ runs take minutes at k ~ 1000; the memory is linear anyway.
EXACT_MAX_N = 100_000


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """``exact`` up to ``exact_max_n`` rows (route auto), else ``scalable``."""
    return choose_route(NAME, params, n, EXACT_MAX_N)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Peak bytes of :func:`fit` on n × d float32: the input and the three more n × d
    arrays scikit-learn's KMeans holds at its peak (measured: centred copy and validation
    copies), labels and distances per row, and the centres."""
    k = int(params["k"])
    return int(4 * n * d * 4 + 24 * n + 16 * k * d * 8)


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    """Cluster the rows of X into ``params['k']`` clusters."""
    from sklearn.cluster import KMeans, MiniBatchKMeans
    X = as_features(X)
    n, d = X.shape
    k = int(params["k"])
    n_init = int(params.get("n_init", 10))
    chosen = route(params, n, d)
    check_fits(NAME, chosen, memory_bytes(n, d, params), n, params.get("available_bytes"))
    if chosen == EXACT:
        log_route(NAME, chosen, n, d)
        km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)
        info = {"route": chosen, "inertia": float(km.inertia_), "n_iter": int(km.n_iter_)}
        return ClusteringResult(np.asarray(km.labels_, dtype=np.int64), info, km.cluster_centers_)
    log_route(NAME, chosen, n, d, f"mini-batch k-means, n_init={n_init}, then Lloyd refinement")
    mb = MiniBatchKMeans(
        n_clusters=k,
        n_init=n_init,
        batch_size=int(params.get("batch_size", 4096)),
        random_state=seed,
    ).fit(X)
    # Full-data Lloyd passes from the mini-batch centres recover most of the gap to k-means.
    km = KMeans(
        n_clusters=k, init=mb.cluster_centers_.astype(X.dtype), n_init=1,
        max_iter=int(params.get("refine_iter", 5)), random_state=seed,
    ).fit(X)
    info = {
        "route": chosen,
        "inertia": float(km.inertia_),
        "n_iter": int(km.n_iter_),
        "minibatch_steps": int(mb.n_steps_),
    }
    return ClusteringResult(np.asarray(km.labels_, dtype=np.int64), info, km.cluster_centers_)


def elbow_figure(metrics: list[dict[str, Any]], out: str, label: str) -> None:
    """Inertia against k: where it stops falling fast suggests k."""
    from ..plots import elbow

    points = sorted((m["params"]["k"], m["inertia"]) for m in metrics)
    elbow([k for k, _ in points], [i for _, i in points], out, title=f"k-means elbow, {label}")


def assigner(X: np.ndarray, labels: np.ndarray, params: Mapping[str, Any], outlier_quantile: float, seed: int,
             index: Any) -> Any:
    """New galaxies go to the nearest centre (the reference members' means)."""
    from ..assign import CentroidAssigner

    return CentroidAssigner(outlier_quantile=outlier_quantile).fit(X, labels)


METHOD = Method(
    name=NAME,
    setting="k",
    tag="k",
    fit=fit,
    memory_bytes=memory_bytes,
    route=route,
    needs_k=True,
    diagnostics=(Diagnostic("elbow", elbow_figure, "no k-means clustering configured"),),
    assigner=assigner,
    description="k-means (scikit-learn); mini-batch k-means + Lloyd refinement past exact_max_n",
)
