"""The acquire stage itself: one batch of catalog rows -> cutouts in the cache + its manifest
(the package docstring, :mod:`galclust.acquire`, gives the layout and the manifest's columns)."""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Row, Table

from ..errors import GalclustError
from ..tables import read_table, write_table
from .http import DownloadSettings, FetchResult, Progress

log = logging.getLogger("galclust.acquire")

MANIFEST_COLUMNS = ("id", "path", "status", "attempts", "reason")


# -- configuration ----------------------------------------------------------------------
def fill_source_defaults(source: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a ``source`` block, validated, with every schema default filled in (idempotent):
    for calling :func:`acquire_batch` outside the workflow, whose jobs get the block so."""
    from ..config import with_defaults

    return with_defaults(dict(source), "source")


def _ensure_progress_visible() -> None:
    # Snakemake scripts rarely configure logging; without a handler INFO lines
    # would vanish, and the progress line is the point. Configured apps win.
    if not log.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s galclust.acquire: %(message)s"))
        log.addHandler(handler)
        if log.level == logging.NOTSET:
            log.setLevel(logging.INFO)


# -- rows ---------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if value is np.ma.masked or isinstance(value, np.ma.core.MaskedConstant):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def _row_dict(row: Row | Mapping[str, Any]) -> dict[str, Any]:
    names = row.colnames if isinstance(row, Row) else list(row)
    return {name: _plain(row[name]) for name in names}


# -- manifest -----------------------------------------------------------------------------
def _manifest(results: list[FetchResult]) -> Table:
    return Table(
        {
            "id": [r.id for r in results],
            "path": [os.path.abspath(r.path) if r.path else "" for r in results],
            "status": [r.status for r in results],
            "attempts": np.array([r.attempts for r in results], dtype=np.int64),
            "reason": [r.reason for r in results],
        },
        dtype=[str, str, str, np.int64, str],
    )


def read_manifest(path: str | os.PathLike[str]) -> Table:
    """Read a manifest written by :func:`acquire_batch`, empty strings restored."""
    table = read_table(path)
    for name in ("id", "path", "status", "reason"):
        if name in table.colnames and hasattr(table[name], "filled"):
            table[name] = table[name].filled("").astype(str)
    return Table(table, masked=False)


# -- the stage ----------------------------------------------------------------------------
def acquire_batch(
    rows: Table,
    source: Mapping[str, Any],
    manifest_path: str | os.PathLike[str],
    *,
    config_hash: str = "",
) -> Table:
    """Fetch, render or locate the cutouts of one batch; write and return its manifest.

    ``rows`` has the standard columns ``id``, ``ra``, ``dec``, ``size`` (arcsec,
    may be NaN/masked) plus any catalog columns. ``source``: the cutout settings as
    the workflow's ``params`` give them, validated and defaulted in the parse
    (elsewhere: :func:`fill_source_defaults`), and ``download``. ``config_hash``
    names the demo variant. Raises :class:`~galclust.errors.GalclustError`,
    naming the manifest, when more than ``download.max_failed_fraction`` of the
    rows failed; the manifest is written first.
    """
    _ensure_progress_visible()
    manifest_path = Path(manifest_path)
    kind = source["kind"]
    settings = DownloadSettings.from_config(source.get("download"))
    cache_root = Path(source.get("cache_dir", "resources/cutouts"))
    progress = Progress(label=f"acquire {manifest_path.name} ({kind})", total=len(rows))

    dicts = [_row_dict(r) for r in rows]
    # A repeated id would make two workers write one file; keep the first.
    seen: set[str] = set()
    dup_idx: set[int] = set()
    for i, r in enumerate(dicts):
        gid = str(r.get("id"))
        if gid in seen:
            dup_idx.add(i)
        seen.add(gid)
    unique = [r for i, r in enumerate(dicts) if i not in dup_idx]

    from .sources import SOURCES

    if kind not in SOURCES:
        raise GalclustError(f"config key 'source.kind': unknown source {kind!r} (known: {', '.join(SOURCES)})")
    if not isinstance(source.get(kind), Mapping):
        raise GalclustError(f"config key 'source.{kind}': missing; acquire_batch takes the source block with "
                            "its defaults (the workflow's params.source, or fill_source_defaults)")
    results = SOURCES[kind].fetch(unique, source, cache_root, settings, config_hash, progress.update)

    if dup_idx:
        it = iter(results)
        merged = []
        for i, r in enumerate(dicts):
            if i in dup_idx:
                dup = FetchResult(str(r.get("id")), None, "failed", 0, "duplicate id in batch")
                progress.update(dup)
                merged.append(dup)
            else:
                merged.append(next(it))
        results = merged

    table = _manifest(results)
    table.meta["source_kind"] = kind
    write_table(table, manifest_path)
    progress.finish()

    n = len(table)
    n_failed = int(np.sum(table["status"] == "failed")) if n else 0
    fraction = n_failed / n if n else 0.0
    limit = settings.max_failed_fraction
    if n_failed:
        reasons: dict[str, int] = {}
        for r in results:
            if r.status == "failed":
                reasons[r.reason] = reasons.get(r.reason, 0) + 1
        top = "; ".join(f"{k} x{v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:5])
        log.warning("%s: %d of %d failed (%s)", manifest_path, n_failed, n, top)
    if fraction > limit and not math.isclose(fraction, limit):
        raise GalclustError(
            f"{n_failed} of {n} galaxies failed to acquire ({fraction:.1%} > "
            f"source.download.max_failed_fraction = {limit:g}); see the table of "
            f"(id, status, attempts, reason) in {manifest_path}"
        )
    return table
