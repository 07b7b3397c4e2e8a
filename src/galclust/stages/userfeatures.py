"""Bring-your-own features (``extractor: file``): .npy (no pickle), a Zarr store, or a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, GalclustError
from ..store import read_array, read_ids
from ..tables import read_table


def load_user_features(fs: dict[str, Any], name: str) -> tuple[np.ndarray, np.ndarray]:
    """(ids, float32 features) of feature set ``name``; errors name the key, file and rows."""
    path = Path(fs["file"])
    key = f"features.{name}.file"
    if not path.exists():
        raise ConfigError(f"config key '{key}': {path} not found")
    if path.suffix == ".npy":
        X = np.load(path, allow_pickle=False)
        ids = None
    elif path.suffix == ".zarr" or path.is_dir():
        X, ids = read_array(path, "features"), read_ids(path)
    else:
        table = read_table(path)
        id_col = "id" if "id" in table.colnames else None
        ids = np.asarray(table[id_col], dtype=str) if id_col else None
        X = np.column_stack([np.asarray(table[c], dtype=float) for c in table.colnames if c != id_col])
    if X.ndim != 2:
        raise GalclustError(f"{path}: features must be a 2-D array (galaxies × features), got shape {X.shape}")
    if fs.get("ids"):
        id_path = Path(fs["ids"])
        if id_path.suffix == ".npy":
            ids = np.load(id_path, allow_pickle=False).astype(str)
        else:
            id_table = read_table(id_path)
            ids = np.asarray(id_table[id_table.colnames[0]], dtype=str)
    if ids is None:
        ids = np.arange(len(X)).astype(str)
    if len(ids) != len(X):
        raise GalclustError(f"{path}: {len(X)} feature rows but {len(ids)} ids")
    if not np.isfinite(X).all():
        bad = np.flatnonzero(~np.isfinite(X).all(axis=1))[:10] + 1
        raise GalclustError(f"{path}: non-finite feature values in rows {', '.join(map(str, bad))}")
    return ids, np.asarray(X, dtype=np.float32)
