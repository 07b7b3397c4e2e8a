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
               image_stores: Sequence[PathLike], out: PathLike, settings: dict[str, Any], method: str) -> None:
    """The ward tree of a feature set, truncated to ``n_leaves``, with example images at its top nodes.

    ``settings``: the job's, and ``method`` the job's method (its entry's ``dendrogram``): on a
    scalable route the tree is drawn over the same units the clustering merged (memory O(N·d),
    not the exact tree's 4 N² bytes).
    """
    from ..methods import METHODS
    from ..plots import dendrogram_with_images

    ids, _ = read_labels(labels_path)
    X = read_array(reduced, "features")
    images = images_for(image_stores, ids) if image_stores else None
    tree = METHODS[method].dendrogram
    units = tree(X, settings, seed) if callable(tree) else None
    if units is not None:
        log.info("%s: dendrogram over %d weighted micro-clusters of %d galaxies", fs_name, len(units[0]) + 1, len(X))
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
    """How many clusters: each figure is drawn by the first method in the registry with jobs here
    whose entry declares it (k-means' elbow, spectral's eigengap, Gaussian mixtures' BIC/AIC);
    a placeholder says what is missing otherwise."""
    from ..methods import METHODS

    metrics = [json.loads(Path(p).read_text()) for p in metrics_files]
    label = metrics[0]["label"] if metrics else fs_name
    for figure, out in (("elbow", elbow_plot), ("eigengap", eigengap_plot), ("information", information_plot)):
        offered = [(method, d) for method in METHODS.values() for d in method.diagnostics if d.figure == figure]
        for method, diagnostic in offered:
            own = [m for m in metrics if m["method"] == method.name]
            if own:
                diagnostic.draw(own, str(out), label)
                break
        else:
            placeholder_figure(out, f"{label}: {offered[0][1].missing if offered else 'no method draws ' + figure}")
