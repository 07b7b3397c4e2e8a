"""Shared plumbing for the figures: saving atomically, checking inputs, grouping labels.

Figures are built as bare :class:`matplotlib.figure.Figure` objects (no pyplot
state machine, no GUI backend): ``savefig`` renders PNG through Agg and PDF
through the PDF backend, so nothing here depends on a display or changes the
backend of an interactive session that imports the package.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..atomic import atomic_path

#: Resolution of PNG figures; PDFs are vector (embedded images keep their pixels).
PNG_DPI = 110
#: Output formats, chosen by the file suffix.
SUFFIXES = (".png", ".pdf")
#: The label value meaning "noise" (DBSCAN / HDBSCAN).
NOISE = -1

# Leave out the software version and creation date so that re-running a rule
# on the same inputs gives the same bytes.
_PNG_METADATA: dict[str, str | None] = {"Software": None}
_PDF_METADATA: dict[str, str | None] = {"Creator": None, "Producer": None, "CreationDate": None}


def figure_suffix(path: str | os.PathLike[str]) -> str:
    """Return the lower-case suffix of ``path``; raise ValueError unless it is .png or .pdf."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"{path}: cannot tell the figure format from the suffix {suffix!r}; "
            f"use one of {', '.join(SUFFIXES)}"
        )
    return suffix


def pdf_metadata() -> dict[str, str | None]:
    """PDF metadata without creator, producer or date (for reproducible bytes)."""
    return dict(_PDF_METADATA)


def new_figure(width: float, height: float, *, layout: str | None = None) -> Figure:
    """A figure of ``width`` x ``height`` inches not registered with pyplot, on an Agg canvas:
    measuring text (tick-label overlap, layout) then reuses one renderer instead of building
    a full-size one per label (a 72 x 72 heat map spent 12 s doing that)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = PNG_DPI) -> Path:
    """Save ``fig`` to ``path`` atomically (format from the suffix) and close it.

    The figure is written to a temporary sibling and renamed into place, so an
    interrupted or failing save never leaves a partial file under ``path``.
    Returns ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    try:
        suffix = figure_suffix(path)
        metadata = _PNG_METADATA if suffix == ".png" else _PDF_METADATA
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=suffix[1:], dpi=dpi, metadata=metadata)
    finally:
        _close(fig)
    return path


def _close(fig: Figure) -> None:
    """Release ``fig``: drop it from pyplot's registry (if it was made there) and clear it."""
    import matplotlib.pyplot as plt  # noqa: PLC0415  (only needed for pyplot figures)

    plt.close(fig)
    fig.clear()


def check_images(images: np.ndarray, n: int | None = None, *, what: str = "images") -> np.ndarray:
    """Check that ``images`` is (N, H, W, 3) (or (N, H, W) / (N, H, W, 1) grayscale).

    Returns a float array (N, H, W, 3); raises ValueError naming the problem.
    ``n``, when given, is the required number of images.
    """
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(
            f"{what} must have shape (N, height, width, 3) or (N, height, width); got {arr.shape}"
        )
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{what} must be numeric; got dtype {arr.dtype}")
    if arr.shape[0] == 0:
        raise ValueError(f"{what}: there are no images")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{what} and labels differ in length: {arr.shape[0]} images, {n} labels")
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return arr


def check_labels(labels: np.ndarray) -> np.ndarray:
    """Check that ``labels`` is a 1-D array of integers >= -1 (-1 is noise); return int64."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be one-dimensional; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("labels: there are no labels")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(
            arr == np.round(arr)
        ):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"labels must be integers; got dtype {arr.dtype}")
    if arr.min() < NOISE:
        raise ValueError(
            f"labels must be >= {NOISE} ({NOISE} means noise); found {int(arr.min())}"
        )
    return arr.astype(np.int64, copy=False)


def check_ids(ids: object, n: int) -> list[str] | None:
    """Return ``ids`` as a list of ``n`` strings (None stays None); raise ValueError otherwise."""
    if ids is None:
        return None
    out = [str(i) for i in np.asarray(ids).ravel().tolist()]
    if len(out) != n:
        raise ValueError(f"ids and labels differ in length: {len(out)} ids, {n} labels")
    return out


@dataclass(frozen=True)
class Group:
    """One cluster (or the noise) among the labels."""

    #: The label value in the input (-1 for noise).
    label: int
    #: Position among the clusters, 0..n-1, ordered by label value; None for noise.
    index: int | None
    #: Indices of the members in the input, ascending.
    members: np.ndarray

    @property
    def is_noise(self) -> bool:
        """True for the group of points labelled -1."""
        return self.index is None

    @property
    def name(self) -> str:
        """``"3"`` for the fourth cluster, ``"noise"`` for the noise."""
        return "noise" if self.index is None else str(self.index)


def group_labels(labels: np.ndarray) -> tuple[list[Group], int]:
    """Split checked ``labels`` into groups: clusters by label value, then the noise.

    Returns the groups and the number of clusters (noise not counted).
    """
    values, inverse = np.unique(labels, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=len(values)))[:-1]
    members = np.split(order, bounds)
    clusters: list[Group] = []
    noise: list[Group] = []
    for value, idx in zip(values.tolist(), members, strict=True):
        if value == NOISE:
            noise.append(Group(NOISE, None, idx))
        else:
            clusters.append(Group(int(value), len(clusters), idx))
    return clusters + noise, len(clusters)


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Images in [0, 1] as uint8 (values outside are clipped, non-finite ones shown black)."""
    arr = np.asarray(images)
    if np.issubdtype(arr.dtype, np.integer):
        return np.clip(arr, 0, 255).astype(np.uint8)
    arr = np.nan_to_num(arr.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=0.0)
    return (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def mosaic(
    tiles: np.ndarray, columns: int, *, rows: int | None = None, sep: int = 2, fill: int = 255
) -> np.ndarray:
    """Lay out uint8 ``tiles`` (K, H, W, 3) row by row in a grid ``columns`` wide.

    Tiles are separated by ``sep`` pixels of ``fill``; empty cells are ``fill`` too.
    ``rows`` defaults to as many as the tiles need. Returns (rows*(H+sep)-sep, ...).
    """
    k, h, w, c = tiles.shape
    rows = max(1, math.ceil(k / columns)) if rows is None else rows
    if k > rows * columns:
        raise ValueError(f"{k} tiles do not fit in {rows} x {columns}")
    out = np.full((rows * (h + sep) - sep, columns * (w + sep) - sep, c), fill, dtype=np.uint8)
    for i in range(k):
        r, col = divmod(i, columns)
        y, x = r * (h + sep), col * (w + sep)
        out[y : y + h, x : x + w] = tiles[i]
    return out


def tile_origin(i: int, columns: int, h: int, w: int, sep: int) -> tuple[int, int]:
    """Pixel (x, y) of the top-left corner of tile ``i`` in a :func:`mosaic`."""
    r, col = divmod(i, columns)
    return col * (w + sep), r * (h + sep)
