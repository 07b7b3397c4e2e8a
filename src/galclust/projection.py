"""The fitted map from raw features to a reduced feature set: z-scoring, then PCA.

Saved by rule ``reduce`` beside ``reduced.zarr`` as plain ``.npy`` arrays (never pickled), so
that a later run places new galaxies with the same transform, never a refit.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from .atomic import write_bytes_atomic

_NAMES = ("scale_mean", "scale_std", "pca_mean", "pca_components")


def write_npy(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """An ``.npy`` file written atomically, through Python's own write: numpy's ``tofile`` turns a
    full disk into an OSError without its errno, which would hide the cause."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    write_bytes_atomic(path, buffer.getvalue())


class FeatureProjection:
    """``transform(X) = ((X - scale_mean) / scale_std - pca_mean) @ pca_components.T``; either
    step may be absent (no z-scoring, no PCA). Rows (N, D) float -> (N, c) float32."""

    def __init__(self, scale_mean: np.ndarray | None = None, scale_std: np.ndarray | None = None,
                 pca_mean: np.ndarray | None = None, pca_components: np.ndarray | None = None) -> None:
        self.scale_mean, self.scale_std = scale_mean, scale_std
        self.pca_mean, self.pca_components = pca_mean, pca_components

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if self.scale_mean is not None and self.scale_std is not None:
            X = ((X - self.scale_mean) / self.scale_std).astype(np.float32).astype(np.float64)
        if self.pca_components is not None and self.pca_mean is not None:
            if X.shape[1] != len(self.pca_mean):
                raise ValueError(f"the projection expects {len(self.pca_mean)} raw features, got {X.shape[1]}")
            X = (X - self.pca_mean) @ self.pca_components.T
        return X.astype(np.float32)

    def save(self, directory: str | os.PathLike[str]) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in _NAMES:
            value = getattr(self, name)
            if value is not None:
                write_npy(directory / f"{name}.npy", np.asarray(value, dtype=np.float64))

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> FeatureProjection:
        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(f"{directory}: no saved projection (has rule reduce run there?)")
        arrays = {n: np.load(directory / f"{n}.npy", allow_pickle=False)
                  for n in _NAMES if (directory / f"{n}.npy").is_file()}
        return cls(**arrays)
