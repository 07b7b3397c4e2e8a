"""HDBSCAN: scikit-learn's below ``exact_max_n``; above it, fast_hdbscan (numba k-d tree,
Borůvka minimum spanning tree), optionally on a seeded PCA projection.

k-d trees lose their pruning as dimension grows; at d = 64 fast_hdbscan still runs but
slowly, so ``reduce_dims`` (0 = off) projects the rows onto that many principal components
first (randomised PCA, seeded) — when set, that reduction, not the library, is what makes a
million rows tractable, and ``info['reduced_dims']`` says so. Its default, ``auto``, is 16
up to 200 000 rows and 8 above: on 200 000 rows of a 30-Gaussian mixture (d = 64, 2 cores)
fast_hdbscan took 63–90 s on 16 components and 25–27 s on 8 (same ARI, 1.000), and the gap
widens with N (a 1 000 000-row run on 16 components had not finished after 25 min).

Params: ``min_cluster_size`` (galaxies, or a fraction 0 < f < 1 of the rows: one config then
serves a folder of 300 galaxies and one of 30,000); ``min_samples`` (None = min_cluster_size, as
scikit-learn);
``route`` (auto|exact|scalable); ``exact_max_n`` (50 000); scalable only: ``reduce_dims``
(auto, or a number of components).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._scale import EXACT, as_features, canonical_labels, check_fits, choose_route, log_route
from .base import ClusteringResult, Method

NAME = "hdbscan"
#: scikit-learn's Prim MST is O(N²·d) time (O(N·d) memory): minutes past ~50 000 rows.
EXACT_MAX_N = 50_000
#: fast_hdbscan took 220 s on 100 000 × 64 (2 busy cores) and grows faster than N: the
#: scalable route projects onto this many principal components first (0 = never), fewer
#: above LARGE_N rows, where the k-d tree's cost in 16 dimensions dominates.
REDUCE_DIMS = 16
REDUCE_DIMS_LARGE = 8
LARGE_N = 200_000


def reduce_dims(params: Mapping[str, Any], n: int) -> int:
    """Principal components the scalable route clusters on (``reduce_dims``; auto by N)."""
    setting = params.get("reduce_dims", "auto")
    if setting == "auto":
        return REDUCE_DIMS if n <= LARGE_N else REDUCE_DIMS_LARGE
    return int(setting)


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """``exact`` up to ``exact_max_n`` rows (route auto), else ``scalable``."""
    return choose_route(NAME, params, n, EXACT_MAX_N)


def min_cluster_size(params: Mapping[str, Any], n: int) -> int:
    """The smallest cluster in galaxies: ``min_cluster_size`` as given, or for a fraction
    0 < f < 1 that share of the n rows (at least 2)."""
    value = float(params["min_cluster_size"])
    return max(2, round(value * n)) if 0 < value < 1 else int(value)


def min_samples(params: Mapping[str, Any], n: int) -> int:
    """Core-distance neighbours: ``min_samples``, else the smallest cluster's size (scikit-learn's
    rule); at most n - 1, so that one config also runs on a folder of a few galaxies."""
    ms = params.get("min_samples")
    return max(1, min(min_cluster_size(params, n) if ms is None else int(ms), n - 1))


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Peak bytes of :func:`fit` on n × d float32 for the route it takes."""
    ms = min_samples(params, n)
    if route(params, n, d) == EXACT:
        # copy=True float64 copy, tree, core-distance query (n × min_samples), MST, tree arrays
        return int(n * d * 4 + 2 * n * d * 8 + 16 * n * ms + 200 * n)
    dims = min(d, reduce_dims(params, n) or d)
    # input, fast_hdbscan's float32 copy and tree, k-NN (n × min_samples), MST and condensed tree
    return int(n * d * 4 + 2 * n * dims * 4 + 24 * n * ms + 400 * n)


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    """HDBSCAN of the rows of X with ``params['min_cluster_size']``."""
    from sklearn.cluster import HDBSCAN
    X = as_features(X)
    n, d = X.shape
    mcs, ms = min_cluster_size(params, n), min_samples(params, n)
    chosen = route(params, n, d)
    check_fits(NAME, chosen, memory_bytes(n, d, params), n, params.get("available_bytes"))
    # the sizes used, in galaxies (a fractional setting resolves against this feature set's N)
    info: dict[str, Any] = {"route": chosen, "min_cluster_size": mcs, "min_samples": ms}
    if chosen == EXACT:
        log_route(NAME, chosen, n, d, f"min_cluster_size {mcs}, min_samples {ms}")
        labels = HDBSCAN(min_cluster_size=mcs, min_samples=ms, copy=True).fit_predict(X)
        return ClusteringResult(np.asarray(labels, dtype=np.int64), info)
    import fast_hdbscan

    dims = reduce_dims(params, n)
    Z = X
    if dims and dims < d:
        from sklearn.decomposition import PCA

        Z = PCA(n_components=dims, svd_solver="randomized", random_state=seed).fit_transform(X)
        info["reduced_dims"] = dims
    log_route(NAME, chosen, n, d, "fast_hdbscan" + (f" on {dims} principal components" if "reduced_dims" in info else "")
              + f", min_cluster_size {mcs}, min_samples {ms}")
    labels = fast_hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=ms).fit_predict(
        np.ascontiguousarray(Z, dtype=np.float32)
    )
    return ClusteringResult(canonical_labels(labels), info)


def assigner(X: np.ndarray, labels: np.ndarray, params: Mapping[str, Any], outlier_quantile: float, seed: int,
             index: Any) -> Any:
    """HDBSCAN's approximate predict (mutual reachability to the reference galaxies), with the
    job's own ``min_samples``."""
    from ..assign import HDBSCANAssigner

    ms = min_samples(params, len(X)) if "min_cluster_size" in params else int(params.get("min_samples") or 5)
    return HDBSCANAssigner(ms, outlier_quantile=outlier_quantile, seed=seed).fit(X, labels, index)


METHOD = Method(
    name=NAME,
    setting="min_cluster_size",
    tag="m",
    fit=fit,
    memory_bytes=memory_bytes,
    route=route,
    at_most_n=True,
    assigner=assigner,
    description="HDBSCAN (scikit-learn); fast_hdbscan (optionally on PCA) past exact_max_n",
)
