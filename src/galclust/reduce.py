"""PCA compression of feature sets that never holds all raw features in memory.

:class:`ChunkedPCA` feeds blocks of rows to scikit-learn's IncrementalPCA, so a
37,632-wide feature set of any number of galaxies is reduced in bounded memory.
``n_components`` is an integer, or a variance fraction: then up to
``max_components`` are fitted and the smallest number reaching the fraction kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

import numpy as np

log = logging.getLogger(__name__)

BlockSource = Callable[[], Iterable[np.ndarray]]


def _reblock(blocks: Iterable[np.ndarray], min_rows: int) -> Iterator[np.ndarray]:
    """Re-cut blocks so that each has at least ``min_rows`` rows (IncrementalPCA needs
    ≥ n_components rows per partial fit); the remainder joins the last block."""
    buffer: list[np.ndarray] = []
    held = 0
    for block in blocks:
        if len(block) == 0:
            continue
        buffer.append(block)
        held += len(block)
        if held >= 2 * min_rows:
            joined = np.concatenate(buffer)
            yield joined[: held - min_rows]
            buffer, held = [joined[held - min_rows :]], min_rows
    if buffer:
        yield np.concatenate(buffer)


class ChunkedPCA:
    """PCA fitted block by block (scikit-learn style: fit, transform)."""

    def __init__(self, n_components: int | float, *, max_components: int = 200, block_rows: int = 512,
                 progress_interval: float = 30.0) -> None:
        if isinstance(n_components, bool) or n_components <= 0:
            raise ValueError(f"n_components must be a positive integer or a fraction in (0, 1), got {n_components!r}")
        if isinstance(n_components, float) and not n_components < 1:
            raise ValueError(f"a variance fraction must be below 1, got {n_components}")
        self.n_components = n_components
        self.max_components = max_components
        self.block_rows = block_rows
        self.progress_interval = progress_interval

    def fit(self, blocks: BlockSource, n_samples: int, n_features: int) -> "ChunkedPCA":
        """Fit on the blocks that ``blocks()`` yields (n_samples rows in all)."""
        if n_samples < 2:
            raise ValueError(f"PCA needs at least 2 galaxies, got {n_samples}")
        wanted = self.n_components if isinstance(self.n_components, int) else self.max_components
        k = int(min(wanted, n_samples, n_features))
        if isinstance(self.n_components, int) and k < self.n_components:
            log.warning("PCA: %d components requested, only %d possible (%d galaxies, %d features)",
                        self.n_components, k, n_samples, n_features)
        from sklearn.decomposition import IncrementalPCA  # here: the registry's import stays light

        from .progress import ProgressLog

        self._ipca = IncrementalPCA(n_components=k)
        progress = ProgressLog(f"PCA fit ({n_features} features)", n_samples, interval=self.progress_interval)
        for block in _reblock(blocks(), max(k, self.block_rows)):
            self._ipca.partial_fit(block.astype(np.float64, copy=False))
            progress.advance(len(block))
        progress.finish()
        # Features without any variance (e.g. identical images) give 0/0 ratios.
        ratios = np.nan_to_num(self._ipca.explained_variance_ratio_, nan=0.0)
        if not ratios.any():
            log.warning("PCA: the features have no variance; every component explains 0")
        if isinstance(self.n_components, float):
            keep = int(np.searchsorted(np.cumsum(ratios), self.n_components) + 1)
            self.n_components_ = min(keep, k)
        else:
            self.n_components_ = k
        self.explained_variance_ratio_ = ratios[: self.n_components_].astype(np.float64)
        self.components_ = self._ipca.components_[: self.n_components_]
        self.mean_ = self._ipca.mean_
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Project rows onto the kept components."""
        X = np.asarray(X, dtype=np.float64)
        return ((X - self.mean_) @ self.components_.T).astype(np.float32)
