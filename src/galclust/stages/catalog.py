"""Rule ``catalog``: the standardised catalog (with any truth columns) as ECSV."""

from __future__ import annotations

from typing import Any

from ..catalog import load_catalog
from ..tables import write_table
from .common import PathLike


def catalog(settings: dict[str, Any], out: PathLike) -> None:
    """``settings``: the config's ``catalog``, ``source`` and ``seed`` (what the catalog depends on)."""
    write_table(load_catalog(settings), out)
