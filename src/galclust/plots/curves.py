"""Line plots that guide choices: elbow (k-means), eigengap (spectral), PCA variance, training loss."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ._common import figure_suffix, new_figure, save_figure

_LR_KEYS = ("learning_rate", "lr")
_SCORE_PREFIX = "knn_"


def _vector(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    """``values`` as a float 1-D array; ValueError naming ``name`` if empty or not 1-D."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence; got shape {arr.shape}")
    return arr


def elbow(
    ks: Sequence[int] | np.ndarray,
    inertias: Sequence[float] | np.ndarray,
    path: str | os.PathLike[str],
    *,
    title: str = "",
) -> Path:
    """K-means inertia (within-cluster sum of squares) against the number of clusters k."""
    figure_suffix(path)
    k, inertia = _vector(ks, "ks"), _vector(inertias, "inertias")
    if k.shape != inertia.shape:
        raise ValueError(f"ks and inertias differ in length: {k.size} and {inertia.size}")
    order = np.argsort(k, kind="stable")
    fig = new_figure(6.0, 4.0, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(k[order], inertia[order], "o-", color="tab:blue", markersize=5)
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("inertia (within-cluster sum of squares)")
    ax.grid(alpha=0.3)
    ax.set_title(title or "k-means elbow")
    return save_figure(fig, path)


def eigengap(
    eigenvalues: Sequence[float] | np.ndarray,
    path: str | os.PathLike[str],
    *,
    n_show: int = 20,
    title: str = "",
) -> Path:
    """The smallest ``n_show`` Laplacian eigenvalues and the gaps between them.

    Eigenvalues are sorted ascending and numbered from 1; gap i is
    λ(i+1) − λ(i). The largest gap is marked: the eigengap heuristic suggests
    k = i clusters for it.
    """
    figure_suffix(path)
    ev = np.sort(_vector(eigenvalues, "eigenvalues"))[: max(1, n_show)]
    if not np.all(np.isfinite(ev)):
        raise ValueError("eigenvalues contain NaN or infinite values")
    idx = np.arange(1, ev.size + 1)
    fig = new_figure(7.0, 6.0, layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    ax1.plot(idx, ev, "o-", color="tab:blue", markersize=5)
    ax1.set_ylabel("eigenvalue")
    ax1.grid(alpha=0.3)
    if ev.size >= 2:
        gaps = np.diff(ev)
        best = int(np.argmax(gaps))
        colors = ["tab:gray"] * gaps.size
        colors[best] = "tab:red"
        ax2.bar(idx[:-1], gaps, color=colors, width=0.7)
        ax2.annotate(f"largest gap → k = {best + 1}", (idx[best], gaps[best]),
                     xytext=(8, -2), textcoords="offset points", color="tab:red", va="top")
        ax1.axvline(best + 1.5, color="tab:red", linestyle="--", linewidth=1)
    ax2.set_ylabel("gap λ(i+1) − λ(i)")
    ax2.set_xlabel("i (eigenvalues sorted ascending)")
    ax2.grid(alpha=0.3, axis="y")
    ax2.set_xticks(idx if idx.size <= 30 else idx[:: max(1, idx.size // 15)])
    ax1.set_title(title or "spectral eigengap")
    return save_figure(fig, path)


def pca_variance(
    explained_variance_ratio: Sequence[float] | np.ndarray,
    path: str | os.PathLike[str],
    *,
    label: str = "",
) -> Path:
    """Variance explained per principal component (bars) and cumulatively (line, right axis).

    Annotated with the total explained by all components shown and ``label``
    (e.g. "37632 features -> 100 components").
    """
    figure_suffix(path)
    ratio = _vector(explained_variance_ratio, "explained_variance_ratio")
    if not np.all(np.isfinite(ratio)) or np.any(ratio < 0):
        raise ValueError("explained_variance_ratio must be finite and >= 0")
    comp = np.arange(1, ratio.size + 1)
    cumulative = np.cumsum(ratio)
    fig = new_figure(8.0, 4.5, layout="constrained")
    ax = fig.add_subplot()
    ax.bar(comp, ratio * 100.0, color="tab:blue", width=0.8, label="per component")
    ax.set_xlabel("principal component")
    ax.set_ylabel("explained variance (%)", color="tab:blue")
    ax.tick_params(axis="y", colors="tab:blue")
    ax.margins(x=0.01)
    twin = ax.twinx()
    twin.plot(comp, cumulative * 100.0, "-", color="tab:red", linewidth=2, label="cumulative")
    twin.set_ylabel("cumulative explained variance (%)", color="tab:red")
    twin.tick_params(axis="y", colors="tab:red")
    twin.set_ylim(0, 100)
    total = f"{ratio.size} components explain {cumulative[-1] * 100:.1f}% of the variance"
    for frac in (0.5, 0.8, 0.9):
        reach = np.flatnonzero(cumulative >= frac)
        if reach.size:
            total += f"\n{frac:.0%} reached with {reach[0] + 1} components"
    twin.text(0.98, 0.04, total, transform=twin.transAxes, ha="right", va="bottom", fontsize=9,
              bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})
    ax.set_title(f"PCA explained variance — {label}" if label else "PCA explained variance")
    return save_figure(fig, path)


def loss_history(
    history: Mapping[str, Sequence[float]],
    path: str | os.PathLike[str],
    *,
    title: str = "",
) -> Path:
    """Training curves against epoch (log y), with the learning rate on a right axis.

    Every key except ``"learning_rate"`` / ``"lr"`` is drawn as a curve (e.g.
    ``loss``, ``val_loss``); epochs count from 1. ``knn_<column>`` keys (accuracies logged
    by a self-supervised training) go to a panel below. The y axis is logarithmic
    unless some value is not positive.
    """
    figure_suffix(path)
    if not history:
        raise ValueError("history is empty")
    series = {str(k): _vector(v, f"history[{k!r}]") for k, v in history.items()}
    lr_key = next((k for k in _LR_KEYS if k in series), None)
    scores = {k: v for k, v in series.items() if k.startswith(_SCORE_PREFIX)}
    curves = {k: v for k, v in series.items() if k not in _LR_KEYS and k not in scores}
    if not curves:
        raise ValueError(f"history has no curve besides the learning rate: keys {list(series)}")
    fig = new_figure(7.0, 6.5 if scores else 4.5, layout="constrained")
    if scores:  # accuracies (0..1, linear) under the losses (log)
        ax, below = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
        for i, (key, values) in enumerate(scores.items()):
            below.plot(np.arange(1, values.size + 1), values, "-", marker="o", markersize=3, color=f"C{i + 3}",
                       label=key)
        below.set_ylabel("k-NN accuracy")
        below.set_xlabel("epoch")
        below.grid(alpha=0.3)
        below.legend(loc="lower right", fontsize=9)
    else:
        ax = fig.add_subplot()
    for i, (key, values) in enumerate(curves.items()):
        ax.plot(np.arange(1, values.size + 1), values, "-", marker="o" if values.size <= 30 else None,
                markersize=3, color=f"C{i}", label=key)
    finite = np.concatenate([v[np.isfinite(v)] for v in curves.values()])
    if finite.size and np.all(finite > 0):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3, which="both")
    handles, names = ax.get_legend_handles_labels()
    if lr_key is not None:
        lr = series[lr_key]
        twin = ax.twinx()
        (line,) = twin.plot(np.arange(1, lr.size + 1), lr, "--", color="0.4", label=lr_key)
        if np.all(lr[np.isfinite(lr)] > 0):
            twin.set_yscale("log")
        twin.set_ylabel("learning rate", color="0.4")
        handles.append(line)
        names.append(lr_key)
    ax.legend(handles, names, loc="upper right", fontsize=9)
    ax.set_title(title or "training history")
    return save_figure(fig, path)
