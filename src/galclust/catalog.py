"""Catalogs: read any astropy table, map its columns, validate every row, split into batches.

The loaded catalog always has the standard columns ``id`` (str), ``ra``, ``dec``
(degrees) and ``size`` (arcsec, half-light radius; NaN when unknown), plus the
catalog's other columns (truth, training targets...). Batches are consecutive
rows, so galaxies appended to a catalog never move an existing galaxy to
another batch.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from .batches import batch_index
from .errors import CatalogError
from .ids import is_safe_id
from .tables import read_table

STANDARD = ("id", "ra", "dec", "size")


def _rows(mask: np.ndarray, limit: int = 10) -> str:
    # 1-based data rows, as a person counts them in a table viewer.
    idx = np.flatnonzero(mask) + 1
    shown = ", ".join(str(i) for i in idx[:limit])
    return shown + (f" and {len(idx) - limit} more" if len(idx) > limit else "")


def read_catalog_file(path: str | os.PathLike[str], fmt: str | None = None) -> Table:
    """Read a catalog file (CSV, ECSV, FITS, VOTable...), naming the file on failure."""
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"{path}: catalog file not found")
    try:
        return Table.read(path, format=fmt) if fmt else read_table(path)
    except Exception as exc:  # astropy raises many exception types for bad files
        raise CatalogError(f"{path}: cannot read the catalog ({exc})") from None


def standardise(table: Table, columns: dict[str, str | None], source: str, *,
                require_coordinates: bool = True) -> Table:
    """Rename the configured columns to ``id, ra, dec, size`` and validate every row.

    ``source`` (the file name) prefixes every message. Raises CatalogError naming
    the missing columns or the offending rows. Without ``require_coordinates`` (a source that
    never looks at the sky, e.g. a folder of images) absent ra/dec/size columns become NaN.
    """
    wanted = {std: columns.get(std, std) for std in STANDARD}
    if not require_coordinates:
        wanted.update({std: None for std in ("ra", "dec", "size") if wanted[std] not in table.colnames})
    missing = [
        f"'{col}' (catalog.columns.{std})"
        for std, col in wanted.items()
        if col is not None and col not in table.colnames
    ]
    if missing:
        raise CatalogError(
            f"{source}: missing column(s) {', '.join(missing)}; the table has: "
            + ", ".join(table.colnames)
        )
    out = Table(masked=False)
    n = len(table)
    raw_ids = table[wanted["id"]]
    ids = np.array(
        [(v.decode() if isinstance(v, bytes) else str(v)).strip()  # FITS strings are bytes
         for v in np.asarray(raw_ids.filled("") if hasattr(raw_ids, "filled") else raw_ids)],
        dtype=str,
    )
    out["id"] = ids
    for std in ("ra", "dec", "size"):
        col = wanted[std]
        if col is None:
            out[std] = np.full(n, np.nan)
            continue
        values = table[col]
        try:
            filled = values.filled(np.nan) if hasattr(values, "filled") else values
            out[std] = np.asarray(filled, dtype=float)
        except (TypeError, ValueError):
            raise CatalogError(f"{source}: column '{col}' ({std}) is not numeric") from None
    # The catalog's own columns stay too (under their own names), for truth and targets.
    for name in table.colnames:
        if name not in STANDARD:
            out[name] = table[name]
    _validate(out, source, size_required=wanted["size"] is not None,
              coordinates_required=wanted["ra"] is not None or wanted["dec"] is not None)
    return out


def _validate(table: Table, source: str, *, size_required: bool, coordinates_required: bool = True) -> None:
    problems = []
    ids = np.asarray(table["id"], dtype=str)
    empty = ids == ""
    if empty.any():
        problems.append(f"empty id in rows {_rows(empty)}")
    unsafe = np.array([not is_safe_id(v) for v in ids], dtype=bool) & ~empty
    if unsafe.any():
        problems.append(
            f"ids unsafe as file names (only letters, digits and _.+- allowed) in rows {_rows(unsafe)}"
        )
    _, first, counts = np.unique(ids, return_index=True, return_counts=True)
    dup_values = set(ids[first[counts > 1]])
    duplicated = np.array([v in dup_values for v in ids], dtype=bool) & ~empty
    if duplicated.any():
        problems.append(f"duplicate ids in rows {_rows(duplicated)}")
    ra, dec = np.asarray(table["ra"]), np.asarray(table["dec"])
    bad_ra = ~np.isfinite(ra) | (ra < 0) | (ra >= 360)
    if coordinates_required and bad_ra.any():
        problems.append(f"ra missing, NaN or outside [0, 360) in rows {_rows(bad_ra)}")
    bad_dec = ~np.isfinite(dec) | (dec < -90) | (dec > 90)
    if coordinates_required and bad_dec.any():
        problems.append(f"dec missing, NaN or outside [-90, 90] in rows {_rows(bad_dec)}")
    if size_required:
        size = np.asarray(table["size"])
        bad_size = ~np.isfinite(size) | (size <= 0)
        if bad_size.any():
            problems.append(f"size missing, NaN or <= 0 in rows {_rows(bad_size)}")
    if len(table) == 0:
        problems.append("the catalog has no rows")
    if problems:
        raise CatalogError(f"{source}: " + "; ".join(problems))


def load_catalog(config: dict[str, Any]) -> Table:
    """The validated, standardised catalog of a (validated) config."""
    from .acquire.sources import SOURCES

    source = config["source"]
    cat_cfg = config["catalog"]
    columns = cat_cfg.get("columns", {})
    kind = SOURCES[source["kind"]]
    if kind.catalog is not None and not cat_cfg.get("path") and not cat_cfg.get("sql"):
        return kind.catalog(config)  # the source makes its own (the demo draws it, a folder is scanned)
    if cat_cfg.get("sql") and not cat_cfg.get("path"):
        from .acquire import fetch_sql_catalog

        sql = cat_cfg["sql"]
        path = fetch_sql_catalog(sql["query"], source, sql["cache"])
        return standardise(read_catalog_file(path, "ascii.csv"), columns, str(path))
    path = cat_cfg["path"]
    return standardise(read_catalog_file(path, cat_cfg.get("format")), columns, str(path),
                       require_coordinates=kind.needs_coordinates)


def batch_rows(table: Table, name: str, batch_size: int) -> Table:
    """The rows of batch ``name``."""
    start = batch_index(name) * batch_size
    return table[start : start + batch_size]


def rows_digest(rows: Table, columns: Sequence[str] | None = None) -> str:
    """A digest of a batch's rows: it changes exactly when the batch's content changes."""
    cols = list(columns) if columns else rows.colnames
    h = hashlib.sha256()
    h.update(json.dumps(cols).encode())
    for col in cols:
        arr = np.asarray(rows[col])
        if arr.dtype.kind in "OUS":
            # Not the fixed-width bytes: a longer string appended elsewhere widens the dtype.
            h.update(json.dumps(arr.astype(str).tolist()).encode())
        else:
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]
