"""Ward linkage on weighted points (micro-cluster centroids with member counts), which
scikit-learn and scipy do not offer (their ward takes every row with weight 1).

Nearest-neighbour chain (numba): Ward's criterion is reducible, so the chain finds the same merges
as the greedy algorithm, with O(m·d) memory and O(m²·d) time for m points.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _nn_chain(c: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The m − 1 merges (a, b, cost) of weighted Ward by nearest-neighbour chain; c and w
    are updated in place (a merged cluster lives on in the smaller slot)."""
    m, d = c.shape
    active = np.ones(m, dtype=np.bool_)
    chain = np.empty(m, dtype=np.int64)
    ma = np.empty(m - 1, dtype=np.int64)
    mb = np.empty(m - 1, dtype=np.int64)
    mh = np.empty(m - 1, dtype=np.float64)
    top = 0
    done = 0
    first = 0
    while done < m - 1:
        if top == 0:
            while not active[first]:
                first += 1
            chain[0] = first
            top = 1
        a = chain[top - 1]
        prev = chain[top - 2] if top > 1 else -1
        best = np.inf
        b = -1
        for j in range(m):
            if not active[j] or j == a:
                continue
            s = 0.0
            for t in range(d):
                diff = c[j, t] - c[a, t]
                s += diff * diff
            cost = s * (w[a] * w[j] / (w[a] + w[j]))
            # Prefer the previous chain element on ties, or the chain can cycle.
            if cost < best or (cost == best and j == prev):
                best = cost
                b = j
        if b == prev:
            top -= 2
            ma[done] = a
            mb[done] = b
            mh[done] = best
            done += 1
            keep = min(a, b)
            drop = max(a, b)
            total = w[a] + w[b]
            for t in range(d):
                c[keep, t] = (w[a] * c[a, t] + w[b] * c[b, t]) / total
            w[keep] = total
            active[drop] = False
        else:
            chain[top] = b
            top += 1
    return ma, mb, mh


def ward_cut(centres: np.ndarray, weights: np.ndarray, n_clusters: int) -> np.ndarray:
    """Labels (0..n_clusters-1) of m weighted points cut from the Ward dendrogram.

    The merge cost of clusters A and B is ``w_A·w_B/(w_A+w_B)·‖c_A − c_B‖²``, the increase
    in within-cluster sum of squares, exactly as if every member were a row. Memory
    O(m·d); time O(m²·d).
    """
    c = np.array(centres, dtype=np.float64, copy=True)
    w = np.asarray(weights, dtype=np.float64).copy()
    m = len(c)
    if n_clusters >= m:
        return np.arange(m, dtype=np.int64)
    ma, mb, mh = _nn_chain(c, w)
    # Reducibility makes heights monotone along the tree, so the first m − n_clusters merges
    # by height are exactly the cut.
    merges = sorted(zip(mh.tolist(), ma.tolist(), mb.tolist()), key=lambda t: t[0])
    parent = np.arange(m)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for _, a, b in merges[: m - n_clusters]:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(m)])
    _, labels = np.unique(roots, return_inverse=True)
    return labels.astype(np.int64)


def ward_linkage(centres: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """scipy-format linkage (m − 1, 4) of weighted Ward on m points: merged ids, height, points.

    Heights are scipy's Ward distances, ``sqrt(2 · w_A·w_B/(w_A+w_B)·‖c_A − c_B‖²)``, which for
    unit weights is exactly ``scipy.cluster.hierarchy.linkage(X, "ward")``; the fourth column
    counts the m points under each merge, as scipy's does (the rows they stand for are the
    sums of their weights). Memory O(m·d).
    """
    c = np.array(centres, dtype=np.float64, copy=True)
    w = np.asarray(weights, dtype=np.float64).copy()
    m = len(c)
    if m < 2:
        raise ValueError(f"a linkage needs at least 2 points; got {m}")
    ma, mb, mh = _nn_chain(c, w)
    # stable sort by height: the chain's discovery order already respects each merge's inputs
    order = np.argsort(mh, kind="mergesort")
    parent = np.arange(m)
    cluster = np.arange(m)  # root slot -> its scipy cluster id
    size = np.ones(m)
    z = np.empty((m - 1, 4), dtype=np.float64)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for row, t in enumerate(order):
        ra, rb = find(int(ma[t])), find(int(mb[t]))
        ia, ib = cluster[ra], cluster[rb]
        z[row] = (min(ia, ib), max(ia, ib), np.sqrt(2.0 * max(mh[t], 0.0)), size[ra] + size[rb])
        keep, drop = min(ra, rb), max(ra, rb)
        parent[drop] = keep
        size[keep] = size[ra] + size[rb]
        cluster[keep] = m + row
    return z
