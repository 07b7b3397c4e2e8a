"""Heat map of a score matrix (e.g. agreement between clusterings, ARI / AMI)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._common import figure_suffix, new_figure, save_figure

#: Cells are annotated with their value when both sides are at most this long.
ANNOTATE_MAX = 40  # cells stay legible up to about 40 rows or columns


def score_heatmap(
    matrix: np.ndarray,
    row_names: list[str],
    col_names: list[str],
    path: str | os.PathLike[str],
    *,
    title: str = "",
    vmin: float = 0.0,
    vmax: float = 1.0,
    annotate: bool = True,
) -> Path:
    """Draw ``matrix`` (rows x columns) as a heat map with named rows and columns.

    Cells hold their value with 2 decimals when ``annotate`` and the matrix is
    at most 40 x 40; NaN cells are left blank. Long or many column names are
    rotated. The figure grows with the number of names. Format from the suffix.
    """
    import seaborn as sns  # imported here: it is slow to import and only this figure needs it

    figure_suffix(path)
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"matrix must be two-dimensional; got shape {m.shape}")
    rows, cols = [str(r) for r in row_names], [str(c) for c in col_names]
    if m.shape != (len(rows), len(cols)):
        raise ValueError(
            f"matrix shape {m.shape} does not match {len(rows)} row names x {len(cols)} column names"
        )
    if m.size == 0:
        raise ValueError("matrix is empty")
    if not vmin < vmax:
        raise ValueError(f"need vmin < vmax; got {vmin}, {vmax}")

    longest_col = max(len(c) for c in cols)
    longest_row = max(len(r) for r in rows)
    rotate = longest_col > 4 or len(cols) > 12
    annot = annotate and max(m.shape) <= ANNOTATE_MAX
    cell = 0.55 if annot else 0.3
    width = min(30.0, max(4.5, 2.5 + 0.07 * longest_row + cell * len(cols)))
    height = min(30.0, max(3.5, 1.5 + (0.07 * longest_col if rotate else 0.3) + cell * len(rows)))
    fig = new_figure(width, height, layout="constrained")
    ax = fig.add_subplot()
    sns.heatmap(
        m,
        ax=ax,
        vmin=vmin,
        vmax=vmax,
        cmap="viridis",
        annot=annot,
        fmt=".2f",
        annot_kws={"fontsize": 7 if max(m.shape) > 12 else 9},
        mask=~np.isfinite(m),
        xticklabels=cols,
        yticklabels=rows,
        square=False,
        linewidths=0.5 if max(m.shape) <= 40 else 0.0,
        linecolor="white",
        cbar_kws={"shrink": 0.8},
    )
    tick_fs = 9 if max(m.shape) <= 25 else 7
    ax.set_xticklabels(cols, rotation=45 if rotate else 0, ha="right" if rotate else "center",
                       rotation_mode="anchor", fontsize=tick_fs)
    ax.set_yticklabels(rows, rotation=0, fontsize=tick_fs)
    if title:
        ax.set_title(title)
    return save_figure(fig, path)
