"""Preprocess a batch: decode each cutout, resize to size×size×3 in [0, 1], store in Zarr.

Unreadable or corrupt images are listed in the batch's report table and skipped;
they never fail the batch.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from .errors import ImageError
from .imageio import read_rgb, resize_rgb
from .store import create_store
from .tables import write_table

log = logging.getLogger(__name__)

USABLE_STATUS = ("ok", "cached")


def load_image(
    path: str | os.PathLike[str],
    size: int,
    read_options: dict[str, Any] | None = None,
    normalise_settings: Any = None,
) -> tuple[np.ndarray, str]:
    """One cutout as float32 (size, size, 3) in [0, 1], and the detection flag
    ("" when the galaxy was found, or normalisation is off)."""
    image = read_rgb(path, **(read_options or {}))
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 2:
        raise ImageError(f"{path}: unexpected image shape {image.shape}")
    if normalise_settings is None:
        return resize_rgb(image, size), ""
    from .normalise import normalise

    out, detection = normalise(image, size, normalise_settings)
    return out, detection.flag


def preprocess_batch(
    manifest_path: str | os.PathLike[str],
    store_path: str | os.PathLike[str],
    report_path: str | os.PathLike[str],
    *,
    size: int = 80,
    attrs: dict[str, Any] | None = None,
    read_options: dict[str, Any] | None = None,
    normalise: dict[str, Any] | None = None,
    chunk_rows: int = 64,
) -> Table:
    """Preprocess the cutouts listed in an acquire manifest.

    Writes the image store (``images`` (n, size, size, 3) float32 and ``ids``) and a
    report table (id, path, status, reason, detection) with one row per galaxy of the
    manifest; status is ``ok`` or ``skipped``; ``detection`` says why the galaxy-finding
    normalisation fell back to a plain resize (empty when it did not). Returns the report.
    """
    settings = None
    if normalise and (normalise.get("mode", "none") != "none" or normalise.get("mask_stars")):
        from .normalise import NormaliseSettings

        settings = NormaliseSettings.from_config(normalise)
    from .acquire import read_manifest

    manifest = read_manifest(manifest_path)
    base = Path(manifest_path).parent
    ids, images, report_rows = [], [], []
    for row in manifest:
        gid, status = str(row["id"]), str(row["status"])
        path = Path(str(row["path"])) if str(row["path"]) else None
        if path is not None and not path.is_absolute() and not path.exists():
            path = base / path
        if status not in USABLE_STATUS or path is None:
            report_rows.append((gid, str(row["path"]), "skipped", f"acquire status {status}: {row['reason']}", ""))
            continue
        try:
            image, flag = load_image(path, size, read_options, settings)
        except (ImageError, OSError) as exc:
            log.warning("skipping %s: %s", gid, exc)
            report_rows.append((gid, str(path), "skipped", str(exc), ""))
            continue
        images.append(image)
        ids.append(gid)
        report_rows.append((gid, str(path), "ok", "", flag))
    stack = np.stack(images) if images else np.zeros((0, size, size, 3), np.float32)
    n_flagged = sum(1 for r in report_rows if r[4])
    meta = {"image_size": size, "n_skipped": len(report_rows) - len(ids), "n_detection_failed": n_flagged,
            "normalise": normalise or {"mode": "none"}, **(attrs or {})}
    with create_store(store_path, ids, meta, chunk_rows=chunk_rows) as writer:
        writer.create("images", (size, size, 3))
        if len(stack):
            writer.write("images", 0, stack)
    report = Table(rows=report_rows or None, names=("id", "path", "status", "reason", "detection"),
                   dtype=(str, str, str, str, str))
    write_table(report, report_path)
    log.info("preprocessed %d of %d galaxies (%d skipped) -> %s",
             len(ids), len(manifest), len(report_rows) - len(ids), store_path)
    return report
