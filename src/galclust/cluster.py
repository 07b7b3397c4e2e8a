"""Running a clustering job through the method registry, and the scores of a clustering.

Every method is a :class:`~galclust.methods.Method` entry (:mod:`galclust.methods`), seeded by
the config's seed alone, so the same config always gives the same labels.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from sklearn import metrics

from .config import ClusteringJob
from .errors import GalclustError
from .methods import NOISE, ClusteringResult
from .sampling import seeded_rows

log = logging.getLogger(__name__)

SILHOUETTE_SAMPLE = 5000  # silhouette is O(N²); above this a seeded sample is scored
SPECTRUM_SAMPLE = 20_000  # the eigengap's Laplacian: above this, of a seeded sample


def fit_predict(X: np.ndarray, job: ClusteringJob, seed: int) -> ClusteringResult:
    """Cluster the rows of ``X`` with the registered method of ``job``."""
    from .methods import METHODS

    method = METHODS[job.method]
    need = job.params[method.setting] if method.needs_k else 2
    if len(X) < max(2, need):
        raise GalclustError(f"{job.name}: {len(X)} galaxies are too few for {need} clusters")
    result = method.fit(np.asarray(X), job.params, seed)
    result.labels = np.asarray(result.labels, dtype=np.int64)
    result.info.setdefault("route", "exact")
    return result


def scores(X: np.ndarray, labels: np.ndarray, *, seed: int = 0,
           inertia: float | None = None) -> dict[str, float | int]:
    """Internal scores of a clustering; noise points (label -1) are left out.

    Silhouette, Calinski–Harabasz and Davies–Bouldin need ≥ 2 clusters (else NaN);
    inertia is reported where the estimator defines it (k-means).
    """
    labels = np.asarray(labels)
    kept = labels != NOISE
    n_clusters = int(len(np.unique(labels[kept])))
    out: dict[str, float | int] = {
        "n_galaxies": int(len(labels)),
        "n_clusters": n_clusters,
        "n_noise": int((~kept).sum()),
        "silhouette": math.nan,
        "calinski_harabasz": math.nan,
        "davies_bouldin": math.nan,
        "inertia": math.nan if inertia is None else float(inertia),
        # the share of galaxies in the largest cluster (noise aside): near 1, no structure was found
        "largest_fraction": float(np.bincount(labels[kept] - labels[kept].min()).max() / len(labels))
        if kept.any() else 0.0,
    }
    Xk, lk = np.asarray(X, dtype=np.float64)[kept], labels[kept]
    if 2 <= n_clusters < len(lk):
        sample = min(SILHOUETTE_SAMPLE, len(lk)) if len(lk) > SILHOUETTE_SAMPLE else None
        out["silhouette"] = float(metrics.silhouette_score(Xk, lk, sample_size=sample, random_state=seed))
        out["calinski_harabasz"] = float(metrics.calinski_harabasz_score(Xk, lk))
        out["davies_bouldin"] = float(metrics.davies_bouldin_score(Xk, lk))
    return out


#: a clustering with more noise than this, or one cluster this large, found no structure
DEGENERATE_FRACTION = 0.9


def degenerate(metrics: dict[str, float | int]) -> str | None:
    """Why a clustering is no result (nearly all noise, nearly all in one cluster), else None."""
    n = max(int(metrics["n_galaxies"]), 1)
    noise = int(metrics["n_noise"]) / n
    if noise > DEGENERATE_FRACTION:
        return f"{noise:.0%} noise"
    if int(metrics["n_clusters"]) < 2:
        return "a single cluster"
    largest = float(metrics.get("largest_fraction", 0.0))
    if largest > DEGENERATE_FRACTION:
        return f"one cluster holds {largest:.0%}"
    return None


def laplacian_spectrum(X: np.ndarray, n_neighbors: int = 10, n_eigenvalues: int = 20, *,
                       seed: int = 0, sample: int = SPECTRUM_SAMPLE) -> np.ndarray:
    """Smallest eigenvalues of the normalised Laplacian of the symmetric k-NN graph,
    the graph spectral clustering uses; the largest gap suggests the number of clusters.

    Above ``sample`` rows, of a seeded sample of that many (the exact k-NN graph is O(N²·d)
    time and the shift-invert factorisation grows faster than N): the eigengap only suggests a
    number of clusters, which a sample of 20,000 keeps."""
    from scipy.sparse import csgraph
    from scipy.sparse.linalg import eigsh
    from sklearn.neighbors import kneighbors_graph

    if len(X) > sample:
        X = np.asarray(X)[seeded_rows(len(X), sample, seed)]
    graph = kneighbors_graph(np.asarray(X, dtype=np.float64), n_neighbors=n_neighbors, include_self=True)
    affinity = 0.5 * (graph + graph.T)
    laplacian = csgraph.laplacian(affinity, normed=True)
    k = min(n_eigenvalues, X.shape[0] - 2)
    # Shift-invert around a small negative sigma finds the smallest eigenvalues stably.
    # a seeded start vector: ARPACK's own is random, and the last bits of the values with it
    v0 = np.random.default_rng(seed).uniform(-1.0, 1.0, laplacian.shape[0])
    values = eigsh(laplacian, k=k, sigma=-1e-3, which="LM", return_eigenvectors=False, v0=v0)
    return np.sort(np.clip(values, 0.0, None))
