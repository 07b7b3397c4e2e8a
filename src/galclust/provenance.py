"""Provenance: what made each output, and the run manifest (``results/manifest.json``).

Zarr stores record the config hash, the galclust version and the versions of the key
packages in their attrs (``config_hash``, ``galclust_version``, ``provenance``), label
tables in their ECSV meta (same keys). The manifest gathers these per output, and gives
every other file its size and SHA-256, so that a result can be traced to what made it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import __version__
from .atomic import write_text_atomic
from .store import provenance as package_versions

__all__ = ["describe_output", "file_digest", "manifest", "package_versions", "write_manifest"]

PathLike = str | os.PathLike[str]
_CHUNK = 1 << 20


def file_digest(path: PathLike) -> dict[str, Any]:
    """Size in bytes and SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return {"size": Path(path).stat().st_size, "sha256": digest.hexdigest()}


_KEYS = ("config_hash", "galclust_version", "provenance")


def _recorded(meta: dict[str, Any]) -> dict[str, Any]:
    """The provenance keys of a store's attrs or a table's meta (None where absent)."""
    return {
        "config_hash": meta.get("config_hash"),
        "galclust_version": meta.get("galclust_version"),
        "packages": dict(meta.get("provenance") or {}) or None,
    }


def _rest(meta: dict[str, Any]) -> dict[str, Any]:
    """Attrs or meta without the provenance keys (given once, by :func:`_recorded`)."""
    return {k: v for k, v in meta.items() if k not in _KEYS}


def _jsonable(value: Any) -> Any:
    """ECSV meta may hold OrderedDicts and numpy scalars: make them plain JSON."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def describe_output(path: PathLike) -> dict[str, Any]:
    """One manifest entry.

    * Zarr store: ``kind: zarr``, its provenance and its other attrs;
    * ECSV table: ``kind: table``, size, SHA-256, its provenance and its other meta;
    * JSON file: ``kind: file``, size, SHA-256 and the provenance keys it holds, if any;
    * other file: ``kind: file``, size and SHA-256;
    * other folder: ``kind: directory`` and the size and SHA-256 of each file in it.
    """
    p = Path(path)
    if p.is_dir() and (p / "zarr.json").exists():
        from .store import read_attrs

        attrs = _jsonable(read_attrs(p))
        return {"kind": "zarr", **_recorded(attrs), "attrs": _rest(attrs)}
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.name != ".snakemake_timestamp")
        return {"kind": "directory", "files": {str(f.relative_to(p)): file_digest(f) for f in files}}
    entry: dict[str, Any] = {"kind": "file", **file_digest(p)}
    if p.suffix == ".ecsv":
        from .tables import read_table

        meta = _jsonable(dict(read_table(p).meta))
        entry.update({"kind": "table", **_recorded(meta), "meta": _rest(meta)})
    elif p.suffix == ".json":
        try:
            content = json.loads(p.read_text())
        except ValueError:
            content = None
        if isinstance(content, dict) and "config_hash" in content:
            entry.update(_recorded(content))
    return entry


def manifest(run_hash: str, outputs: Iterable[PathLike]) -> dict[str, Any]:
    """The run manifest: the run's config hash and versions, and one entry per output."""
    return {
        "config_hash": run_hash,
        "galclust_version": __version__,
        "packages": package_versions(),
        "outputs": {str(p): describe_output(p) for p in sorted({str(p) for p in outputs})},
    }


def write_manifest(run_hash: str, outputs: Iterable[PathLike], out: PathLike) -> None:
    """Write :func:`manifest` as indented JSON, atomically (rule ``manifest``)."""
    write_text_atomic(out, json.dumps(manifest(run_hash, outputs), indent=2, sort_keys=True) + "\n")
