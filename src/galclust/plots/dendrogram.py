"""Ward dendrogram of the features, with example galaxies at the top merges.

As in the reference study's dendrogram figure: the tree is truncated to its
last ``n_leaves`` clusters (leaves labelled with their member counts), and
small mosaics of member galaxies sit on the top nodes so one can see what
each branch holds.
"""

from __future__ import annotations

import math
import os

import numpy as np
from matplotlib.offsetbox import AnnotationBbox, OffsetImage, TextArea, VPacker
from scipy.cluster.hierarchy import dendrogram, linkage

from ._common import check_images, figure_suffix, mosaic, new_figure, save_figure, to_uint8

_FRAME_COLOR = "0.2"  # neutral, so as not to clash with the branch colours


def _node_members(z: np.ndarray, node: int, n: int) -> np.ndarray:
    """Indices of the original points under ``node`` of linkage ``z`` (n points)."""
    stack, out = [node], []
    while stack:
        i = stack.pop()
        if i < n:
            out.append(i)
        else:
            a, b = z[i - n, :2].astype(int)
            stack += [a, b]
    return np.sort(np.asarray(out, dtype=np.int64))


def _top_nodes(z: np.ndarray, n: int, displayed_leaves: set[int], levels: int) -> list[tuple[int, int]]:
    """(node, level) for the top ``levels`` levels of merges shown as internal nodes."""
    out: list[tuple[int, int]] = []
    frontier = [2 * n - 2]
    for level in range(levels):
        nxt = []
        for node in frontier:
            if node < n or node in displayed_leaves:
                continue  # shown as a leaf of the truncated tree: no merge to illustrate
            out.append((node, level))
            nxt += [int(z[node - n, 0]), int(z[node - n, 1])]
        frontier = nxt
    return out


def _positions(z: np.ndarray, n: int, leaves: list[int]) -> dict[int, tuple[float, float]]:
    """(x, y) of every node drawn by scipy's dendrogram (leaves at x = 5, 15, 25, ...)."""
    pos = {leaf: (5.0 + 10.0 * i, 0.0) for i, leaf in enumerate(leaves)}
    # Merges are in order of height, so children always come before parents.
    for row in range(n - 1):
        node = n + row
        if node in pos:
            continue
        a, b = int(z[row, 0]), int(z[row, 1])
        if a in pos and b in pos:
            pos[node] = ((pos[a][0] + pos[b][0]) / 2.0, float(z[row, 2]))
    return pos


def dendrogram_with_images(
    features: np.ndarray,
    images: np.ndarray | None,
    path: str | os.PathLike[str],
    *,
    n_leaves: int = 32,
    n_image_levels: int = 3,
    seed: int = 0,
    title: str = "",
    examples_per_node: int = 4,
    units: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Draw the Ward dendrogram of ``features`` with example images; return the linkage.

    ``units``: at scale, ``(linkage, assignment)`` of a Ward tree over m weighted
    micro-clusters (:func:`galclust.methods._ward.ward_linkage`, its fourth column counting
    galaxies) and each galaxy's micro-cluster; then nothing N × N is built and the tree's
    leaves are micro-clusters, labelled with their galaxy counts.

    ``features`` is (N, d), ``images`` (N, H, W, 3) in [0, 1], or None for
    features without images (then the top nodes show their sizes only). The linkage is
    ``scipy.cluster.hierarchy.linkage(features, "ward")``, shape (N-1, 4). The
    tree is truncated to the last ``n_leaves`` clusters (``truncate_mode="lastp"``)
    and every leaf is labelled with its member count. The nodes of the top
    ``n_image_levels`` levels of merges (1 + 2 + 4 ... nodes; a branch that is a
    leaf of the truncated tree is not descended) each get an inset of
    ``examples_per_node`` random members (seeded by ``seed`` and the node, so
    deterministic) and the node's size. Ward needs the full distance matrix:
    memory grows as 4 N² bytes (N = 20 000 takes about 1.6 GB).
    """
    figure_suffix(path)
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"features must have shape (N, d); got {x.shape}")
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"a dendrogram needs at least 2 points; got {n}")
    if not np.all(np.isfinite(x)):
        raise ValueError("features contain NaN or infinite values")
    imgs = None
    if images is not None:
        imgs = np.asarray(images)
        if imgs.ndim >= 1 and imgs.shape[0] != n:
            raise ValueError(
                f"images and features differ in length: {imgs.shape[0]} images, {n} rows of features"
            )
        imgs = check_images(imgs, n)
    if n_leaves < 2 or n_image_levels < 0 or examples_per_node < 1 or seed < 0:
        raise ValueError(
            "need n_leaves >= 2, n_image_levels >= 0, examples_per_node >= 1, seed >= 0; got "
            f"{n_leaves}, {n_image_levels}, {examples_per_node}, {seed}"
        )

    n_galaxies = n
    assign = None
    if units is None:
        z = linkage(x, method="ward")
        leaf_counts = np.ones(n, dtype=int)
    else:
        z, assign = np.asarray(units[0], dtype=np.float64), np.asarray(units[1], dtype=np.int64)
        if len(assign) != n:
            raise ValueError(f"units: {len(assign)} assignments for {n} rows of features")
        n = len(z) + 1  # the tree's leaves are the micro-clusters from here on
        leaf_counts = np.bincount(assign, minlength=n)
    p = min(n_leaves, n)
    counts = np.concatenate([leaf_counts, np.zeros(n - 1, dtype=int)])  # galaxies under each node
    for row, (a, b) in enumerate(z[:, :2].astype(int)):
        counts[n + row] = counts[a] + counts[b]

    def leaf_label(node: int) -> str:
        """Member count of a leaf of the truncated tree."""
        return str(counts[node])

    def galaxies_under(node: int) -> np.ndarray:
        members = _node_members(z, node, n)
        return members if assign is None else np.flatnonzero(np.isin(assign, members))

    fig_w, fig_h = max(9.0, 2.0 + 0.3 * p), 7.5
    ax_left, ax_bottom, ax_h_in = 0.9, 0.75, fig_h - 0.75 - (0.6 if title else 0.25)
    fig = new_figure(fig_w, fig_h)
    ax = fig.add_axes(
        (ax_left / fig_w, ax_bottom / fig_h, 1 - (ax_left + 0.3) / fig_w, ax_h_in / fig_h)
    )
    d = dendrogram(
        z,
        truncate_mode="lastp",
        p=p,
        ax=ax,
        leaf_label_func=leaf_label,
        leaf_rotation=90,
        leaf_font_size=8,
        above_threshold_color="0.35",
    )
    leaves = [int(v) for v in d["leaves"]]
    pos = _positions(z, n, leaves)
    top = _top_nodes(z, n, set(leaves), n_image_levels)

    inset_in = 1.0
    root_h = float(z[-1, 2]) or 1.0
    ax.set_ylim(0.0, root_h / max(0.3, 1.0 - (inset_in + 0.35) / ax_h_in))
    ax.set_ylabel("Ward distance")
    ax.set_xlabel("cluster size (leaves of the truncated tree)")
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)

    for node, level in top:
        members = galaxies_under(node)
        if imgs is None:
            ax.annotate(f"{len(members)}", pos[node], xytext=(0, 4), textcoords="offset points",
                        ha="center", fontsize=8, color="0.15")
            ax.plot(*pos[node], "o", color=_FRAME_COLOR, markersize=4, zorder=3)
            continue
        rng = np.random.default_rng([seed, node])
        k = min(examples_per_node, len(members))
        chosen = np.sort(rng.choice(members, size=k, replace=False))
        cols = math.ceil(math.sqrt(k))
        grid = mosaic(to_uint8(imgs[chosen]), cols, sep=2)
        size_pt = 72.0 * inset_in * (1.0 - 0.12 * min(level, 3))
        image = OffsetImage(grid, zoom=size_pt / max(grid.shape[:2]), interpolation="antialiased")
        text = TextArea(f"{len(members)}", textprops={"fontsize": 7, "color": "0.15"})
        box = AnnotationBbox(
            VPacker(children=[text, image], align="center", pad=0, sep=1),
            pos[node],
            xybox=(0.0, 3.0),
            xycoords="data",
            boxcoords="offset points",
            box_alignment=(0.5, 0.0),
            frameon=True,
            pad=0.15,
            bboxprops={"edgecolor": _FRAME_COLOR, "linewidth": 1.2, "facecolor": "white"},
            zorder=3 + level,
        )
        ax.add_artist(box)
        ax.plot(*pos[node], "o", color=_FRAME_COLOR, markersize=4, zorder=3)

    heading = f"{title} — " if title else ""
    fig.suptitle(
        f"{heading}Ward dendrogram of {n_galaxies} galaxies"
        + (f" ({n} micro-clusters)" if assign is not None else "") + f", last {p} clusters",
        y=1.0 - 0.1 / fig_h, va="top", fontsize=12,
    )
    save_figure(fig, path)
    return z
