"""Clusters against physical parameters from the catalog (e.g. lambda_R against ellipticity,
the plane in which the reference study judges its clusters).

* :func:`physical_pairs`: scatter of (x, y) column pairs coloured by cluster, noise grey.
* :func:`physical_columns`: per-cluster distributions of columns (violins, or boxes).

Both match the clustering's ``ids`` to the catalog's ``id`` column; a column missing from
the catalog raises :class:`~galclust.errors.ConfigError` naming ``report.physical``.
Memory: the matched columns (a few floats per galaxy).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from ..errors import ConfigError
from ._common import check_labels, figure_suffix, group_labels, new_figure, save_figure
from .maps import _discrete_colours, _point_size

#: The config key that lists the physical columns and pairs to plot.
KEY = "report.physical"


def _check_columns(catalog: Table, names: Sequence[str]) -> None:
    missing = [n for n in names if n not in catalog.colnames]
    if missing:
        raise ConfigError(
            f"config key '{KEY}': the catalog has no column {', '.join(repr(m) for m in missing)} "
            f"(columns: {', '.join(catalog.colnames)})"
        )


def matched_rows(catalog: Table, ids: Any, n: int) -> np.ndarray:
    """Catalog row of each id (by the ``id`` column); ValueError naming ids not in the catalog."""
    if "id" not in catalog.colnames:
        raise ValueError(f"the catalog has no 'id' column (columns: {', '.join(catalog.colnames)})")
    wanted = np.asarray([str(i) for i in np.asarray(ids).ravel().tolist()])
    if len(wanted) != n:
        raise ValueError(f"ids and labels differ in length: {len(wanted)} ids, {n} labels")
    cat_ids = np.asarray([str(i) for i in np.asarray(catalog["id"]).tolist()])
    order = np.argsort(cat_ids, kind="stable")
    pos = np.searchsorted(cat_ids[order], wanted)
    pos = np.minimum(pos, len(order) - 1)
    rows = order[pos]
    absent = cat_ids[rows] != wanted
    if absent.any():
        raise ValueError(
            f"{int(absent.sum())} clustered ids are not in the catalog, e.g. {', '.join(wanted[absent][:5])}"
        )
    return rows


def _numeric(catalog: Table, name: str, rows: np.ndarray) -> np.ndarray:
    """A column at ``rows`` as float64 with NaN for masked values; ConfigError if not numeric."""
    col = catalog[name]
    try:
        values = np.ma.filled(np.ma.asarray(col[rows]).astype(np.float64), np.nan)
    except (TypeError, ValueError):
        raise ConfigError(f"config key '{KEY}': column '{name}' is not numeric") from None
    return np.asarray(values, dtype=np.float64)


def physical_pairs(
    catalog: Table,
    ids: Any,
    labels: np.ndarray,
    pairs: Sequence[tuple[str, str]] = (("ellipticity", "lambda_r"),),
    out_png: str | os.PathLike[str] = "physical_pairs.png",
    *,
    title: str = "",
) -> Path:
    """Scatter of each (x, y) column pair, one panel per pair, coloured by cluster."""
    figure_suffix(out_png)
    labels = check_labels(labels)
    pairs = [tuple(p) for p in pairs]
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ConfigError(f"config key '{KEY}': pairs must be a non-empty list of [x, y] column names; got {pairs}")
    _check_columns(catalog, [c for p in pairs for c in p])
    rows = matched_rows(catalog, ids, len(labels))
    groups, n_clusters = group_labels(labels)
    colours = _discrete_colours(max(n_clusters, 1))
    n_cols = min(3, len(pairs))
    n_rows = math.ceil(len(pairs) / n_cols)
    fig = new_figure(4.6 * n_cols + 1.2, 4.2 * n_rows + 0.4, layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    s = _point_size(len(labels))
    for ax, (xname, yname) in zip(axes, pairs, strict=False):
        x, y = _numeric(catalog, xname, rows), _numeric(catalog, yname, rows)
        for g in sorted(groups, key=lambda g: not g.is_noise):  # noise first, underneath
            colour = "0.75" if g.is_noise else colours[g.index]
            ax.scatter(x[g.members], y[g.members], s=s, color=colour, linewidths=0,
                       label=f"{g.name} ({len(g.members)})")
        ax.set_xlabel(xname)
        ax.set_ylabel(yname)
        ax.grid(alpha=0.3)
    for ax in axes[len(pairs):]:
        ax.set_axis_off()
    if len(groups) <= 20:
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside right center", fontsize=8, title="cluster (size)",
                   markerscale=max(1.0, 12.0 / s) ** 0.5)
    fig.suptitle(title or f"{n_clusters} clusters against physical parameters ({len(labels)} galaxies)")
    return save_figure(fig, out_png)


def physical_columns(
    catalog: Table,
    ids: Any,
    labels: np.ndarray,
    columns: Sequence[str],
    out_png: str | os.PathLike[str],
    *,
    kind: str = "violin",
    title: str = "",
) -> Path:
    """Per-cluster distributions of each column (``kind`` "violin" or "box"), one panel per column.

    NaN and masked values are left out; a cluster with fewer than 2 values of a column is
    drawn as its points.
    """
    figure_suffix(out_png)
    if kind not in ("violin", "box"):
        raise ValueError(f"kind must be 'violin' or 'box'; got {kind!r}")
    labels = check_labels(labels)
    columns = [str(c) for c in columns]
    if not columns:
        raise ConfigError(f"config key '{KEY}': columns is empty")
    _check_columns(catalog, columns)
    rows = matched_rows(catalog, ids, len(labels))
    groups, n_clusters = group_labels(labels)
    colours = _discrete_colours(max(n_clusters, 1))
    positions = np.arange(1, len(groups) + 1)
    fig = new_figure(max(5.0, 0.5 * len(groups) + 2.0), 2.6 * len(columns) + 0.6, layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(columns), 1, sharex=True, squeeze=False)).ravel()
    for ax, name in zip(axes, columns, strict=True):
        values = _numeric(catalog, name, rows)
        data = [values[g.members][np.isfinite(values[g.members])] for g in groups]
        full = [i for i, d in enumerate(data) if d.size >= 2 and np.ptp(d) > 0]
        if full and kind == "violin":
            parts = ax.violinplot([data[i] for i in full], positions=positions[full], showmedians=True, widths=0.8)
            for body, i in zip(parts["bodies"], full, strict=True):
                g = groups[i]
                body.set_facecolor("0.75" if g.is_noise else colours[g.index])
                body.set_alpha(0.7)
        elif full:
            ax.boxplot([data[i] for i in full], positions=positions[full], widths=0.6)
        for i, d in enumerate(data):
            if i not in full and d.size:
                ax.plot(np.full(d.size, positions[i]), d, "o", color="black", markersize=3)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3, axis="y")
    axes[-1].set_xticks(positions, [f"{g.name}\n({len(g.members)})" for g in groups], fontsize=8)
    axes[-1].set_xlabel("cluster (size)")
    fig.suptitle(title or f"physical parameters per cluster ({n_clusters} clusters, {len(labels)} galaxies)")
    return save_figure(fig, out_png)
