"""Clustering methods behind one interface, and the scores of a clustering.

Every method is a scikit-learn estimator built from a :class:`~galclust.config.ClusteringJob`
and the config's seed, so the same config always gives the same labels.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from sklearn import cluster, metrics

from .config import ClusteringJob

log = logging.getLogger(__name__)

NOISE = -1
SILHOUETTE_SAMPLE = 5000  # silhouette is O(N²); above this a seeded sample is scored


def make_estimator(job: ClusteringJob, seed: int) -> Any:
    """The scikit-learn estimator for ``job``."""
    p = job.params
    if job.method == "kmeans":
        return cluster.KMeans(n_clusters=p["k"], n_init=p.get("n_init", 10), random_state=seed)
    if job.method == "agglomerative":
        return cluster.AgglomerativeClustering(n_clusters=p["k"], linkage="ward")
    if job.method == "affinity_propagation":
        return cluster.AffinityPropagation(
            damping=p["damping"],
            max_iter=p.get("max_iter", 200),
            convergence_iter=p.get("convergence_iter", 15),
            random_state=seed,
        )
    if job.method == "dbscan":
        return cluster.DBSCAN(eps=p["eps"], min_samples=p.get("min_samples", 5))
    if job.method == "hdbscan":
        return cluster.HDBSCAN(min_cluster_size=p["min_cluster_size"], copy=True)
    if job.method == "spectral":
        return cluster.SpectralClustering(
            n_clusters=p["k"],
            affinity="nearest_neighbors",
            n_neighbors=p.get("n_neighbors", 10),
            random_state=seed,
            assign_labels="kmeans",
        )
    raise ValueError(f"unknown clustering method {job.method!r}")


def fit_predict(X: np.ndarray, job: ClusteringJob, seed: int) -> tuple[np.ndarray, Any]:
    """Cluster the rows of ``X``; returns (labels, fitted estimator)."""
    # Keep float32 features as they are: upcasting changes affinity propagation's
    # dtype-scaled tie-breaking noise, and the published labels were made from float32.
    X = np.asarray(X)
    if X.dtype != np.float32:
        X = X.astype(np.float64)
    need = job.params.get("k", 2)
    if len(X) < max(2, need):
        raise ValueError(f"{job.name}: {len(X)} galaxies are too few for {need} clusters")
    estimator = make_estimator(job, seed)
    labels = np.asarray(estimator.fit_predict(X), dtype=np.int64)
    if job.method == "affinity_propagation" and getattr(estimator, "n_iter_", 0) >= job.params.get("max_iter", 200):
        log.warning("%s: affinity propagation did not converge in %d iterations", job.name, estimator.n_iter_)
    return labels, estimator


def scores(X: np.ndarray, labels: np.ndarray, *, seed: int = 0, estimator: Any = None) -> dict[str, float | int]:
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
        "inertia": float(getattr(estimator, "inertia_", math.nan)),
    }
    Xk, lk = np.asarray(X, dtype=np.float64)[kept], labels[kept]
    if 2 <= n_clusters < len(lk):
        sample = min(SILHOUETTE_SAMPLE, len(lk)) if len(lk) > SILHOUETTE_SAMPLE else None
        out["silhouette"] = float(metrics.silhouette_score(Xk, lk, sample_size=sample, random_state=seed))
        out["calinski_harabasz"] = float(metrics.calinski_harabasz_score(Xk, lk))
        out["davies_bouldin"] = float(metrics.davies_bouldin_score(Xk, lk))
    return out


def laplacian_spectrum(X: np.ndarray, n_neighbors: int = 10, n_eigenvalues: int = 20) -> np.ndarray:
    """Smallest eigenvalues of the normalised Laplacian of the symmetric k-NN graph,
    the graph spectral clustering uses; the largest gap suggests the number of clusters."""
    from scipy.sparse import csgraph
    from scipy.sparse.linalg import eigsh
    from sklearn.neighbors import kneighbors_graph

    graph = kneighbors_graph(np.asarray(X, dtype=np.float64), n_neighbors=n_neighbors, include_self=True)
    affinity = 0.5 * (graph + graph.T)
    laplacian = csgraph.laplacian(affinity, normed=True)
    k = min(n_eigenvalues, X.shape[0] - 2)
    # Shift-invert around a small negative sigma finds the smallest eigenvalues stably.
    values = eigsh(laplacian, k=k, sigma=-1e-3, which="LM", return_eigenvectors=False)
    return np.sort(np.clip(values, 0.0, None))
