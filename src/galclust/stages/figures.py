"""Rules ``plot_clustering``, ``dendrogram``, ``member_pdfs`` and ``elbow_eigengap``: figures."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GalclustError
from ..store import read_array, read_attrs
from .common import PathLike, images_for, placeholder_figure, read_labels

log = logging.getLogger(__name__)


def plot_clustering(fs_name: str, job_name: str, n_examples: int, seed: int, labels_path: PathLike,
                    reduced: PathLike, image_stores: Sequence[PathLike], summary: PathLike,
                    sizes: PathLike) -> None:
    """A summary (``n_examples`` random members per cluster) and the cluster sizes."""
    from ..plots import cluster_sizes, cluster_summary, feature_scatter, pick_examples

    ids, labels = read_labels(labels_path)
    title = f"{job_name} on {read_attrs(reduced).get('label', fs_name)}"
    cluster_sizes(labels, sizes, title=title)
    if image_stores:
        # only the examples' pixels are read: memory O(k · n_examples), not O(N) images
        rows = np.unique(np.concatenate(list(pick_examples(labels, n_examples, seed).values())))
        cluster_summary(images_for(image_stores, ids[rows]), labels, summary, n_examples=n_examples,
                        seed=seed, ids=ids, title=title, image_rows=rows)
    else:  # user features without images: show the clusters in feature space instead
        feature_scatter(read_array(reduced, "features"), labels, summary, title=title)


def dendrogram(fs_name: str, n_leaves: int, seed: int, labels_path: PathLike, reduced: PathLike,
               image_stores: Sequence[PathLike], out: PathLike, settings: dict[str, Any] | None = None) -> None:
    """The ward tree of a feature set, truncated to ``n_leaves``, with example images at its top nodes.

    ``settings``: the ward job's; on its scalable route the tree is drawn over the same
    micro-clusters the clustering merged (memory O(N·d), not the exact tree's 4 N² bytes).
    """
    from ..methods import METHODS
    from ..plots import dendrogram_with_images

    ids, _ = read_labels(labels_path)
    X = read_array(reduced, "features")
    images = images_for(image_stores, ids) if image_stores else None
    units = None
    settings = settings or {}
    if METHODS["agglomerative"].route(settings, *X.shape) != "exact":
        from ..methods._scale import as_features
        from ..methods._ward import ward_linkage
        from ..methods.agglomerative import microclusters_of

        centres, weights, assign = microclusters_of(as_features(X), settings, seed)
        log.info("%s: dendrogram over %d weighted micro-clusters of %d galaxies", fs_name, len(centres), len(X))
        units = (ward_linkage(centres, weights), assign)
    dendrogram_with_images(X, images, out, n_leaves=n_leaves, seed=seed, units=units,
                           title=f"{read_attrs(reduced).get('label', fs_name)}")


def member_pdfs(labels_path: PathLike, image_stores: Sequence[PathLike], outdir: PathLike,
                title_prefix: str = "") -> None:
    """One PDF per cluster showing every member."""
    from ..plots import cluster_member_pdfs

    ids, labels = read_labels(labels_path)
    if not image_stores:
        raise GalclustError(f"{labels_path}: member PDFs need images, and this feature set has none")
    cluster_member_pdfs(images_for(image_stores, ids), labels, outdir, title_prefix=title_prefix)


def elbow_eigengap(fs_name: str, metrics_files: Sequence[PathLike], elbow_plot: PathLike,
                   eigengap_plot: PathLike, information_plot: PathLike) -> None:
    """How many clusters: k-means inertia against k, the Laplacian spectrum of the k-NN graph,
    and the BIC/AIC of Gaussian mixtures against k."""
    from ..plots import eigengap, elbow
    from ..plots.information import information_criteria

    metrics = [json.loads(Path(p).read_text()) for p in metrics_files]
    kmeans = sorted((m["params"]["k"], m["inertia"]) for m in metrics if m["method"] == "kmeans")
    label = metrics[0]["label"] if metrics else fs_name
    if kmeans:
        elbow([k for k, _ in kmeans], [i for _, i in kmeans], elbow_plot, title=f"k-means elbow, {label}")
    else:
        placeholder_figure(elbow_plot, f"{label}: no k-means clustering configured")
    spectral = [m for m in metrics if m["method"] == "spectral"]
    if spectral:
        eigengap(np.asarray(spectral[0]["laplacian_eigenvalues"]), eigengap_plot, title=f"eigengap, {label}")
    else:
        placeholder_figure(eigengap_plot, f"{label}: no spectral clustering configured")
    gmm = sorted((m["params"]["k"], m["bic"], m["aic"]) for m in metrics if m["method"] == "gmm")
    if gmm:
        information_criteria([g[0] for g in gmm], [g[1] for g in gmm], information_plot,
                             aic=[g[2] for g in gmm], title=f"Gaussian mixtures, {label}")
    else:
        placeholder_figure(information_plot, f"{label}: no Gaussian mixture configured")
