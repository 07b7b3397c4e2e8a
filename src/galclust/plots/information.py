"""Information criteria (BIC, AIC) of Gaussian mixtures against k: the GMM counterpart of the elbow plot."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._common import figure_suffix, new_figure, save_figure


def _vector(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    """``values`` as a finite float 1-D array; ValueError naming ``name`` otherwise."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def information_criteria(
    ks: Sequence[int] | np.ndarray,
    bic: Sequence[float] | np.ndarray,
    path: str | os.PathLike[str],
    *,
    aic: Sequence[float] | np.ndarray | None = None,
    title: str = "",
) -> Path:
    """BIC (and AIC when given) of Gaussian mixtures against the number of components k.

    Lower is better; the minimum of each curve is marked and named in the legend
    (``BIC: min at k = 6``).
    """
    figure_suffix(path)
    k = _vector(ks, "ks")
    curves = {"BIC": _vector(bic, "bic")}
    if aic is not None:
        curves["AIC"] = _vector(aic, "aic")
    for name, values in curves.items():
        if values.shape != k.shape:
            raise ValueError(f"ks and {name.lower()} differ in length: {k.size} and {values.size}")
    order = np.argsort(k, kind="stable")
    fig = new_figure(6.0, 4.0, layout="constrained")
    ax = fig.add_subplot()
    for (name, values), colour in zip(curves.items(), ("tab:blue", "tab:orange"), strict=False):
        best = int(np.argmin(values))
        ax.plot(k[order], values[order], "o-", color=colour, markersize=5,
                label=f"{name}: min at k = {int(k[best])}")
        ax.plot([k[best]], [values[best]], "*", color=colour, markersize=14, markeredgecolor="black")
    ax.set_xlabel("number of components k")
    ax.set_ylabel("information criterion (lower is better)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    ax.set_title(title or "Gaussian mixture: BIC / AIC against k")
    return save_figure(fig, path)
