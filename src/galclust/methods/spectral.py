"""Spectral clustering on the symmetric k-NN connectivity graph: scikit-learn's
(ARPACK, brute-force neighbours) below ``exact_max_n``; above it, the same graph from the
inverted-file k-NN search (:func:`._scale.knn`), eigenvectors by LOBPCG with an algebraic
multigrid preconditioner (pyamg), then k-means on the embedding as scikit-learn does.

Params: ``k``; ``n_neighbors`` (10); ``route`` (auto|exact|scalable); ``exact_max_n``
(20 000); scalable only: ``n_probe`` (8), ``n_init`` (10 k-means runs on the embedding).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._scale import EXACT, as_features, check_fits, choose_route, knn, knn_bytes, log_route
from .base import ClusteringResult, Diagnostic, Method

NAME = "spectral"
#: ARPACK on the shift-inverted Laplacian of a 20 000-row graph takes minutes on 2 cores.
EXACT_MAX_N = 20_000


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """``exact`` up to ``exact_max_n`` rows (route auto), else ``scalable``."""
    return choose_route(NAME, params, n, EXACT_MAX_N)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Peak bytes of :func:`fit` on n × d float32 for the route it takes."""
    k = int(params["k"])
    nn = int(params.get("n_neighbors", 10))
    graph = 12 * n * nn * 2 * 6  # connectivity, its transpose and sum, Laplacian, copies
    embed = 8 * n * k * 4  # eigenvector blocks and the k-means on them
    if route(params, n, d) == EXACT:
        # neighbours by scikit-learn's chunked reduction (O(n·k)); ARPACK's shift-invert
        # factorises the Laplacian, whose fill-in grew as ~50·n^1.5 bytes when measured
        return int(n * d * 4 + graph + embed + 50 * n**1.5)
    amg = 12 * n * nn * 2 * 4  # the multigrid hierarchy, a few times the fine matrix
    return int(4 * n * d * 4 + knn_bytes(n, d, nn, n_probe=int(params.get("n_probe", 8))) + graph + amg + embed)


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    """Spectral clustering of the rows of X into ``params['k']`` clusters."""
    from scipy.sparse import csr_matrix
    from sklearn.cluster import KMeans, SpectralClustering
    from sklearn.manifold import spectral_embedding
    X = as_features(X)
    n, d = X.shape
    k = int(params["k"])
    nn = int(params.get("n_neighbors", 10))
    chosen = route(params, n, d)
    check_fits(NAME, chosen, memory_bytes(n, d, params), n, params.get("available_bytes"))
    if chosen == EXACT:
        log_route(NAME, chosen, n, d)
        labels = SpectralClustering(
            n_clusters=k, affinity="nearest_neighbors", n_neighbors=nn,
            random_state=seed, assign_labels="kmeans",
        ).fit_predict(X)
        return ClusteringResult(np.asarray(labels, dtype=np.int64), {"route": chosen})
    log_route(NAME, chosen, n, d, f"{nn}-NN graph, LOBPCG + AMG eigenvectors")
    _, ind = knn(X, nn, seed, n_probe=int(params.get("n_probe", 8)))
    # scikit-learn's graph: include_self=True connectivity, symmetrised as (A + Aᵀ) / 2.
    conn = csr_matrix((np.ones(n * nn), ind.ravel(), np.arange(0, n * nn + 1, nn)), shape=(n, n))
    del ind
    affinity = 0.5 * (conn + conn.T)
    del conn
    maps = spectral_embedding(
        affinity, n_components=k, eigen_solver="amg", random_state=seed, drop_first=False
    )
    del affinity
    km = KMeans(n_clusters=k, n_init=int(params.get("n_init", 10)), random_state=seed).fit(maps)
    info = {"route": chosen, "n_neighbors": nn, "eigen_solver": "amg"}
    return ClusteringResult(np.asarray(km.labels_, dtype=np.int64), info)


def spectrum(X: np.ndarray, params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The Laplacian spectrum of the job's k-NN graph, for the eigengap figure."""
    from ..cluster import laplacian_spectrum

    return {"laplacian_eigenvalues": laplacian_spectrum(X, params["n_neighbors"], seed=seed).tolist()}


def eigengap_figure(metrics: list[dict[str, Any]], out: str, label: str) -> None:
    """The largest gap in the spectrum (of the first job: the graph is the same) suggests k."""
    from ..plots import eigengap

    eigengap(np.asarray(metrics[0]["laplacian_eigenvalues"]), out, title=f"eigengap, {label}")


METHOD = Method(
    name=NAME,
    setting="k",
    tag="k",
    fit=fit,
    memory_bytes=memory_bytes,
    route=route,
    needs_k=True,
    diagnostics=(Diagnostic("eigengap", eigengap_figure, "no spectral clustering configured"),),
    measure=spectrum,
    description="spectral on the k-NN graph (scikit-learn); IVF k-NN + AMG/LOBPCG past exact_max_n",
)
