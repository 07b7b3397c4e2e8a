"""Galaxies like this one: the query image and its k nearest neighbours, with distances."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._common import check_images, figure_suffix, new_figure, save_figure, to_uint8

_TILE_IN = 1.3
_TITLE_IN = 0.5


def similar_sheet(
    query_image: np.ndarray,
    images: np.ndarray,
    distances: Sequence[float] | np.ndarray,
    path: str | os.PathLike[str],
    *,
    query_id: str,
    ids: Sequence[str],
    columns: int = 5,
    title: str = "",
) -> Path:
    """One figure: the query galaxy (framed in red) left, its neighbours in rank order right.

    ``query_image`` is (H, W, 3) in [0, 1]; ``images`` (k, H, W, 3) the neighbours, nearest
    first, with their ``ids`` and ``distances`` printed under each. Format from the suffix.
    """
    figure_suffix(path)
    query = check_images(np.asarray(query_image)[None], what="query_image")[0]
    imgs = check_images(images, what="images")
    k = len(imgs)
    dist = np.asarray(distances, dtype=float).ravel()
    if len(dist) != k or len(ids) != k:
        raise ValueError(f"{k} neighbour images, {len(dist)} distances, {len(ids)} ids")
    if columns < 1:
        raise ValueError(f"columns must be >= 1; got {columns}")
    rows = max(1, math.ceil(k / columns))
    width = _TILE_IN * (columns + 2.3)
    height = _TILE_IN * max(rows, 2) * 1.2 + _TITLE_IN
    fig = new_figure(width, height)
    body = 1.0 - _TITLE_IN / height
    # the query: two tiles wide, top left
    ax = fig.add_axes((0.1 * _TILE_IN / width, body - 2.2 * _TILE_IN / height,
                       2.0 * _TILE_IN / width, 2.0 * _TILE_IN / height))
    ax.imshow(to_uint8(query), interpolation="none")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("tab:red")
        spine.set_linewidth(3)
    ax.set_title(f"query {query_id}", fontsize=9)
    tile_w, tile_h = _TILE_IN / width, _TILE_IN / height
    left0 = 2.3 * _TILE_IN / width
    for i in range(k):
        r, c = divmod(i, columns)
        ax = fig.add_axes((left0 + c * tile_w, body - (r + 1) * 1.2 * tile_h, 0.94 * tile_w, 0.94 * tile_h))
        ax.imshow(to_uint8(imgs[i]), interpolation="none")
        ax.set_axis_off()
        ax.set_title(f"{i + 1}. {ids[i]}\nd = {dist[i]:.3g}", fontsize=6, pad=1.5)
    heading = title or f"{k} galaxies most like {query_id}"
    fig.text(0.5, 1.0 - 0.5 * _TITLE_IN / height, heading, ha="center", va="center", fontsize=11)
    return save_figure(fig, path)
