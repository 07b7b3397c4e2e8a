"""2-D maps of the galaxies (t-SNE, UMAP, first PCA/LDA axes): coloured by clusters, by truth,
or drawn with the galaxies' own images.

* :func:`cluster_maps`: small multiples of one map, one panel per clustering, noise grey.
* :func:`truth_maps`: the same map coloured by catalog columns, categorical (a legend) or
  continuous (a colour bar); missing values grey.
* :func:`thumbnail_map`: the map cut into a grid; in each occupied cell the galaxy nearest
  the cell centre is drawn (:func:`pick_thumbnails`). Memory: the chosen images only
  (≤ rows × columns tiles), read one by one from ``images`` (a numpy or Zarr array).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from ._common import NOISE, check_labels, figure_suffix, new_figure, save_figure, to_uint8

#: Up to this many distinct values a numeric column is drawn as categories.
MAX_CATEGORIES = 20
#: Pixels per grid cell in the thumbnail map.
TILE_PIXELS = 32


def check_xy(xy: np.ndarray) -> np.ndarray:
    """``xy`` as a finite (N, 2) float array (extra columns dropped); ValueError otherwise."""
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2 or arr.shape[0] == 0:
        raise ValueError(f"map coordinates must have shape (N, 2); got {arr.shape}")
    arr = arr[:, :2]
    if not np.all(np.isfinite(arr)):
        raise ValueError("map coordinates contain NaN or infinite values")
    return arr


def _panel_grid(n: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def _discrete_colours(n: int) -> np.ndarray:
    """n distinguishable RGBA colours: tab10 / tab20 when they suffice, turbo beyond."""
    from matplotlib import colormaps  # noqa: PLC0415

    if n <= 10:
        return colormaps["tab10"](np.arange(n))
    if n <= 20:
        return colormaps["tab20"](np.arange(n))
    return colormaps["turbo"](np.linspace(0.0, 1.0, n))


def _point_size(n: int) -> float:
    return float(np.clip(3000.0 / max(n, 1), 0.5, 12.0))


def _draw_clusters(ax: Axes, xy: np.ndarray, labels: np.ndarray, name: str) -> None:
    noise = labels == NOISE
    values = np.unique(labels[~noise])
    s = _point_size(len(xy))
    ax.scatter(xy[noise, 0], xy[noise, 1], s=s, c="0.75", linewidths=0, label="noise" if noise.any() else None)
    if values.size:
        index = np.searchsorted(values, labels[~noise])
        cmap = ListedColormap(_discrete_colours(values.size))
        ax.scatter(xy[~noise, 0], xy[~noise, 1], s=s, c=index, cmap=cmap, vmin=-0.5,
                   vmax=values.size - 0.5, linewidths=0)
    extra = f", {int(noise.sum())} noise" if noise.any() else ""
    ax.set_title(f"{name}: {values.size} clusters{extra}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def cluster_maps(
    xy: np.ndarray,
    labelings: Mapping[str, np.ndarray],
    out_png: str | os.PathLike[str],
    title: str = "",
) -> Path:
    """Small multiples of the 2-D map ``xy``, one panel per clustering, coloured by cluster.

    ``labelings`` maps a clustering's name to its labels (aligned with ``xy``; -1 is noise,
    drawn grey).
    """
    figure_suffix(out_png)
    xy = check_xy(xy)
    if not labelings:
        raise ValueError("labelings is empty: nothing to draw")
    checked = {}
    for name, labels in labelings.items():
        arr = check_labels(labels)
        if len(arr) != len(xy):
            raise ValueError(f"labelings[{name!r}] has {len(arr)} labels for {len(xy)} map points")
        checked[str(name)] = arr
    rows, cols = _panel_grid(len(checked))
    fig = new_figure(3.6 * cols, 3.4 * rows + 0.4, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (name, labels) in zip(axes, checked.items(), strict=False):
        _draw_clusters(ax, xy, labels, name)
    for ax in axes[len(checked):]:
        ax.set_axis_off()
    fig.suptitle(title or f"clusters on the map ({len(xy)} galaxies)")
    return save_figure(fig, out_png)


def _missing(values: Any) -> np.ndarray:
    mask = np.zeros(len(values), dtype=bool)
    if np.ma.isMaskedArray(values):
        mask |= np.ma.getmaskarray(values)
    data = np.asarray(np.ma.getdata(values))
    if data.dtype.kind == "f":
        mask |= ~np.isfinite(data)
    return mask


def is_categorical(values: Any) -> bool:
    """True for strings, booleans and integers with at most :data:`MAX_CATEGORIES` distinct values."""
    data = np.asarray(np.ma.getdata(values))
    if data.dtype.kind in "USOb":
        return True
    if data.dtype.kind in "iu":
        return np.unique(data).size <= MAX_CATEGORIES
    return False


def truth_maps(
    xy: np.ndarray,
    columns: Mapping[str, Any],
    out_png: str | os.PathLike[str],
    title: str = "",
) -> Path:
    """The 2-D map coloured by catalog columns, one panel per column.

    ``columns`` maps a column name to its values, aligned with ``xy`` (e.g.
    ``{"klass": cat["klass"], "lambda_r": cat["lambda_r"]}``). Categorical columns
    (:func:`is_categorical`) get a legend, continuous ones a colour bar; missing values
    (masked or NaN) are grey.
    """
    figure_suffix(out_png)
    xy = check_xy(xy)
    if not columns:
        raise ValueError("columns is empty: nothing to draw")
    for name, values in columns.items():
        if len(values) != len(xy):
            raise ValueError(f"column {name!r} has {len(values)} values for {len(xy)} map points")
    rows, cols = _panel_grid(len(columns))
    fig = new_figure(4.2 * cols, 3.6 * rows + 0.4, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    s = _point_size(len(xy))
    for ax, (name, values) in zip(axes, columns.items(), strict=False):
        missing = _missing(values)
        data = np.asarray(np.ma.getdata(values))
        ax.scatter(xy[missing, 0], xy[missing, 1], s=s, c="0.8", linewidths=0,
                   label="missing" if missing.any() else None)
        if is_categorical(values):
            kept = data[~missing]
            kept = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in kept.tolist()], dtype=str)
            cats, index = np.unique(kept, return_inverse=True)
            colours = _discrete_colours(max(cats.size, 1))
            for i, cat in enumerate(cats.tolist()):
                sel = np.flatnonzero(~missing)[index == i]
                ax.scatter(xy[sel, 0], xy[sel, 1], s=s, color=colours[i], linewidths=0, label=cat)
            if cats.size <= MAX_CATEGORIES:
                ax.legend(loc="best", fontsize=7, markerscale=max(1.0, 12.0 / s) ** 0.5, framealpha=0.8)
        else:
            sc = ax.scatter(xy[~missing, 0], xy[~missing, 1], s=s, c=data[~missing].astype(np.float64),
                            cmap="viridis", linewidths=0)
            fig.colorbar(sc, ax=ax, shrink=0.85)
        ax.set_title(str(name), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(columns):]:
        ax.set_axis_off()
    fig.suptitle(title or f"catalog columns on the map ({len(xy)} galaxies)")
    return save_figure(fig, out_png)


def grid_cells(xy: np.ndarray, grid: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell of each point in a ``grid`` = (rows, columns) over the bounding box of ``xy``.

    Returns (row, column) per point (row 0 at the top, the largest y) and the cells'
    centre coordinates (rows × columns × 2). Points on the upper edges fall in the last cell.
    """
    xy = check_xy(xy)
    n_rows, n_cols = (int(g) for g in grid)
    if n_rows < 1 or n_cols < 1:
        raise ValueError(f"grid must be two positive integers (rows, columns); got {tuple(grid)}")
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)  # a degenerate axis: every point in cell 0
    col = np.minimum(((xy[:, 0] - lo[0]) / span[0] * n_cols).astype(np.int64), n_cols - 1)
    up = np.minimum(((xy[:, 1] - lo[1]) / span[1] * n_rows).astype(np.int64), n_rows - 1)
    row = n_rows - 1 - up
    cx = lo[0] + (np.arange(n_cols) + 0.5) * span[0] / n_cols
    cy = lo[1] + (n_rows - 1 - np.arange(n_rows) + 0.5) * span[1] / n_rows
    centres = np.stack(np.broadcast_arrays(cx[None, :], cy[:, None]), axis=-1)
    return row, col, centres


def pick_thumbnails(xy: np.ndarray, grid: Sequence[int] = (40, 40), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One galaxy per occupied cell of the grid: the one nearest the cell centre.

    Distances are measured in cell units (so a stretched map does not favour one axis);
    exact ties are broken by a permutation seeded with ``seed``, so the pick is
    deterministic. Returns (cell index row·columns + column, point index), sorted by cell.
    """
    xy = check_xy(xy)
    row, col, centres = grid_cells(xy, grid)
    n_rows, n_cols = (int(g) for g in grid)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    size = np.where(hi > lo, hi - lo, 1.0) / np.array([n_cols, n_rows])
    dist = (((xy - centres[row, col]) / size) ** 2).sum(axis=1)
    cell = row * n_cols + col
    tie = np.random.default_rng(seed).permutation(len(xy))
    order = np.lexsort((tie, dist, cell))  # by cell, then distance, then the seeded tie-break
    first = np.ones(len(order), dtype=bool)
    first[1:] = cell[order][1:] != cell[order][:-1]
    chosen = order[first]
    return cell[chosen], chosen


def _tile(image: np.ndarray, pixels: int) -> np.ndarray:
    """One image as a pixels × pixels × 3 uint8 tile (area resampling)."""
    from PIL import Image  # noqa: PLC0415

    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (N, height, width, 3) or (N, height, width); one image has shape {arr.shape}")
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return np.asarray(Image.fromarray(to_uint8(arr)).resize((pixels, pixels), Image.Resampling.BOX))


def thumbnail_map(
    xy: np.ndarray,
    images: Any,
    out_png: str | os.PathLike[str],
    grid: Sequence[int] = (40, 40),
    seed: int = 0,
    *,
    title: str = "",
    tile_pixels: int = TILE_PIXELS,
) -> Path:
    """The galaxies' own images at their map positions: one image per occupied grid cell.

    ``images`` is an (N, H, W, 3) array aligned with ``xy`` (floats in [0, 1] or uint8; a
    Zarr array works too: only the chosen rows are read). Empty cells stay white.
    """
    figure_suffix(out_png)
    xy = check_xy(xy)
    if len(images) != len(xy):
        raise ValueError(f"images and map points differ in length: {len(images)} images, {len(xy)} points")
    n_rows, n_cols = (int(g) for g in grid)
    cells, chosen = pick_thumbnails(xy, (n_rows, n_cols), seed)
    canvas = np.full((n_rows * tile_pixels, n_cols * tile_pixels, 3), 255, dtype=np.uint8)
    for c, i in zip(cells.tolist(), chosen.tolist(), strict=True):
        r, q = divmod(c, n_cols)
        canvas[r * tile_pixels : (r + 1) * tile_pixels, q * tile_pixels : (q + 1) * tile_pixels] = _tile(
            images[i], tile_pixels
        )
    lo = xy.min(axis=0)
    hi = np.where(xy.max(axis=0) > lo, xy.max(axis=0), lo + 1.0)
    side = min(14.0, max(4.0, n_cols * tile_pixels / 100.0))
    fig = new_figure(side, side * n_rows / n_cols + 0.5, layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(canvas, extent=(lo[0], hi[0], lo[1], hi[1]), aspect="auto", interpolation="nearest")
    ax.set_title(title or f"{len(chosen)} of {len(xy)} galaxies, one per occupied cell of {n_rows} x {n_cols}")
    ax.set_xticks([])
    ax.set_yticks([])
    return save_figure(fig, out_png, dpi=100)
