"""Checking the feature arrays that methods and reducers take."""

from __future__ import annotations

import numpy as np


def as_rows(X: np.ndarray, what: str) -> np.ndarray:
    """``X`` as a finite, non-empty 2-D array (float32 kept as is, anything else float64);
    ValueError naming ``what`` otherwise."""
    arr = np.asarray(X)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{what}: features must be a non-empty 2-D array; got shape {arr.shape}")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: features contain NaN or infinite values")
    return arr
