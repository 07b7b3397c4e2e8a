"""What a cutout source is to the workflow: one :class:`Source` entry per ``source.kind``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .http import DownloadSettings, FetchResult

#: (rows as dicts, the full source block, cache root, download settings, variant tag, progress
#: callback) -> one FetchResult per row, in order
Fetcher = Callable[[list[dict[str, Any]], Mapping[str, Any], Path, DownloadSettings, str,
                    Callable[[FetchResult], None]], list[FetchResult]]


@dataclass(frozen=True)
class Source:
    """A source of cutouts.

    - ``fetch``: render, download or locate the cutouts of one batch's rows.
    - ``needs_coordinates``: catalogs must have RA/Dec (and the size, where ``needs_size``).
    - ``row_settings``: keys of ``source.<name>`` that only choose catalog rows (the batch's
      row digest covers them), left out of the cutout settings so appending galaxies never
      re-renders earlier batches.
    - ``schema``: the JSON-schema block of a plugin's ``source.<name>`` settings.
    """

    name: str
    fetch: Fetcher
    needs_coordinates: bool = True
    row_settings: tuple[str, ...] = ()
    #: (the source's own block) -> how preprocess decodes its raw files, None for plain images
    read_options: Callable[[Mapping[str, Any]], dict[str, Any] | None] = lambda block: None
    schema: Mapping[str, Any] | None = None
    #: (the validated config) -> the catalog, standardised, when ``catalog.path`` and
    #: ``catalog.sql`` are not given (the demo draws one, a folder is scanned); None: a
    #: catalog file is required
    catalog: Callable[[Mapping[str, Any]], Any] | None = None
    #: (the source's own block, its config key) -> what the schema cannot check, before any job
    check: Callable[[Mapping[str, Any], str], None] | None = None
    description: str = ""
