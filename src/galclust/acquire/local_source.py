"""Source ``local``: a folder of JPEG, PNG or FITS files (:mod:`galclust.acquire.local`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .base import Source
from .http import DownloadSettings, FetchResult


def fetch(rows: list[dict[str, Any]], source: Mapping[str, Any], cache_root: Path,
          settings: DownloadSettings, variant: str,  # noqa: ARG001 (nothing to download)
          on_result: Callable[[FetchResult], None]) -> list[FetchResult]:
    from .local import acquire_local  # astropy and the image readers: in the job, not the parse

    results = acquire_local(rows, source["local"], cache_root)
    for r in results:
        on_result(r)
    return results


def catalog(config: Mapping[str, Any]) -> Any:
    """One row per image of the folder (``source.local``)."""
    import numpy as np

    from ..catalog import standardise
    from ..errors import ConfigError
    from .local import scan_local_directory

    block = config["source"]["local"]
    directory = block["directory"]
    scanned = scan_local_directory(directory, block["patterns"])
    if len(scanned) == 0:
        raise ConfigError(f"config key 'source.local.directory': no images in {directory} matching "
                          f"{', '.join(block['patterns'])}")
    # A bare folder of images has no coordinates; RA/Dec 0 keeps the schema uniform.
    scanned["ra"] = np.zeros(len(scanned))
    scanned["dec"] = np.zeros(len(scanned))
    return standardise(scanned, {"id": "id", "ra": "ra", "dec": "dec", "size": None}, directory)


def check(block: Mapping[str, Any], key: str) -> None:
    """The folder is given and exists."""
    import os

    from ..errors import ConfigError

    directory = block.get("directory")
    if not directory:
        raise ConfigError(f"config key '{key}.directory': required for source 'local'")
    if not os.path.isdir(directory):
        raise ConfigError(f"config key '{key}.directory': {directory} does not exist or is not a folder")


SOURCE = Source("local", fetch, needs_coordinates=False, catalog=catalog, check=check, description="a folder of JPEG, PNG or FITS images")
