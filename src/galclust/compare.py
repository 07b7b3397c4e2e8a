"""Agreement between clusterings, and between clusterings and known truth (ARI, AMI)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score


def align(labelings: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Restrict labelings given as (ids, labels) to their common ids, in one order."""
    common: set[str] | None = None
    for ids, _ in labelings.values():
        common = set(ids) if common is None else common & set(ids)
    order = np.array(sorted(common or ()), dtype=str)
    aligned = {}
    for name, (ids, labels) in labelings.items():
        index = {g: i for i, g in enumerate(ids)}
        aligned[name] = np.asarray(labels)[[index[g] for g in order]]
    return order, aligned


def pairwise(labelings: Mapping[str, np.ndarray], threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric ARI and AMI matrices between aligned labelings (same row order).

    ``threads``: pairs scored at once. AMI's expected mutual information (most of the time:
    80 clusterings are 3,160 pairs) runs without the GIL, so threads share it; each value is
    computed alone, so the matrices are the same whatever the number."""
    from concurrent.futures import ThreadPoolExecutor

    names = list(labelings)
    n = len(names)
    ari, ami = np.eye(n), np.eye(n)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]

    def score(pair: tuple[int, int]) -> tuple[float, float]:
        a, b = labelings[names[pair[0]]], labelings[names[pair[1]]]
        return adjusted_rand_score(a, b), adjusted_mutual_info_score(a, b)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for (i, j), (r, m) in zip(pairs, pool.map(score, pairs)):
            ari[i, j] = ari[j, i] = r
            ami[i, j] = ami[j, i] = m
    return ari, ami


def against(labelings: Mapping[str, np.ndarray], truths: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """ARI and AMI of each labeling (rows) against each truth column (columns)."""
    ari = np.array([[adjusted_rand_score(t, l) for t in truths.values()] for l in labelings.values()])
    ami = np.array([[adjusted_mutual_info_score(t, l) for t in truths.values()] for l in labelings.values()])
    return ari.reshape(len(labelings), len(truths)), ami.reshape(len(labelings), len(truths))
