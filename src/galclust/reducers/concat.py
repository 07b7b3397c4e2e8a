"""Several feature sets as one (``from: [a, b]``, ``reduce: {method: concat}``): ``Concat``.

Each block (the reduced features of one listed feature set) is z-scored per column and divided
by the square root of its width, so every block weighs the same in Euclidean distances whatever
its width: a 64-d encoder embedding beside 12 profile values counts as much as they do, not
five times more. The means, spreads and block widths are the state, so new galaxies are placed
by the same transform (``assign.reference``).

Memory: the stacked input (n·d·4 bytes), a float64 copy while scaling and the float32 output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..arrays import as_rows
from ..errors import ConfigError
from ..params import key_of
from .base import Embedding, Reducer


def _widths(params: Mapping[str, Any], d: int) -> list[int]:
    widths = [int(w) for w in params.get("_blocks") or [d]]
    if sum(widths) != d or min(widths) < 1:
        raise ConfigError(f"config key '{key_of(params)}': blocks of widths {widths} for {d} columns")
    return widths


def _scaled(X: np.ndarray, mean: np.ndarray, std: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return ((X.astype(np.float64, copy=False) - mean) / std * weight).astype(np.float32)


def fit_transform(X: np.ndarray, params: Mapping[str, Any], seed: int, target: np.ndarray | None = None) -> Embedding:
    """Z-score each column, then weigh each block by 1/sqrt(its width); ``seed``, ``target`` unused."""
    X = as_rows(X, "concat")
    widths = _widths(params, X.shape[1])
    mean = X.mean(axis=0, dtype=np.float64)
    std = X.std(axis=0, dtype=np.float64)
    std = np.where(std > 0, std, 1.0)  # a constant column stays 0
    weight = np.concatenate([np.full(w, 1.0 / np.sqrt(w)) for w in widths])
    state = {"mean": mean, "std": std, "weight": weight, "widths": np.asarray(widths, dtype=np.int64)}
    info = {"label": "Concat-" + "+".join(str(w) for w in widths), "widths": widths}
    return Embedding(values=_scaled(X, mean, std, weight), state=state, info=info)


def transform(state: Mapping[str, np.ndarray], X: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """New rows through the fitted scaling (float32)."""
    X = as_rows(X, "concat transform")
    mean = np.asarray(state["mean"])
    if X.shape[1] != len(mean):
        raise ValueError(f"concat transform: rows have {X.shape[1]} features, the fit had {len(mean)}")
    return _scaled(X, mean, np.asarray(state["std"]), np.asarray(state["weight"]))


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    return int(4 * n * d + 8 * n * d + 4 * n * d)


REDUCER = Reducer(
    name="concat",
    label="Concat",
    fit_transform=fit_transform,
    memory_bytes=memory_bytes,
    transform=transform,
    combines=True,
    description="several feature sets side by side, each z-scored and weighed by 1/sqrt(width)",
)
