"""PCA of in-memory rows as a :class:`~galclust.reducers.base.Reducer` (``PCA-7``).

Wraps the streamed :class:`galclust.reduce.ChunkedPCA` (IncrementalPCA block by block), so
the same code path and numbers as the feature-set compression are used. ``n_components``
is an integer or a variance fraction in (0, 1) (then up to ``max_components`` are fitted).

Memory: the input (n·d·4 bytes as float32) plus, per partial fit, a float64 copy of one
block and the SVD of a (block + k) × d matrix (≈ 3 (block + k) d · 8 bytes), plus the
components (k·d·8) and the n × k output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..arrays import as_rows
from ..errors import ConfigError
from ..reduce import ChunkedPCA
from ..params import int_param, key_of
from .base import Embedding, Reducer, label

BLOCK_ROWS = 1024


def _n_components(params: Mapping[str, Any]) -> int | float:
    value = params.get("n_components", 7)
    if isinstance(value, float) and 0 < value < 1:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(
            f"config key '{key_of(params)}.n_components': expected an integer >= 1 or a variance fraction in (0, 1), got {value!r}"
        )
    return int(value)


def fit_transform(X: np.ndarray, params: Mapping[str, Any], seed: int, target: np.ndarray | None = None) -> Embedding:
    """Fit PCA on the rows of X and project them; ``seed`` and ``target`` are unused (PCA is exact)."""
    X = as_rows(X, "PCA")
    max_components = int_param(params, "max_components", 200)
    pca = ChunkedPCA(_n_components(params), max_components=max_components, block_rows=BLOCK_ROWS)
    blocks = lambda: (X[i : i + BLOCK_ROWS] for i in range(0, len(X), BLOCK_ROWS))  # noqa: E731
    pca.fit(blocks, len(X), X.shape[1])
    values = np.concatenate([pca.transform(b) for b in blocks()])
    state = {
        "components": np.asarray(pca.components_, dtype=np.float64),
        "mean": np.asarray(pca.mean_, dtype=np.float64),
        "explained_variance_ratio": np.asarray(pca.explained_variance_ratio_, dtype=np.float64),
    }
    info = {
        "route": "incremental",
        "label": label("PCA", pca.n_components_),
        "n_components": int(pca.n_components_),
        "explained_variance": float(pca.explained_variance_ratio_.sum()),
    }
    return Embedding(values=values, state=state, info=info)


def transform(state: Mapping[str, np.ndarray], X: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """Project new rows with a fitted state (float32, n × k)."""
    X = as_rows(X, "PCA transform")
    components, mean = np.asarray(state["components"]), np.asarray(state["mean"])
    if X.shape[1] != components.shape[1]:
        raise ValueError(f"PCA transform: rows have {X.shape[1]} features, the fit had {components.shape[1]}")
    return ((X.astype(np.float64, copy=False) - mean) @ components.T).astype(np.float32)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Predicted peak bytes of :func:`fit_transform` on an n × d float32 array."""
    wanted = params.get("n_components", 7)
    k = min(int(params.get("max_components", 200)) if isinstance(wanted, float) else int(wanted), n, d)
    block = max(k, min(BLOCK_ROWS, n))
    return int(4 * n * d + 8 * 3 * (2 * block + k) * d + 8 * k * d + 4 * n * k)


REDUCER = Reducer(
    name="pca",
    label="PCA",
    fit_transform=fit_transform,
    memory_bytes=memory_bytes,
    transform=transform,
    supervised=False,
    description="principal component analysis (IncrementalPCA in blocks; exact, linear, transform available)",
)
