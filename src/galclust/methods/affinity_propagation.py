"""Affinity propagation: scikit-learn's (three N × N matrices) below ``exact_max_n``;
above it the scalable route, in one of two ways:

* up to ``partition_max_n`` rows (200,000): **partitions** — k-means cuts the rows into parts
  of about ``part_size`` (2,500; none above 1.5 times that), and scikit-learn's exact AP runs in
  each part with the global preference. AP's decisions inside a group of similar galaxies
  depend on those galaxies and the preference, so the parts reproduce the exact answer where
  parts do not cut a group (ARI 0.97 against the exact labels on a 20,000-row mixture, where
  the micro-cluster way gets 0.62; ``bench/ap_stability.py``). Memory: one part's 4·s² floats;
  time: linear in N (parts × s²).
* above: **micro-clusters** — AP on k-means micro-cluster centroids with weighted
  similarities, each row taking its micro-cluster's exemplar (memory and time bounded by
  ``n_microclusters``, whatever N).

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
(auto|exact|scalable); ``exact_max_n`` (20 000); scalable only: ``partition_max_n`` (200 000),
``part_size`` (2 500), ``n_microclusters`` (5 000), ``micro_iter`` (3), ``preference_pairs``
(1 000 000 sampled pairs).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._scale import EXACT, SCALABLE, as_features, canonical_labels, check_fits, choose_route, log_route, microclusters
from .base import ClusteringResult, Method

NAME = "affinity_propagation"
log = logging.getLogger(__name__)
#: scikit-learn holds similarity, availability, responsibility and a temporary: 4·N² floats.
EXACT_MAX_N = 20_000
N_MICRO = 5_000
PARTITION_MAX_N = 200_000
PART_SIZE = 2_500
MAX_PART = 1.5  #: no part above this many times part_size (a larger one is cut again)
_CHUNK_BYTES = 2**24  # rows of sampled pairs held at once (float64)


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """``exact`` up to ``exact_max_n`` rows (route auto), else ``scalable``."""
    return choose_route(NAME, params, n, EXACT_MAX_N)


def _ap_bytes(m: int, itemsize: int) -> int:
    # S, A, R, tmp of the input's dtype, plus the float64 noise and its product at the start.
    return int(m * m * (4 * itemsize + 16))


def by_partitions(params: Mapping[str, Any], n: int) -> bool:
    """Whether the scalable route runs exact AP in parts (else on micro-clusters)."""
    return n <= int(params.get("partition_max_n", PARTITION_MAX_N))


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Peak bytes of :func:`fit` on n × d float32 for the route it takes."""
    convergence = 16 * int(params.get("convergence_iter", 15))
    if route(params, n, d) == EXACT:
        return int(n * d * 4 + _ap_bytes(n, 4) + convergence * n)
    if by_partitions(params, n):
        s = min(n, int(MAX_PART * int(params.get("part_size", PART_SIZE))))
        pairs = int(params.get("preference_pairs", 1_000_000))
        # input, k-means' copies and assignment, one part (its rows, AP matrices in float32)
        return int(4 * n * d * 4 + 48 * n + s * d * 8 + max(_ap_bytes(s, 4) + convergence * s,
                                                            24 * pairs + 2 * _CHUNK_BYTES))
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
    from sklearn.cluster import AffinityPropagation
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
    if by_partitions(params, n):
        return _fit_in_parts(X, params, seed, max_iter)
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
        "scalable_as": "microclusters",
        "n_iter": int(ap.n_iter_),
        "converged": converged,
        "n_microclusters": int(len(centres)),
        "preference": pref,
    }
    exemplars = centres[np.asarray(ap.cluster_centers_indices_, dtype=np.int64)] if len(ap.cluster_centers_indices_) else None
    return ClusteringResult(labels, info, exemplars)


def partitions(X: np.ndarray, part_size: int, seed: int) -> list[np.ndarray]:
    """Row indices of k-means parts of about ``part_size`` rows, none above :data:`MAX_PART`
    times that (a larger part is cut again), in a deterministic order."""
    todo, parts = [np.arange(len(X))], []
    while todo:
        rows = todo.pop()
        if len(rows) <= MAX_PART * part_size:
            parts.append(rows)
            continue
        k = int(np.ceil(len(rows) / part_size))
        _, _, assign = microclusters(X[rows], k, seed, max_iter=10)
        if assign.max() == 0:  # identical rows: k-means cannot cut them; split by position
            todo += [chunk for chunk in np.array_split(rows, k)]
            continue
        todo += [rows[assign == p] for p in range(int(assign.max()) + 1)]
    return sorted(parts, key=lambda r: int(r[0]))


def _fit_in_parts(X: np.ndarray, params: Mapping[str, Any], seed: int, max_iter: int) -> ClusteringResult:
    """Exact AP in each k-means part, with the preference of all rows."""
    from sklearn.cluster import AffinityPropagation
    n, d = X.shape
    part_size = int(params.get("part_size", PART_SIZE))
    parts = partitions(X, part_size, seed)
    log_route(NAME, SCALABLE, n, d, f"exact AP in {len(parts)} k-means parts of ≤ {int(MAX_PART * part_size)} rows")
    given = _given_preference(params)
    pref = given if given is not None else _preference(X, int(params.get("preference_pairs", 1_000_000)), seed)
    labels = np.empty(n, dtype=np.int64)
    exemplars, n_iter, converged, offset = [], 0, True, 0
    for rows in parts:
        if len(rows) == 1:
            labels[rows] = offset
            exemplars.append(X[rows])
            offset += 1
            continue
        ap = AffinityPropagation(
            damping=params["damping"],
            max_iter=max_iter,
            convergence_iter=int(params.get("convergence_iter", 15)),
            preference=pref,
            random_state=seed,
        ).fit(X[rows])
        part_labels = np.asarray(ap.labels_, dtype=np.int64)
        if (part_labels < 0).any():  # did not converge to exemplars: the part is one cluster
            part_labels[:] = 0
            exemplars.append(X[rows].mean(axis=0, keepdims=True))
        else:
            exemplars.append(np.asarray(ap.cluster_centers_))
        converged &= bool(ap.n_iter_ < max_iter)
        n_iter = max(n_iter, int(ap.n_iter_))
        labels[rows] = part_labels + offset
        offset += int(part_labels.max()) + 1
    if not converged:
        log.warning("%s: affinity propagation did not converge in %d iterations in some part", NAME, max_iter)
    relabelled = canonical_labels(labels)
    _, first = np.unique(labels, return_index=True)
    order = relabelled[first]  # part-wise label -> canonical label
    info = {"route": SCALABLE, "scalable_as": "partitions", "n_parts": len(parts),
            "largest_part": int(max(len(r) for r in parts)), "n_iter": n_iter, "converged": converged,
            "preference": pref}
    return ClusteringResult(relabelled, info, np.concatenate(exemplars)[np.argsort(order)])


METHOD = Method(
    name=NAME,
    setting="damping",
    tag="d",
    fit=fit,
    memory_bytes=memory_bytes,
    route=route,
    description="affinity propagation (scikit-learn); past exact_max_n exact AP in k-means parts, "
                "then weighted AP on k-means micro-clusters past partition_max_n",
)
