"""Clusters in feature space, for feature sets that come without images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._common import new_figure, save_figure


def feature_scatter(
    features: np.ndarray, labels: np.ndarray, path: str | os.PathLike[str], *, title: str = ""
) -> Path:
    """Scatter of the first two feature components, coloured by cluster (noise grey)."""
    x = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"features must have shape (N, d >= 2); got {x.shape}")
    if len(labels) != len(x):
        raise ValueError(f"features and labels differ in length: {len(x)} rows, {len(labels)} labels")
    fig = new_figure(7.0, 6.0, layout="constrained")
    ax = fig.add_subplot()
    noise = labels < 0
    ax.scatter(x[noise, 0], x[noise, 1], s=4, c="0.75", label="noise" if noise.any() else None)
    n_clusters = len(np.unique(labels[~noise]))
    ax.scatter(x[~noise, 0], x[~noise, 1], s=5, c=labels[~noise], cmap="turbo", alpha=0.8)
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    ax.set_title(f"{title} — {n_clusters} clusters of {len(x)} galaxies" if title else f"{n_clusters} clusters")
    if noise.any():
        ax.legend(loc="best")
    return save_figure(fig, path)
