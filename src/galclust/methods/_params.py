"""Reading a clustering job's params with messages that name the config key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError


def as_rows(X: np.ndarray, what: str) -> np.ndarray:
    """``X`` as a finite 2-D array (float32 kept as is, anything else float64)."""
    arr = np.asarray(X)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{what}: features must be a non-empty 2-D array; got shape {arr.shape}")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: features contain NaN or infinite values")
    return arr


def int_param(params: Mapping[str, Any], method: str, key: str, default: int | None, *, minimum: int = 1) -> int:
    """``params[key]`` (or ``default``) as an int ≥ minimum; ConfigError naming ``clustering.<method>.<key>``."""
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"config key 'clustering.{method}.{key}': expected an integer >= {minimum}, got {value!r}")
    return int(value)


def float_param(params: Mapping[str, Any], method: str, key: str, default: float, *, minimum: float = 0.0) -> float:
    """``params[key]`` (or ``default``) as a float > minimum; ConfigError naming the key."""
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value > minimum:
        raise ConfigError(f"config key 'clustering.{method}.{key}': expected a number > {minimum}, got {value!r}")
    return float(value)
