"""Rule ``acquire``: fetch, render or locate the cutouts of one batch."""

from __future__ import annotations

from typing import Any

from ..catalog import batch_rows
from ..config import config_hash
from ..tables import read_table
from .common import PathLike


def acquire(catalog_path: PathLike, batch: str, batch_size: int, source: dict[str, Any],
            download: dict[str, Any], manifest: PathLike) -> None:
    """The batch's rows come from the catalog table. ``source``: the settings that change the
    cutouts (:meth:`galclust.workflow.Plan.source_params`), which also name the cache
    variant; ``download``: how they are fetched (retries, timeouts, politeness)."""
    from ..acquire import acquire_batch

    rows = batch_rows(read_table(catalog_path), batch, batch_size)
    acquire_batch(rows, {**source, "download": download}, manifest, config_hash=config_hash(source))
