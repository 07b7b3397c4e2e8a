"""Sources ``sdss`` and ``legacy``: cutout services over HTTP (:class:`~galclust.acquire.http.Downloader`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import CatalogError
from .base import Source
from .http import Downloader, DownloadSettings, FetchItem, FetchResult
from .services import CutoutRequest, MissingSizeError, legacy_request, legacy_variant, sdss_request, sdss_variant
from .validate import check_body, check_file

RequestBuilder = Callable[[Mapping[str, Any], Mapping[str, Any], Path], CutoutRequest]


def _planned(rows: list[dict[str, Any]], block: Mapping[str, Any], folder: Path,
             build: RequestBuilder) -> list[CutoutRequest | FetchResult]:
    planned: list[CutoutRequest | FetchResult] = []
    for row in rows:
        try:
            planned.append(build(row, block, folder))
        except CatalogError as exc:
            planned.append(FetchResult(str(row["id"]), None, "failed", 0, f"unsafe id ({exc})"))
        except MissingSizeError as exc:
            planned.append(FetchResult(str(row["id"]), None, "failed", 0, str(exc)))
        except (KeyError, TypeError, ValueError) as exc:
            planned.append(FetchResult(str(row["id"]), None, "failed", 0, f"bad catalog row ({exc})"))
    return planned


def _sweep_stale_temporaries(folder: Path, max_age_s: float = 3600.0) -> None:
    """Remove temporary files a killed job left behind (never a recent one: it may be in use)."""
    if not folder.is_dir():
        return
    now = time.time()
    for p in folder.glob(".*.tmp*"):
        try:
            if now - p.stat().st_mtime > max_age_s:
                p.unlink()
        except OSError:
            pass


def download(rows: list[dict[str, Any]], folder: Path, block: Mapping[str, Any], build: RequestBuilder,
             settings: DownloadSettings, on_result: Callable[[FetchResult], None]) -> list[FetchResult]:
    """Fetch every row's cutout into ``folder`` (valid cached files are never fetched again)."""
    planned = _planned(rows, block, folder, build)
    _sweep_stale_temporaries(folder)
    max_bytes = settings.max_bytes

    def item(req: CutoutRequest) -> FetchItem:
        return FetchItem(
            id=req.id,
            url=req.url,
            dest=req.dest,
            check=lambda body, ctype: check_body(
                body, req.fmt, req.width, req.height, content_type=ctype, max_bytes=max_bytes
            ),
            check_cached=lambda path: check_file(path, req.fmt, req.width, req.height),
        )

    items = [item(p) for p in planned if isinstance(p, CutoutRequest)]
    for p in planned:
        if isinstance(p, FetchResult):
            on_result(p)
    with Downloader(settings) as dl:
        fetched = iter(dl.fetch_all(items, on_result=on_result))
    return [next(fetched) if isinstance(p, CutoutRequest) else p for p in planned]


def fetch_sdss(rows: list[dict[str, Any]], source: Mapping[str, Any], cache_root: Path,
               settings: DownloadSettings, variant: str,  # noqa: ARG001 (the folder names the variant)
               on_result: Callable[[FetchResult], None]) -> list[FetchResult]:
    folder = cache_root / "sdss" / sdss_variant(source["sdss"])
    return download(rows, folder, source["sdss"], sdss_request, settings, on_result)


def fetch_legacy(rows: list[dict[str, Any]], source: Mapping[str, Any], cache_root: Path,
                 settings: DownloadSettings, variant: str,  # noqa: ARG001
                 on_result: Callable[[FetchResult], None]) -> list[FetchResult]:
    folder = cache_root / "legacy" / legacy_variant(source["legacy"])
    return download(rows, folder, source["legacy"], legacy_request, settings, on_result)


SDSS = Source("sdss", fetch_sdss, description="SDSS SkyServer ImgCutout JPEGs")
def legacy_read_options(block: Mapping[str, Any]) -> dict[str, Any] | None:
    """Legacy Survey FITS become RGB at preprocess, with the configured Lupton stretch."""
    return {"lupton": block["lupton"]} if block.get("format") == "fits" else None


LEGACY = Source("legacy", fetch_legacy, read_options=legacy_read_options, description="Legacy Survey viewer cutouts (JPEG or FITS)")

#: both survey sources, for the registry (galclust.acquire.sources)
SOURCE = (SDSS, LEGACY)
