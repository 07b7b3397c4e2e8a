"""Bring-your-own features (``extractor: file``): a feature set read from the user's file.

Not computed from images: no cutouts, no batches; its rows are the file's (``ids`` beside it,
or row numbers). The workflow learns all it needs from this entry: the file is the feature
set's input, its shape bounds PCA and clustering, and the reduce step reads it whole.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from .base import ExtractorKind


def _not_extracted(model: Mapping[str, Any], model_path: str | None, seed: int, name: str) -> Any:
    raise TypeError(f"feature store '{name}': user features are read from their file, never extracted")


def check(fs: Mapping[str, Any], key: str) -> None:
    """The file is named and exists (before any job)."""
    if "file" not in fs:
        raise ConfigError(f"config key '{key}.file': required when extractor is 'file'")
    if not os.path.exists(fs["file"]):
        raise ConfigError(f"config key '{key}.file': {fs['file']} not found")


def shape(fs: Mapping[str, Any], key: str) -> tuple[int, int]:
    """(rows, columns) of the file, read from its header; errors name ``<key>.file`` / ``.ids``."""
    from ..tables import read_table

    path = fs["file"]
    try:
        if path.endswith(".npy"):
            found = np.load(path, mmap_mode="r", allow_pickle=False).shape
        elif path.endswith(".zarr"):
            from ..store import open_store

            found = open_store(path)["features"].shape
        else:
            table = read_table(path)
            found = (len(table), len([c for c in table.colnames if c != "id"]))
    except Exception as exc:  # any unreadable file: one line naming it
        raise ConfigError(f"config key '{key}.file': cannot read {path} ({' '.join(str(exc).split())[:200]})") from None
    if len(found) != 2:
        raise ConfigError(f"config key '{key}.file': {path} holds an array of shape {tuple(found)}; expected "
                          "galaxies × features (2-D)")
    if fs.get("ids"):
        ids_path = fs["ids"]
        try:
            n_ids = (len(np.load(ids_path, mmap_mode="r", allow_pickle=False)) if ids_path.endswith(".npy")
                     else len(read_table(ids_path)))
        except Exception as exc:
            raise ConfigError(f"config key '{key}.ids': cannot read {ids_path} ({exc})") from None
        if n_ids != found[0]:
            raise ConfigError(f"config key '{key}.ids': {n_ids} ids for the {found[0]} rows of {path}")
    return int(found[0]), int(found[1])


def read(stores: Sequence[str], fs: Mapping[str, Any], name: str) -> tuple[np.ndarray, np.ndarray]:
    """(ids, float32 features) of the file (``stores`` is the file itself, the feature set's input)."""
    from ..stages.userfeatures import load_user_features

    return load_user_features(dict(fs), name)


def inputs(fs: Mapping[str, Any]) -> list[str]:
    """The feature file: the jobs reading it rerun when it changes."""
    return [str(fs["file"])]


KIND = ExtractorKind(
    "file", builtin=True, build=_not_extracted, label=lambda fs: Path(fs["file"]).stem,
    array=lambda fs: "features", read=read, images=False, check=check, shape=shape, inputs=inputs,
    origin=lambda fs, key: f"{fs['file']} ({key}.file)", tta=False,
    description="your own features: .npy (no pickle), a Zarr store or a table, with optional ids",
)
