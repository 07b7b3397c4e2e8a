"""Acquire stage: one batch of catalog rows -> raw cutouts in the cache + a manifest.

:func:`acquire_batch` dispatches on ``source.kind``:

``demo``
    renders each galaxy with :func:`galclust.demo.write_cutout`.
``sdss`` / ``legacy``
    downloads from SkyServer ImgCutout / the Legacy Survey viewer with
    :class:`~galclust.acquire.http.Downloader` (retries, politeness, validation,
    atomic writes, resume).
``local``
    maps rows to files of a folder (:mod:`galclust.acquire.local`).

Raw cutouts live in ``{cache_dir}/{kind}/{variant}/{id}.{ext}``, outside
``results/``; ``variant`` names the settings that change the pixels (readable
part plus a hash), so a changed setting never reuses stale cutouts and a
changed preprocessing never downloads again.

Every batch writes a manifest (ECSV) with columns ``id, path, status, attempts,
reason``; status is ``ok`` (fetched now), ``cached`` (valid file from an
earlier run), ``blank`` (a blank frame, kept but to be skipped) or ``failed``.
One galaxy's failure never fails the batch; the batch fails -- after the
manifest is written -- only when the failed fraction exceeds
``download.max_failed_fraction``.

Read a manifest with :func:`read_manifest` (ECSV reads empty strings back as
masked values; it fills them with "").
"""

# The names below load on first use (PEP 562): the workflow's parse imports the source registry
# (galclust.acquire.sources) in every snakemake invocation, SLURM jobs' own included, and importing
# this package must not pull in astropy.table and requests for it.
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "MANIFEST_COLUMNS": ".batch",
    "acquire_batch": ".batch",
    "fill_source_defaults": ".batch",
    "read_manifest": ".batch",
    "fetch_sql_catalog": ".sql",
    "safe_id": ".services",
    "scan_local_directory": ".local",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
