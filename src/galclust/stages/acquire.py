"""Rule ``acquire``: fetch, render or locate the cutouts of one batch."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..catalog import batch_rows
from ..config import config_hash
from ..errors import GalclustError
from ..tables import read_table
from .common import PathLike


def acquire(catalog_path: PathLike, batch: str, batch_size: int, source: dict[str, Any],
            download: dict[str, Any], manifest: PathLike, kept_on_failure: PathLike | None = None) -> None:
    """The batch's rows come from the catalog table. ``source``: the settings that change the
    cutouts (:meth:`galclust.workflow.Plan.source_params`), which also name the cache
    variant; ``download``: how they are fetched (retries, timeouts, politeness).

    When too many galaxies fail, Snakemake removes the failed job's output, so the table of
    (id, status, attempts, reason) is kept at ``kept_on_failure`` (beside the job's log), and
    the message names that copy.
    """
    from ..acquire import acquire_batch

    rows = batch_rows(read_table(catalog_path), batch, batch_size)
    try:
        acquire_batch(rows, {**source, "download": download}, manifest, config_hash=config_hash(source))
    except GalclustError as exc:
        if kept_on_failure is None or not Path(manifest).is_file():
            raise
        Path(kept_on_failure).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(manifest, kept_on_failure)
        raise GalclustError(str(exc).replace(str(manifest), str(kept_on_failure))) from None
