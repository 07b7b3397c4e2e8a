"""Ward agglomerative clustering: scikit-learn's (scipy's O(N²) memory) below
``exact_max_n``; above it, k-means micro-clusters, weighted Ward on their centroids
(:mod:`._ward`), and each row takes its micro-cluster's label.

Params: ``k``; ``route`` (auto|exact|scalable); ``exact_max_n`` (20 000); scalable only:
``n_microclusters`` (10 000), ``micro_iter`` (3 Lloyd passes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._scale import EXACT, as_features, canonical_labels, check_fits, choose_route, log_route, microclusters
from .base import ClusteringResult, Method

NAME = "agglomerative"
#: scipy's ward keeps two condensed N² float64 distance arrays: 3.2 GB at 20 000 rows.
EXACT_MAX_N = 20_000
N_MICRO = 10_000


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """``exact`` up to ``exact_max_n`` rows (route auto), else ``scalable``."""
    return choose_route(NAME, params, n, EXACT_MAX_N)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Peak bytes of :func:`fit` on n × d float32 for the route it takes."""
    if route(params, n, d) == EXACT:
        # input, float64 copy, pdist's condensed distances and the linkage's working copy
        return int(n * d * 4 + n * d * 8 + 8 * n * (n - 1) / 2 * 2 + 64 * n)
    m = min(int(params.get("n_microclusters", N_MICRO)), n)
    if m == n:  # every row its own micro-cluster: no k-means, a float64 copy for Ward
        return int(n * d * 4 + 2 * n * d * 8 + 48 * n)
    # input and k-means' three n × d copies, per-row labels/distances, centres (m×d float64)
    return int(4 * n * d * 4 + 48 * n + 6 * m * d * 8 + 2 * 256 * m * 8)


def microclusters_of(X: np.ndarray, params: Mapping[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scalable route's micro-clusters (centres, weights, each row's micro-cluster): also
    what the dendrogram of a scalable ward job merges, so that it draws the clustering's tree."""
    return microclusters(X, int(params.get("n_microclusters", N_MICRO)), seed, int(params.get("micro_iter", 3)))


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    """Ward clustering of the rows of X into ``params['k']`` clusters."""
    from sklearn.cluster import AgglomerativeClustering
    X = as_features(X)
    n, d = X.shape
    k = int(params["k"])
    chosen = route(params, n, d)
    check_fits(NAME, chosen, memory_bytes(n, d, params), n, params.get("available_bytes"))
    if chosen == EXACT:
        log_route(NAME, chosen, n, d)
        labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
        return ClusteringResult(np.asarray(labels, dtype=np.int64), {"route": chosen})
    n_micro = int(params.get("n_microclusters", N_MICRO))
    log_route(NAME, chosen, n, d, f"ward on {min(n_micro, n)} weighted k-means micro-clusters")
    centres, weights, assign = microclusters_of(X, params, seed)
    from ._ward import ward_cut  # numba: imported by the jobs that merge micro-clusters only

    micro_labels = ward_cut(centres, weights, k)
    labels = canonical_labels(micro_labels[assign])
    info = {"route": chosen, "n_microclusters": int(len(centres))}
    return ClusteringResult(labels, info, arrays={"microcluster_centres": centres.astype(np.float32)})


def tree_units(X: np.ndarray, params: Mapping[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The dendrogram's units: on the scalable route the same micro-clusters the clustering merged
    (memory O(N·d), not the exact tree's 4 N² bytes); None on the exact route (the rows)."""
    if route(params, *X.shape) == EXACT:
        return None
    centres, weights, assign = microclusters_of(as_features(X), params, seed)
    from ._ward import ward_linkage

    return ward_linkage(centres, weights), assign


METHOD = Method(
    name=NAME,
    setting="k",
    tag="k",
    fit=fit,
    memory_bytes=memory_bytes,
    route=route,
    needs_k=True,
    dendrogram=tree_units,
    description="Ward agglomerative (scikit-learn); weighted Ward on k-means micro-clusters past exact_max_n",
)
