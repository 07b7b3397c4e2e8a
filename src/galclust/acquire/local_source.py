"""Source ``local``: a folder of JPEG, PNG or FITS files (:mod:`galclust.acquire.local`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .base import Source
from .http import DownloadSettings, FetchResult
from .local import acquire_local


def fetch(rows: list[dict[str, Any]], source: Mapping[str, Any], cache_root: Path,
          settings: DownloadSettings, variant: str,  # noqa: ARG001 (nothing to download)
          on_result: Callable[[FetchResult], None]) -> list[FetchResult]:
    results = acquire_local(rows, source["local"], cache_root)
    for r in results:
        on_result(r)
    return results


SOURCE = Source("local", fetch, needs_coordinates=False, description="a folder of JPEG, PNG or FITS images")
