"""What is in each cluster: every member per cluster (PDFs), examples per cluster, sizes.

Labels are integers; -1 is noise (DBSCAN / HDBSCAN) and is shown as its own
group called "noise", after the clusters. Clusters are ordered by label value
and numbered 0..n-1 in that order (n not counting the noise); the same numbers
are used in file names, row labels and bar labels.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages

from ..atomic import atomic_path
from ._common import (
    NOISE,
    Group,
    check_ids,
    check_images,
    check_labels,
    figure_suffix,
    group_labels,
    mosaic,
    new_figure,
    pdf_metadata,
    save_figure,
    tile_origin,
    to_uint8,
)

_SEP = 2  # pixels between thumbnails
_PAGE_WIDTH_IN = 8.0
_TITLE_IN = 0.45


def member_pdf_name(group: Group, n_clusters: int) -> str:
    """File name of a group's member PDF: ``cluster_3_of_12.pdf`` or ``cluster_noise_of_12.pdf``."""
    return f"cluster_{group.name}_of_{n_clusters}.pdf"


def _group_title(group: Group, n_clusters: int, count: int) -> str:
    """Page title of a group: ``cluster 3 of 12 — 57 galaxies`` or ``noise (label -1) — ...``."""
    noun = "galaxy" if count == 1 else "galaxies"
    if group.is_noise:
        return f"noise (label {NOISE}) — {count} {noun}"
    return f"cluster {group.index} of {n_clusters} — {count} {noun}"


def cluster_member_pdfs(
    images: np.ndarray,
    labels: np.ndarray,
    outdir: str | os.PathLike[str],
    *,
    columns: int = 10,
    max_per_page: int = 100,
    title_prefix: str = "",
    ids: np.ndarray | list[str] | None = None,
) -> list[Path]:
    """Write one PDF per cluster showing every member, and return their paths.

    ``images`` is (N, H, W, 3) in [0, 1], ``labels`` (N,) integers with -1 for
    noise. For cluster i of n the file is ``outdir/cluster_{i}_of_{n}.pdf``; the
    noise goes to ``cluster_noise_of_{n}.pdf``. Members appear in input order,
    ``columns`` per row, at most ``max_per_page`` per page (more pages as
    needed); each page is titled with the cluster and its count. Each page is
    a single mosaic image with thin white separators, so writing is fast.
    ``ids`` (N,), if given, are printed on the thumbnails.

    ``outdir`` is written as a whole: it is built under a temporary name and
    renamed into place, replacing an existing ``outdir``. Raises ValueError on
    mismatched or malformed inputs before anything is written.
    """
    labs = check_labels(labels)
    imgs = check_images(images, len(labs))
    id_list = check_ids(ids, len(labs))
    if columns < 1 or max_per_page < 1:
        raise ValueError(f"columns and max_per_page must be >= 1; got {columns}, {max_per_page}")
    groups, n_clusters = group_labels(labs)
    outdir = Path(outdir)
    names: list[str] = []
    with atomic_path(outdir, directory=True) as tmp:
        tmp.mkdir()
        for group in groups:
            name = member_pdf_name(group, n_clusters)
            title = _group_title(group, n_clusters, len(group.members))
            if title_prefix:
                title = f"{title_prefix}: {title}"
            _write_member_pdf(
                tmp / name,
                imgs,
                group.members,
                title,
                columns=columns,
                max_per_page=max_per_page,
                ids=id_list,
            )
            names.append(name)
    return [outdir / name for name in names]


def _write_member_pdf(
    path: Path,
    images: np.ndarray,
    members: np.ndarray,
    title: str,
    *,
    columns: int,
    max_per_page: int,
    ids: list[str] | None,
) -> None:
    """Write the pages of one group's PDF (``path`` lies in a temporary directory)."""
    _, h, w, _ = images.shape
    n_pages = max(1, math.ceil(len(members) / max_per_page))
    tile_in = _PAGE_WIDTH_IN / columns
    with PdfPages(path, metadata=pdf_metadata()) as pdf:
        for page in range(n_pages):
            chunk = members[page * max_per_page : (page + 1) * max_per_page]
            tiles = to_uint8(images[chunk])
            grid = mosaic(tiles, columns, sep=_SEP)
            img_h_in = _PAGE_WIDTH_IN * grid.shape[0] / grid.shape[1]
            fig = new_figure(_PAGE_WIDTH_IN, img_h_in + _TITLE_IN)
            try:
                ax = fig.add_axes((0.0, 0.0, 1.0, img_h_in / (img_h_in + _TITLE_IN)))
                ax.imshow(grid, interpolation="none", aspect="auto")
                ax.set_axis_off()
                page_title = title if n_pages == 1 else f"{title} (page {page + 1} of {n_pages})"
                fig.text(0.5, 1.0 - 0.5 * _TITLE_IN / (img_h_in + _TITLE_IN), page_title,
                         ha="center", va="center", fontsize=12)
                if ids is not None:
                    chunk_ids = [ids[i] for i in chunk]
                    _label_tiles(ax, chunk_ids, columns, h, w,
                                 fontsize=_id_fontsize(chunk_ids, tile_in, 8.0))
                pdf.savefig(fig)
            finally:
                fig.clear()


def _id_fontsize(texts: list[str], tile_in: float, largest: float) -> float:
    """A font size (points) at which the longest of ``texts`` fits a tile ``tile_in`` wide."""
    longest = max((len(t) for t in texts), default=1)
    return max(3.5, min(largest, tile_in * 8.0, tile_in * 72.0 / (0.62 * max(longest, 1))))


def _label_tiles(
    ax: Axes, labels: list[str], columns: int, h: int, w: int, *, fontsize: float
) -> None:
    """Print ``labels`` at the bottom of the mosaic tiles of ``ax``."""
    for i, text in enumerate(labels):
        x, y = tile_origin(i, columns, h, w, _SEP)
        ax.text(x + w / 2, y + h - 1, text, ha="center", va="bottom", fontsize=fontsize,
                color="white", clip_on=True,
                bbox={"facecolor": "black", "alpha": 0.5, "pad": 0.5, "linewidth": 0})


def pick_examples(labels: np.ndarray, n_examples: int, seed: int = 0) -> dict[int, np.ndarray]:
    """Choose up to ``n_examples`` members of each group at random, reproducibly.

    Returns {label value: sorted member indices}, including -1 for noise if
    present. Each group's choice depends only on ``seed``, its label value and
    its members, so adding or removing another cluster does not change it.
    """
    labs = check_labels(labels)
    if n_examples < 1:
        raise ValueError(f"n_examples must be >= 1; got {n_examples}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0; got {seed}")
    groups, _ = group_labels(labs)
    out: dict[int, np.ndarray] = {}
    for group in groups:
        rng = np.random.default_rng([seed, group.label + 1])
        k = min(n_examples, len(group.members))
        out[group.label] = np.sort(rng.choice(group.members, size=k, replace=False))
    return out


def cluster_summary(
    images: np.ndarray,
    labels: np.ndarray,
    path: str | os.PathLike[str],
    *,
    n_examples: int = 5,
    seed: int = 0,
    ids: np.ndarray | list[str] | None = None,
    title: str = "",
    max_rows_per_block: int = 60,
    image_rows: np.ndarray | None = None,
) -> Path:
    """One figure with a row per cluster: its number and size, then example members.

    Examples are chosen by :func:`pick_examples` (``n_examples`` per group,
    deterministic for a ``seed``). With more groups than ``max_rows_per_block``
    the rows are split into side-by-side blocks of equal length (177 clusters
    -> 3 blocks of 59 rows), and the row height shrinks down to 0.4 inch, so
    the figure stays legible. ``ids`` (N,), if given, are printed on the
    thumbnails. Format from the suffix of ``path`` (.png or .pdf).

    ``image_rows``: when given, ``images`` holds only these galaxies (``images[i]`` is galaxy
    ``image_rows[i]``), which must include every example :func:`pick_examples` picks: at N
    galaxies the figure then needs the examples' pixels, not all N images.
    """
    figure_suffix(path)
    labs = check_labels(labels)
    id_list = check_ids(ids, len(labs))
    if max_rows_per_block < 1:
        raise ValueError(f"max_rows_per_block must be >= 1; got {max_rows_per_block}")
    picks = pick_examples(labs, n_examples, seed)
    if image_rows is None:
        imgs = check_images(images, len(labs))
    else:
        rows_given = np.asarray(image_rows, dtype=np.int64)
        imgs = check_images(images, len(rows_given))
        position = {int(g): i for i, g in enumerate(rows_given)}
        missing = sorted({int(g) for chosen in picks.values() for g in chosen} - position.keys())
        if missing:
            raise ValueError(f"image_rows lacks the examples picked: galaxies {missing[:5]}")
        picks = {label: np.array([position[int(g)] for g in chosen], dtype=np.int64)
                 for label, chosen in picks.items()}
        id_list = None if id_list is None else [id_list[int(g)] for g in rows_given]
    groups, n_clusters = group_labels(labs)
    _, h, w, _ = imgs.shape

    n_blocks = math.ceil(len(groups) / max_rows_per_block)
    rows = math.ceil(len(groups) / n_blocks)
    row_in = min(1.0, max(0.4, 18.0 / rows))
    label_in = 1.3
    gap_in = 0.25
    noise = " + noise" if groups[-1].is_noise else ""
    counts = f"{n_clusters} clusters{noise}, {len(labs)} galaxies"
    # the title on its own line above the counts; the figure at least as wide as either
    heading = f"{title}\n{counts}" if title else f"clusters — {counts}"
    top_in = 0.75 if title else 0.3
    block_in = label_in + n_examples * row_in * (w + _SEP) / (h + _SEP) + gap_in
    content_w = n_blocks * block_in
    fig_w = max(content_w, 0.3 + 0.1 * max(len(line) for line in heading.splitlines()))
    left_in = (fig_w - content_w) / 2  # centre the blocks under a wider title
    fig_h = rows * row_in + top_in + 0.15
    fig = new_figure(fig_w, fig_h)
    fontsize = min(10.0, max(6.0, row_in * 72 * 0.3))
    for b in range(n_blocks):
        block = groups[b * rows : (b + 1) * rows]
        tiles = np.zeros((len(block) * n_examples, h, w, 3), dtype=np.uint8)
        filled = np.zeros(len(tiles), dtype=bool)
        tile_ids: list[tuple[int, str]] = []
        for r, group in enumerate(block):
            chosen = picks[group.label]
            tiles[r * n_examples : r * n_examples + len(chosen)] = to_uint8(imgs[chosen])
            filled[r * n_examples : r * n_examples + len(chosen)] = True
            if id_list is not None:
                tile_ids += [(r * n_examples + j, id_list[i]) for j, i in enumerate(chosen)]
        grid = mosaic(tiles, n_examples, sep=_SEP)
        for t in np.flatnonzero(~filled):  # cells without a member stay white
            x, y = tile_origin(int(t), n_examples, h, w, _SEP)
            grid[y : y + h, x : x + w] = 255
        ax_h = len(block) * row_in
        ax = fig.add_axes((
            (left_in + b * block_in + label_in) / fig_w,
            (fig_h - top_in - ax_h) / fig_h,
            (block_in - label_in - gap_in) / fig_w,
            ax_h / fig_h,
        ))
        ax.imshow(grid, interpolation="antialiased", aspect="auto")
        ax.set_xticks([])
        ax.set_yticks([r * (h + _SEP) + h / 2 for r in range(len(block))])
        ax.set_yticklabels(
            [_row_label(g) for g in block], fontsize=fontsize
        )
        ax.tick_params(axis="y", length=0, pad=4)
        for spine in ax.spines.values():
            spine.set_visible(False)
        id_fontsize = _id_fontsize([t for _, t in tile_ids], row_in, fontsize * 0.6)
        for t, text in tile_ids:
            x, y = tile_origin(t, n_examples, h, w, _SEP)
            ax.text(x + w / 2, y + h - 1, text, ha="center", va="bottom",
                    fontsize=id_fontsize, color="white", clip_on=True,
                    bbox={"facecolor": "black", "alpha": 0.5, "pad": 0.3, "linewidth": 0})
    fig.suptitle(heading, y=1.0 - 0.12 / fig_h, va="top", fontsize=12)
    return save_figure(fig, path)


def _row_label(group: Group) -> str:
    """Row label in the summary: the cluster (or noise) and its size, on two lines."""
    name = "noise" if group.is_noise else f"cluster {group.index}"
    count = len(group.members)
    return f"{name}\n{count} {'galaxy' if count == 1 else 'galaxies'}"


def cluster_sizes(labels: np.ndarray, path: str | os.PathLike[str], *, title: str = "") -> Path:
    """Bar chart of cluster sizes, largest first; the noise (if any) is a grey bar at the end."""
    figure_suffix(path)
    labs = check_labels(labels)
    groups, n_clusters = group_labels(labs)
    clusters = sorted((g for g in groups if not g.is_noise), key=lambda g: -len(g.members))
    noise = [g for g in groups if g.is_noise]
    sizes = [len(g.members) for g in clusters]
    n_bars = len(sizes) + len(noise)
    fig = new_figure(min(16.0, max(6.0, 3.0 + 0.22 * n_bars)), 4.5, layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(sizes))
    ax.bar(x, sizes, color="tab:blue", width=0.8)
    ticks, ticklabels = list(x), [g.name for g in clusters]
    if noise:
        xn = len(sizes) + (0.5 if sizes else 0.0)
        ax.bar([xn], [len(noise[0].members)], color="0.6", width=0.8)
        ticks.append(xn)
        ticklabels.append("noise")
    if n_bars <= 60:
        ax.set_xticks(ticks)
        ax.set_xticklabels(ticklabels, rotation=90 if n_bars > 20 else 0, fontsize=8)
        ax.set_xlabel("cluster (sorted by size)")
    else:
        ax.set_xticks([ticks[-1]] if noise else [])
        ax.set_xticklabels(["noise"] if noise else [])
        ax.set_xlabel(f"{n_clusters} clusters, sorted by size")
    if n_bars <= 30:
        values = sizes + ([len(noise[0].members)] if noise else [])
        for xi, v in zip(ticks, values, strict=True):
            ax.annotate(str(v), (xi, v), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 2), textcoords="offset points")
    ax.set_ylabel("galaxies")
    ax.margins(x=0.01)
    stats = f"{n_clusters} clusters, {len(labs)} galaxies"
    if noise:
        stats += f" ({len(noise[0].members)} noise)"
    if sizes:
        stats += f"; cluster sizes: largest {max(sizes)}, smallest {min(sizes)}, median {np.median(sizes):g}"
    ax.set_title(f"{title}\n{stats}" if title else stats, fontsize=10)
    return save_figure(fig, path)
