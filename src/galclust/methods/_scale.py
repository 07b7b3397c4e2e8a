"""Shared pieces of the clustering methods' two routes: exact (the scikit-learn call the
reference study used) and scalable (micro-clusters, k-NN graphs) for survey-sized N.

Memory is stated per function as a function of N rows and d features; nothing here builds
an N × N array.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError

log = logging.getLogger(__name__)

EXACT = "exact"
SCALABLE = "scalable"


def as_features(X: np.ndarray) -> np.ndarray:
    """The array the methods cluster: float32 kept as it is (affinity propagation's
    tie-breaking noise is dtype-scaled, so the reference labels need float32), else float64.
    Same rule as :func:`galclust.cluster.fit_predict`."""
    X = np.asarray(X)
    if X.dtype != np.float32:
        X = X.astype(np.float64)
    return X


def choose_route(method: str, params: Mapping[str, Any], n: int, default_exact_max_n: int) -> str:
    """``exact`` or ``scalable`` for ``n`` rows, from ``params['route']`` (auto|exact|scalable)
    and ``params['exact_max_n']`` (auto takes exact up to and including that many rows); the
    config schema allows only those three."""
    route = params.get("route", "auto")
    if route != "auto":
        return str(route)
    return EXACT if n <= int(params.get("exact_max_n", default_exact_max_n)) else SCALABLE


def available_memory_bytes() -> int:
    """Memory this process may still use: ``MemAvailable`` (Linux), else total RAM."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_fits(
    method: str,
    route: str,
    needed_bytes: int,
    n: int,
    available_bytes: int | None = None,
) -> None:
    """Raise :class:`ConfigError` when the exact route cannot fit in memory.

    One line naming N, the bytes needed and the config key that selects the scalable route.
    The scalable route is never refused here: its memory grows linearly in N.
    """
    if route != EXACT:
        return
    available = available_memory_bytes() if available_bytes is None else int(available_bytes)
    if needed_bytes > available:
        raise ConfigError(
            f"{method}: the exact route on N={n} rows needs {needed_bytes / 2**30:.2f} GiB "
            f"({needed_bytes} bytes) but {available / 2**30:.2f} GiB are available; "
            f"set clustering.{method}.route: scalable (or auto with a smaller "
            f"clustering.{method}.exact_max_n)"
        )


def log_route(method: str, route: str, n: int, d: int, detail: str = "") -> None:
    """Say which route a fit takes (and why, when scalable)."""
    log.info("%s: %s route on %d x %d%s", method, route, n, d, f" ({detail})" if detail else "")


def microclusters(
    X: np.ndarray, n_micro: int, seed: int, max_iter: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Summarise the rows of X by ``n_micro`` k-means centroids.

    Returns ``(centres (m × d, float64), weights (m, int64 member counts), assignment (n,
    int64))``; empty micro-clusters are dropped and the assignment renumbered, so every
    weight is ≥ 1. Seeded random-row initialisation and a few Lloyd passes: the summary
    only has to be fine, not optimal, and k-means++ with m ~ 10⁴ would cost more than the
    passes. Memory: the input plus O(n + m·d) and scikit-learn's per-thread chunk buffers
    (256 × m per thread); time O(max_iter · n · m · d).
    """
    from sklearn.cluster import KMeans

    n = len(X)
    m = int(min(n_micro, n))
    if m == n:
        # Every row its own micro-cluster: the scalable route then reduces to the exact one.
        return np.asarray(X, dtype=np.float64), np.ones(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    km = KMeans(n_clusters=m, init="random", n_init=1, max_iter=max_iter, random_state=seed)
    assign = km.fit_predict(X).astype(np.int64)
    weights = np.bincount(assign, minlength=m)
    kept = np.flatnonzero(weights)
    renumber = np.full(m, -1, dtype=np.int64)
    renumber[kept] = np.arange(len(kept))
    # Centres recomputed from the final assignment, in float64, so they are the true means.
    centres = np.zeros((m, X.shape[1]), dtype=np.float64)
    np.add.at(centres, assign, X) if n < 50_000 else _add_rows_chunked(centres, assign, X)
    centres = centres[kept] / weights[kept, None]
    return centres, weights[kept].astype(np.int64), renumber[assign]


def _add_rows_chunked(out: np.ndarray, index: np.ndarray, X: np.ndarray) -> None:
    """``out[index[i]] += X[i]`` for all rows, via sorted segments (≤ 16 MiB blocks)."""
    chunk = max(1024, 2**24 // (8 * X.shape[1]))
    for start in range(0, len(X), chunk):
        idx = index[start : start + chunk]
        block = np.asarray(X[start : start + chunk], dtype=np.float64)
        order = np.argsort(idx, kind="stable")
        idx_sorted = idx[order]
        bounds = np.flatnonzero(np.diff(idx_sorted)) + 1
        starts = np.concatenate(([0], bounds))
        sums = np.add.reduceat(block[order], starts, axis=0)
        out[idx_sorted[starts]] += sums


def canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber non-noise labels 0, 1, ... in order of first appearance (noise stays -1),
    so a route's labels do not depend on internal cluster numbering."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(len(labels), -1, dtype=np.int64)
    kept = labels >= 0
    if kept.any():
        values, first = np.unique(labels[kept], return_index=True)
        rank = np.empty(len(values), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(values))
        out[kept] = rank[np.searchsorted(values, labels[kept])]
    return out


def knn(
    X: np.ndarray, k: int, seed: int, n_lists: int | None = None, n_probe: int = 8, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours of every row (itself included, first), inverted-file search.

    Rows are bucketed by ``n_lists`` seeded k-means centroids (default √n); the rows of a
    bucket search the buckets of the ``n_probe`` centroids nearest to their own centroid,
    so the result is exact when every true neighbour lies there (nearly always on clustered
    data; it is an approximation, like faiss' IVF-Flat). Deterministic for a seed.
    Returns ``(distances (n × k, float32, Euclidean), indices (n × k, int64))``.
    Memory: 12·n·k bytes for the result plus one block of (bucket rows × candidate rows)
    distances; time O(n · n_probe · (n / n_lists) · d).
    """
    from sklearn.metrics import pairwise_distances

    n = len(X)
    k = int(min(k, n))
    if n_lists is None:
        n_lists = max(1, int(np.sqrt(n)))
    n_lists = min(n_lists, n)
    n_probe = min(n_probe, n_lists)
    centres, _, bucket = microclusters(X, n_lists, seed, max_iter=5)
    n_lists = len(centres)
    n_probe = min(n_probe, n_lists)
    cd = pairwise_distances(centres, centres, metric="sqeuclidean")
    probe = np.argsort(cd, axis=1, kind="stable")[:, :n_probe]
    order = np.argsort(bucket, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(bucket, minlength=n_lists))))
    dist = np.empty((n, k), dtype=np.float32)
    ind = np.empty((n, k), dtype=np.int64)
    sq = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    for b in range(n_lists):
        rows = order[bounds[b] : bounds[b + 1]]
        if len(rows) == 0:
            continue
        cand = np.concatenate([order[bounds[c] : bounds[c + 1]] for c in probe[b]])
        cand.sort()
        Xc = np.asarray(X[cand], dtype=np.float64)
        for s in range(0, len(rows), chunk):
            r = rows[s : s + chunk]
            Xr = np.asarray(X[r], dtype=np.float64)
            d2 = sq[r, None] - 2.0 * (Xr @ Xc.T) + sq[None, cand]
            # A row is its own nearest neighbour: exact zero, whatever rounding says.
            d2[r[:, None] == cand[None, :]] = -1.0
            kk = min(k, len(cand))
            part = np.argpartition(d2, kk - 1, axis=1)[:, :kk]
            pd = np.take_along_axis(d2, part, axis=1)
            # Sort by distance, ties by index, for determinism.
            o = np.lexsort((cand[part], pd), axis=1)
            part = np.take_along_axis(part, o, axis=1)
            pd = np.take_along_axis(pd, o, axis=1)
            got = cand[part]
            if kk < k:  # fewer candidates than k: pad with the farthest found
                got = np.concatenate([got, np.repeat(got[:, -1:], k - kk, axis=1)], axis=1)
                pd = np.concatenate([pd, np.repeat(pd[:, -1:], k - kk, axis=1)], axis=1)
            ind[r] = got
            dist[r] = np.sqrt(np.clip(pd, 0.0, None))
    return dist, ind


def knn_bytes(n: int, d: int, k: int, n_lists: int | None = None, n_probe: int = 8, chunk: int = 2048) -> int:
    """Peak bytes of :func:`knn` beyond its input (result, buckets, one distance block)."""
    n_lists = max(1, int(np.sqrt(n))) if n_lists is None else n_lists
    per_bucket = max(1.0, n / n_lists)
    cand = min(n, per_bucket * min(n_probe, n_lists) * 2)  # buckets are uneven: allow 2×
    rows = min(chunk, per_bucket * 2)
    block = rows * cand * 8 * 4  # d2, its mask, argpartition temporaries
    return int(n * k * 12 + n * 8 * 4 + cand * d * 8 + block + n_lists**2 * 16)


def check_method_fits(
    method: Any, n: int, d: int, params: Mapping[str, Any], available_bytes: int | None = None
) -> None:
    """:func:`check_fits` for a :class:`~galclust.methods.base.Method` entry: what the
    workflow can call when it plans a job, before any data is read."""
    check_fits(method.name, method.route(params, n, d), method.memory_bytes(n, d, params), n, available_bytes)
