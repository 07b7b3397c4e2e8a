"""Reading and atomically writing astropy tables (catalogs, label tables, reports)."""

from __future__ import annotations

import os
from pathlib import Path

from astropy.table import Table

from .atomic import atomic_path

_FORMATS = {
    ".ecsv": "ascii.ecsv",
    ".csv": "ascii.csv",
    ".tsv": "ascii.tab",
    ".fits": "fits",
    ".fit": "fits",
    ".vot": "votable",
    ".xml": "votable",
}


def table_format(path: str | os.PathLike[str]) -> str | None:
    """The astropy format name for a file name, or None to let astropy guess."""
    return _FORMATS.get(Path(path).suffix.lower())


def write_table(table: Table, path: str | os.PathLike[str]) -> None:
    """Write ``table`` to ``path`` atomically, the format chosen by the extension."""
    fmt = table_format(path)
    with atomic_path(path) as tmp:
        kwargs = {"delimiter": "\t"} if fmt == "ascii.tab" else {}
        if fmt == "ascii.tab":
            fmt = "ascii.basic"
        table.write(tmp, format=fmt, overwrite=True, **kwargs)


def read_table(path: str | os.PathLike[str]) -> Table:
    """Read a table written by :func:`write_table` (or any astropy-readable table)."""
    fmt = table_format(path)
    if fmt == "ascii.tab":
        return Table.read(path, format="ascii.basic", delimiter="\t")
    return Table.read(path, format=fmt) if fmt else Table.read(path)
