"""Source ``demo``: render each galaxy of the embedded sample (:mod:`galclust.demo`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import CatalogError
from ..ids import safe_id
from .base import Source
from .http import DownloadSettings, FetchResult
from .validate import is_blank_rgb

#: Extension of demo cutouts (the demo imitates SDSS JPEG cutouts).
DEMO_EXT = "jpg"


def fetch(rows: list[dict[str, Any]], source: Mapping[str, Any], cache_root: Path,
          settings: DownloadSettings, variant: str,  # noqa: ARG001 (nothing to download)
          on_result: Callable[[FetchResult], None]) -> list[FetchResult]:
    from .. import demo  # imported late: the demo generator is optional for real sources
    from ..errors import ImageError
    from ..imageio import read_rgb

    block = source.get("demo", {})
    size = int(block.get("image_size", 424))
    tag = variant[:10] if variant else hashlib.sha256(
        json.dumps(block, sort_keys=True, default=str).encode()
    ).hexdigest()[:10]
    folder = cache_root / "demo" / f"demo_{size}_{tag}"
    out: list[FetchResult] = []
    for row in rows:
        try:
            gid = safe_id(row["id"])
        except CatalogError as exc:
            res = FetchResult(str(row["id"]), None, "failed", 0, f"unsafe id ({exc})")
            out.append(res)
            on_result(res)
            continue
        dest = folder / f"{gid}.{DEMO_EXT}"
        status = "cached"
        try:
            rgb = read_rgb(dest) if dest.exists() else None
        except ImageError:
            rgb = None  # unreadable: render again
        try:
            if rgb is None:
                status = "ok"
                # write_cutout is atomic itself: wrapping it in atomic_path nested two temporaries,
                # and a kill between them left one no later writer recognised as its own
                demo.write_cutout(row, dest, image_size=size)
                rgb = read_rgb(dest)
            if is_blank_rgb(rgb):
                res = FetchResult(gid, dest, "blank", 0, "blank frame")
            else:
                res = FetchResult(gid, dest, status, 0, "")
        except Exception as exc:  # one galaxy's failure never fails the batch
            res = FetchResult(gid, dest, "failed", 0, f"demo rendering failed ({exc})")
        out.append(res)
        on_result(res)
    return out


def catalog(config: Mapping[str, Any]) -> Any:
    """The demo sample drawn from the seed (``source.demo``)."""
    from .. import demo
    from ..catalog import standardise

    block = config["source"]["demo"]
    table = demo.draw_catalog(block["n_galaxies"], config["seed"], block.get("class_mix"))
    return standardise(table, {"id": "id", "ra": "ra", "dec": "dec", "size": "r_e"}, "demo catalog")


SOURCE = Source("demo", fetch, needs_coordinates=False, row_settings=("n_galaxies", "class_mix"), catalog=catalog,
                description="the embedded demo sample, rendered with known truth")
