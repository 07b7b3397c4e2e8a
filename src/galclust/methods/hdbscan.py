"""HDBSCAN: scikit-learn's below ``exact_max_n``; above it, fast_hdbscan (numba k-d tree,
Borůvka minimum spanning tree), optionally on a seeded PCA projection.

k-d trees lose their pruning as dimension grows; at d = 64 fast_hdbscan still runs but
slowly, so ``reduce_dims`` (default 16; 0 = off) projects the rows onto that many principal
components first (randomised PCA, seeded) — when set, that reduction, not the library, is
what makes a million rows tractable, and ``info['reduced_dims']`` says so.

Params: ``min_cluster_size``; ``min_samples`` (None = min_cluster_size, as scikit-learn);
``route`` (auto|exact|scalable); ``exact_max_n`` (50 000); scalable only: ``reduce_dims`` (16).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.cluster import HDBSCAN

from ._scale import EXACT, as_features, canonical_labels, check_fits, choose_route, log_route
from .base import ClusteringResult, Method

NAME = "hdbscan"
#: scikit-learn's Prim MST is O(N²·d) time (O(N·d) memory): minutes past ~50 000 rows.
EXACT_MAX_N = 50_000
#: fast_hdbscan took 220 s on 100 000 × 64 (2 busy cores) and grows faster than N: the
#: scalable route projects onto this many principal components first (0 = never).
REDUCE_DIMS = 16


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """``exact`` up to ``exact_max_n`` rows (route auto), else ``scalable``."""
    return choose_route(NAME, params, n, EXACT_MAX_N)


def _min_samples(params: Mapping[str, Any]) -> int:
    ms = params.get("min_samples")
    return int(params["min_cluster_size"] if ms is None else ms)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Peak bytes of :func:`fit` on n × d float32 for the route it takes."""
    ms = _min_samples(params)
    if route(params, n, d) == EXACT:
        # copy=True float64 copy, tree, core-distance query (n × min_samples), MST, tree arrays
        return int(n * d * 4 + 2 * n * d * 8 + 16 * n * ms + 200 * n)
    dims = min(d, int(params.get("reduce_dims", REDUCE_DIMS)) or d)
    # input, fast_hdbscan's float32 copy and tree, k-NN (n × min_samples), MST and condensed tree
    return int(n * d * 4 + 2 * n * dims * 4 + 24 * n * ms + 400 * n)


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    """HDBSCAN of the rows of X with ``params['min_cluster_size']``."""
    X = as_features(X)
    n, d = X.shape
    mcs = int(params["min_cluster_size"])
    chosen = route(params, n, d)
    check_fits(NAME, chosen, memory_bytes(n, d, params), n, params.get("available_bytes"))
    if chosen == EXACT:
        log_route(NAME, chosen, n, d)
        labels = HDBSCAN(min_cluster_size=mcs, min_samples=params.get("min_samples"), copy=True).fit_predict(X)
        return ClusteringResult(np.asarray(labels, dtype=np.int64), {"route": chosen})
    import fast_hdbscan

    dims = int(params.get("reduce_dims", REDUCE_DIMS))
    info: dict[str, Any] = {"route": chosen}
    Z = X
    if dims and dims < d:
        from sklearn.decomposition import PCA

        Z = PCA(n_components=dims, svd_solver="randomized", random_state=seed).fit_transform(X)
        info["reduced_dims"] = dims
    log_route(NAME, chosen, n, d, "fast_hdbscan" + (f" on {dims} principal components" if "reduced_dims" in info else ""))
    labels = fast_hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=_min_samples(params)).fit_predict(
        np.ascontiguousarray(Z, dtype=np.float32)
    )
    return ClusteringResult(canonical_labels(labels), info)


METHOD = Method(
    name=NAME,
    setting="min_cluster_size",
    tag="m",
    fit=fit,
    memory_bytes=memory_bytes,
    route=route,
    description="HDBSCAN (scikit-learn); fast_hdbscan (optionally on PCA) past exact_max_n",
)
