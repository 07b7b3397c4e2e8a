"""Affinity propagation: scikit-learn's (three N × N matrices) below ``exact_max_n``;
above it, AP on k-means micro-cluster centroids with weighted similarities, each row
taking its micro-cluster's exemplar.

Weighted similarity: a micro-cluster i of w_i rows choosing exemplar k costs about
``w_i·‖c_i − c_k‖²`` (plus w_i times its own scatter, a per-row constant AP ignores), while
the preference (the price of one exemplar) stays that of one row: the median of the rows'
pairwise negative squared distances, as scikit-learn's default, estimated from a seeded
sample of pairs. So the number of exemplars is roughly what AP on all rows would pick.

With a fixed preference the number of clusters grows with N (a split that saves each of s
rows a little pays for one more exemplar once s is large), on both routes: on a 30-Gaussian
mixture (bench/bench_scale.py) the median preference recovers them at 10⁴ rows (ARI 1.000
scalable, 0.822 exact) and splits them more and more above (0.548 at 10⁵, 0.017 at 10⁶);
a lower ``preference`` (a number) gives fewer clusters.

Params: ``damping``; ``preference`` (median, or a number); ``max_iter`` (200); ``convergence_iter`` (15); ``route``
(auto|exact|scalable); ``exact_max_n`` (20 000); scalable only: ``n_microclusters``
(5 000), ``micro_iter`` (3), ``preference_pairs`` (1 000 000 sampled pairs).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.cluster import AffinityPropagation

from ._scale import EXACT, as_features, canonical_labels, check_fits, choose_route, log_route, microclusters
from .base import ClusteringResult, Method

NAME = "affinity_propagation"
log = logging.getLogger(__name__)
#: scikit-learn holds similarity, availability, responsibility and a temporary: 4·N² floats.
EXACT_MAX_N = 20_000
N_MICRO = 5_000
_CHUNK_BYTES = 2**24  # rows of sampled pairs held at once (float64)


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """``exact`` up to ``exact_max_n`` rows (route auto), else ``scalable``."""
    return choose_route(NAME, params, n, EXACT_MAX_N)


def _ap_bytes(m: int, itemsize: int) -> int:
    # S, A, R, tmp of the input's dtype, plus the float64 noise and its product at the start.
    return int(m * m * (4 * itemsize + 16))


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Peak bytes of :func:`fit` on n × d float32 for the route it takes."""
    if route(params, n, d) == EXACT:
        return int(n * d * 4 + _ap_bytes(n, 4) + 16 * n * int(params.get("convergence_iter", 15)))
    m = min(int(params.get("n_microclusters", N_MICRO)), n)
    pairs = int(params.get("preference_pairs", 1_000_000))
    # input and k-means' three copies, m × m AP matrices in float64, the sampled pairs
    # the preference's sampled pairs are freed before AP runs: the larger of the two counts
    return int(4 * n * d * 4 + 48 * n + 6 * m * d * 8 + max(_ap_bytes(m, 8), 24 * pairs + 2 * _CHUNK_BYTES))


def _preference(X: np.ndarray, n_pairs: int, seed: int) -> float:
    """Median of −‖x_i − x_j‖² over rows i, j (scikit-learn's default preference; its
    median includes the zero diagonal, which a sample of pairs with i = j allowed mirrors)."""
    rng = np.random.default_rng(seed)
    n = len(X)
    i = rng.integers(0, n, n_pairs)
    j = rng.integers(0, n, n_pairs)
    out = np.empty(n_pairs)
    step = max(1, _CHUNK_BYTES // (8 * X.shape[1]))
    for s in range(0, n_pairs, step):
        diff = np.asarray(X[i[s : s + step]], dtype=np.float64) - X[j[s : s + step]]
        out[s : s + step] = -np.einsum("ij,ij->i", diff, diff)
    return float(np.median(out))


def _given_preference(params: Mapping[str, Any]) -> float | None:
    """The configured preference, or None for the median (scikit-learn's default)."""
    value = params.get("preference", "median")
    return None if value == "median" else float(value)


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    """Affinity propagation on the rows of X with ``params['damping']``."""
    X = as_features(X)
    n, d = X.shape
    max_iter = int(params.get("max_iter", 200))
    chosen = route(params, n, d)
    check_fits(NAME, chosen, memory_bytes(n, d, params), n, params.get("available_bytes"))
    if chosen == EXACT:
        log_route(NAME, chosen, n, d)
        given = _given_preference(params)
        ap = AffinityPropagation(
            damping=params["damping"],
            max_iter=max_iter,
            convergence_iter=int(params.get("convergence_iter", 15)),
            random_state=seed,
            **({} if given is None else {"preference": given}),  # else scikit-learn's median
        ).fit(X)
        labels = np.asarray(ap.labels_, dtype=np.int64)
        info = {"route": chosen, "n_iter": int(ap.n_iter_), "converged": bool(ap.n_iter_ < max_iter)}
        return ClusteringResult(labels, info, np.asarray(ap.cluster_centers_))
    n_micro = int(params.get("n_microclusters", N_MICRO))
    log_route(NAME, chosen, n, d, f"AP on {min(n_micro, n)} weighted k-means micro-clusters")
    centres, weights, assign = microclusters(X, n_micro, seed, int(params.get("micro_iter", 3)))
    given = _given_preference(params)
    pref = given if given is not None else _preference(X, int(params.get("preference_pairs", 1_000_000)), seed)
    sq = np.einsum("ij,ij->i", centres, centres)
    S = centres @ centres.T
    S *= 2.0
    S -= sq[:, None]
    S -= sq[None, :]
    np.minimum(S, 0.0, out=S)
    S *= weights[:, None]  # row i: w_i members pay for the exemplar they choose
    ap = AffinityPropagation(
        damping=params["damping"],
        max_iter=max_iter,
        convergence_iter=int(params.get("convergence_iter", 15)),
        affinity="precomputed",
        preference=pref,
        random_state=seed,
    ).fit(S)
    del S
    micro = np.asarray(ap.labels_, dtype=np.int64)
    labels = canonical_labels(micro[assign]) if (micro >= 0).all() else micro[assign]
    converged = bool(ap.n_iter_ < max_iter)
    if not converged:
        log.warning("%s: affinity propagation did not converge in %d iterations", NAME, ap.n_iter_)
    info = {
        "route": chosen,
        "n_iter": int(ap.n_iter_),
        "converged": converged,
        "n_microclusters": int(len(centres)),
        "preference": pref,
    }
    exemplars = centres[np.asarray(ap.cluster_centers_indices_, dtype=np.int64)] if len(ap.cluster_centers_indices_) else None
    return ClusteringResult(labels, info, exemplars)


METHOD = Method(
    name=NAME,
    setting="damping",
    tag="d",
    fit=fit,
    memory_bytes=memory_bytes,
    route=route,
    description="affinity propagation (scikit-learn); weighted AP on k-means micro-clusters past exact_max_n",
)
