"""DBSCAN: scikit-learn's below ``exact_max_n``; above it, DBSCAN on a k-NN graph.

Scalable route: the ``graph_k`` nearest neighbours of every row (inverted-file search,
:func:`._scale.knn`). A row is core when its ``min_samples``-th neighbour (itself counted,
as scikit-learn counts it) lies within ``eps`` — exact given the neighbours. Core rows
joined by a k-NN edge of length ≤ eps form the clusters (connected components); a
non-core row within eps of a core row joins the nearest one's cluster, else it is noise.
Border rows are exact (all their eps-neighbours are among their min_samples nearest); two
core rows only eps-connected through more than ``graph_k`` nearer neighbours can end up
apart, so ``graph_k`` trades memory (12·N·graph_k bytes) for fidelity in dense regions.
Nothing N × N is built, and no radius query has an unbounded result.

``eps: auto`` takes eps from the data: the knee of the sorted distances of (a seeded sample
of up to ``knee_sample`` rows) to their ``min_samples``-th nearest row, itself counted (Ester
et al.'s k-distance graph; the knee is the point farthest below the chord joining the
curve's ends, as in Kneedle). The eps chosen is logged and written to ``metrics.json``.

Params: ``eps`` (a number, or ``auto``); ``min_samples`` (5); ``knee_sample`` (20 000); ``route`` (auto|exact|scalable); ``exact_max_n``
(20 000); scalable only: ``graph_k`` (max(2·min_samples, 20)), ``n_probe`` (8).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..sampling import seeded_rows
from ._scale import EXACT, as_features, canonical_labels, check_fits, choose_route, knn, knn_bytes, log_route
from .base import NOISE, ClusteringResult, Method

NAME = "dbscan"
log = logging.getLogger(__name__)
#: scikit-learn keeps every row's radius neighbourhood: memory grows with density × N
#: (2.75 GiB measured at 100 000 × 64, 30 clusters, eps 11), so auto leaves it early.
EXACT_MAX_N = 20_000
#: assumed mean eps-neighbourhood size for the exact route's prediction (density decides it)
EXPECTED_NEIGHBOURS = 200
AUTO = "auto"
KNEE_SAMPLE = 20_000


def _graph_k(params: Mapping[str, Any]) -> int:
    ms = int(params.get("min_samples", 5))
    return int(params.get("graph_k", max(2 * ms, 20)))


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """``exact`` up to ``exact_max_n`` rows (route auto), else ``scalable``."""
    return choose_route(NAME, params, n, EXACT_MAX_N)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Peak bytes of :func:`fit` on n × d float32 for the route it takes. The exact route's
    neighbourhood lists depend on density: ``expected_neighbours`` (200) per row is assumed."""
    if route(params, n, d) == EXACT:
        # scikit-learn's radius query runs in 256-row chunks; the neighbourhood lists
        # (index + distance per neighbour) are what grows
        nb = int(params.get("expected_neighbours", EXPECTED_NEIGHBOURS))
        return int(n * d * 4 + 16 * n * nb + 256 * n * 8 + 64 * n)
    k = _graph_k(params)
    return int(4 * n * d * 4 + knn_bytes(n, d, k, n_probe=int(params.get("n_probe", 8))) + 48 * n * k)


def knee_eps(X: np.ndarray, min_samples: int, seed: int, sample: int = KNEE_SAMPLE) -> float:
    """eps at the knee of the sorted ``min_samples``-distance curve of a seeded row sample.

    Memory: the sample's k-NN search against all rows, blocks of 2048 × n distances at most
    (scikit-learn's chunked brute force), so O(sample · k) results.
    """
    from sklearn.neighbors import NearestNeighbors  # noqa: PLC0415

    n = len(X)
    k = min(min_samples, n)
    dist, _ = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X[seeded_rows(n, sample, seed)])  # the row itself first
    curve = np.sort(dist[:, k - 1].astype(np.float64))
    if curve[-1] <= curve[0]:
        if curve[-1] > 0:
            return float(curve[-1])
        raise ValueError("eps auto: every galaxy's neighbours are at distance 0 (identical features)")
    x = np.linspace(0.0, 1.0, len(curve))
    y = (curve - curve[0]) / (curve[-1] - curve[0])
    knee = int(np.argmax(x - y))  # farthest below the chord of a convex, rising curve
    eps = float(curve[knee])
    return eps if eps > 0 else float(curve[curve > 0][0])


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    """DBSCAN of the rows of X with ``params['eps']`` (or its knee, ``auto``) and ``min_samples``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from sklearn.cluster import DBSCAN
    X = as_features(X)
    n, d = X.shape
    min_samples = int(params.get("min_samples", 5))
    auto = params["eps"] == AUTO
    eps = knee_eps(X, min_samples, seed, int(params.get("knee_sample", KNEE_SAMPLE))) if auto else float(params["eps"])
    if auto:
        log.info("%s: eps auto -> %.6g (knee of the %d-distance curve)", NAME, eps, min_samples)
    extra = {"eps": eps, "eps_from": "knee of the k-distance curve" if auto else "config"}
    chosen = route(params, n, d)
    check_fits(NAME, chosen, memory_bytes(n, d, params), n, params.get("available_bytes"))
    if chosen == EXACT:
        log_route(NAME, chosen, n, d)
        labels = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(X)
        return ClusteringResult(np.asarray(labels, dtype=np.int64), {"route": chosen, **extra})
    k = max(_graph_k(params), min_samples)
    log_route(NAME, chosen, n, d, f"components of core rows on the {k}-NN graph")
    dist, ind = knn(X, k, seed, n_probe=int(params.get("n_probe", 8)))
    core = dist[:, min_samples - 1] <= eps if min_samples <= k else np.zeros(n, dtype=bool)
    within = dist <= eps
    rows = np.repeat(np.arange(n), k)
    cols = ind.ravel()
    edge = (within.ravel() & core[rows] & core[cols])
    graph = coo_matrix((np.ones(int(edge.sum()), dtype=np.int8), (rows[edge], cols[edge])), shape=(n, n))
    _, comp = connected_components(graph.tocsr(), directed=False)
    labels = np.full(n, NOISE, dtype=np.int64)
    labels[core] = comp[core]
    # Border rows: the nearest core neighbour within eps (neighbours are sorted by distance).
    border_ok = within & core[ind]
    border = ~core & border_ok.any(axis=1)
    first = np.argmax(border_ok[border], axis=1)
    labels[border] = comp[ind[border, first]]
    labels = canonical_labels(labels)
    info = {"route": chosen, "graph_k": k, "n_core": int(core.sum()), **extra}
    return ClusteringResult(labels, info)


METHOD = Method(
    name=NAME,
    setting="eps",
    tag="eps",
    fit=fit,
    memory_bytes=memory_bytes,
    route=route,
    description="DBSCAN (scikit-learn); core-row components on a k-NN graph past exact_max_n",
)
