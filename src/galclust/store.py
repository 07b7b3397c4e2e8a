"""Zarr stores of per-galaxy arrays (images, features) with their ids and provenance.

A store is a Zarr v3 group: an ``ids`` string array, one or more 2-D+ arrays
whose first axis is aligned with ``ids``, and attrs recording what made it.
Stores are written into a temporary directory and renamed, so a store under
its final name is always complete.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import zarr

from . import __version__
from .atomic import atomic_path

DEFAULT_CHUNK_ROWS = 256


def provenance() -> dict[str, Any]:
    """Versions of galclust and its key packages, recorded in every store."""
    import importlib.metadata as md

    versions = {"python": platform.python_version(), "galclust": __version__}
    for pkg in ("numpy", "scipy", "scikit-learn", "astropy", "zarr", "pillow", "keras", "tensorflow", "tensorflow-cpu"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    return versions


class StoreWriter:
    """Write arrays row-block by row-block into an open Zarr group.

    Use through :func:`create_store`, which makes the write atomic.
    """

    def __init__(self, group: zarr.Group, n_rows: int, chunk_rows: int) -> None:
        self.group = group
        self.n_rows = n_rows
        self.chunk_rows = max(1, min(chunk_rows, max(n_rows, 1)))

    def create(self, name: str, row_shape: Sequence[int], dtype: Any = "float32") -> zarr.Array:
        """Create an (n_rows, *row_shape) array."""
        return self.group.create_array(
            name,
            shape=(self.n_rows, *row_shape),
            chunks=(self.chunk_rows, *row_shape),
            dtype=dtype,
        )

    def write(self, name: str, start: int, block: np.ndarray) -> None:
        """Write ``block`` at rows ``start:start+len(block)`` of array ``name``."""
        self.group[name][start : start + len(block)] = block


@contextmanager
def create_store(
    path: str | os.PathLike[str],
    ids: Sequence[str],
    attrs: dict[str, Any] | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[StoreWriter]:
    """Create a store at ``path`` atomically; yields a :class:`StoreWriter`."""
    with atomic_path(path, directory=True) as tmp:
        group = zarr.open_group(str(tmp), mode="w")
        writer = StoreWriter(group, len(ids), chunk_rows)
        id_arr = writer.create("ids", (), dtype=str)
        if len(ids):
            id_arr[:] = np.asarray(ids, dtype=str)
        group.attrs.update({"provenance": provenance(), **(attrs or {})})
        yield writer


def write_store(
    path: str | os.PathLike[str],
    ids: Sequence[str],
    arrays: dict[str, np.ndarray],
    attrs: dict[str, Any] | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> None:
    """Write whole in-memory arrays to a new store at ``path``."""
    with create_store(path, ids, attrs, chunk_rows=chunk_rows) as writer:
        for name, arr in arrays.items():
            if len(arr) != len(ids):
                raise ValueError(f"array {name!r} has {len(arr)} rows for {len(ids)} ids")
            writer.create(name, arr.shape[1:], arr.dtype)
            if len(arr):
                writer.write(name, 0, arr)


def open_store(path: str | os.PathLike[str]) -> zarr.Group:
    """Open a store read-only, naming the path if it is not a galclust store."""
    try:
        group = zarr.open_group(str(path), mode="r")
    except Exception as exc:
        raise FileNotFoundError(f"{path}: not a readable Zarr store ({exc})") from None
    if "ids" not in group:
        raise ValueError(f"{path}: Zarr store has no 'ids' array")
    return group


def _as_str(values: Any) -> np.ndarray:
    # Zarr returns numpy's variable-width StringDType, which cannot be cast to a
    # fixed-width '<U' array directly; go through Python strings.
    return np.array(np.asarray(values).tolist(), dtype=str)


def read_ids(path: str | os.PathLike[str]) -> np.ndarray:
    """All ids of a store."""
    return _as_str(open_store(path)["ids"][:])


def read_array(path: str | os.PathLike[str], name: str) -> np.ndarray:
    """A whole array of a store (use :func:`iter_blocks` for large ones)."""
    group = open_store(path)
    if name not in group:
        raise KeyError(f"{path}: no array {name!r} (has: {', '.join(sorted(group.array_keys()))})")
    return np.asarray(group[name][:])


def read_attrs(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The attrs of a store."""
    return dict(open_store(path).attrs)


def iter_blocks(
    paths: Sequence[str | os.PathLike[str]], name: str, block_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(ids, rows)`` blocks of array ``name`` across stores, in order.

    Only one block is in memory at a time, whatever the total size.
    """
    for path in paths:
        group = open_store(path)
        if name not in group:
            raise KeyError(f"{path}: no array {name!r}")
        arr, ids = group[name], group["ids"]
        for start in range(0, arr.shape[0], block_rows):
            stop = min(start + block_rows, arr.shape[0])
            yield _as_str(ids[start:stop]), np.asarray(arr[start:stop])


def count_rows(paths: Sequence[str | os.PathLike[str]]) -> int:
    """Total rows over several stores."""
    return sum(open_store(p)["ids"].shape[0] for p in paths)


def row_width(path: str | os.PathLike[str], name: str) -> int:
    """Number of values per row of array ``name`` once flattened."""
    shape = open_store(path)[name].shape
    return int(np.prod(shape[1:]))
