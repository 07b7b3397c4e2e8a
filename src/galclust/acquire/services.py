"""URL builders for the cutout services, pixel scales, cache variants and the safe-id check.

Nothing here touches the network: each function turns a catalog row and the
validated ``source`` configuration into a :class:`CutoutRequest` (what to fetch,
what a valid answer looks like, where it is cached). Keeping this pure makes the
URL patterns testable against the fake server and the real services alike.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ..errors import CatalogError
from ..ids import MAX_ID_BYTES, safe_id  # noqa: F401  (re-exported: the one id rule)

def _short_hash(settings: Mapping[str, Any], n: int = 8) -> str:
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:n]


def _num(x: float) -> str:
    """Shortest exact decimal for a float (repr), so URLs and variant names are stable."""
    return repr(float(x))


def _scale_label(scale: Mapping[str, Any]) -> str:
    if scale.get("mode", "size") == "size":
        return f"re{_num(scale.get('factor', 0.02))}"
    return f"px{_num(scale.get('arcsec_per_pixel'))}"


class MissingSizeError(ValueError):
    """A size-tied pixel scale needs a galaxy size the row does not have."""


def pixel_scale(scale: Mapping[str, Any], size_arcsec: Any) -> float:
    """Arcsec per pixel for one galaxy.

    ``mode: size`` ties the scale to the galaxy: ``factor * R_e`` (the reference
    study: 0.02 R_e per pixel, 424 pixels = 8.48 R_e across). ``mode: fixed`` uses
    ``arcsec_per_pixel``. A missing, non-finite or non-positive size under
    ``mode: size`` raises :class:`MissingSizeError` (a permanent failure for that row).
    """
    if scale.get("mode", "size") == "fixed":
        return float(scale["arcsec_per_pixel"])
    try:
        r_e = float(size_arcsec)
    except (TypeError, ValueError):
        r_e = math.nan
    if not math.isfinite(r_e) or r_e <= 0:
        raise MissingSizeError(
            f"no usable size (got {size_arcsec!r}) for a size-tied pixel scale"
        )
    return float(scale.get("factor", 0.02)) * r_e


@dataclass(frozen=True)
class CutoutRequest:
    """One cutout to fetch: URL, cache file and what a valid answer looks like."""

    id: str
    url: str
    dest: Path
    fmt: str  # "jpeg" | "png" | "fits"
    width: int
    height: int


def sdss_variant(sdss: Mapping[str, Any]) -> str:
    """Cache sub-folder for SDSS settings, e.g. ``dr17_424x424_re0.02_3f2a9c1d``.

    Every setting that changes the pixels is in the hash (the base URL too, so a
    mirror or a test server never shares a cache with the real service).
    """
    settings = {
        "base_url": sdss.get("base_url"),
        "release": sdss.get("release"),
        "width": sdss.get("width"),
        "height": sdss.get("height"),
        "scale": dict(sdss.get("scale", {})),
    }
    return (
        f"{sdss['release']}_{sdss['width']}x{sdss['height']}_"
        f"{_scale_label(sdss.get('scale', {}))}_{_short_hash(settings)}"
    )


def legacy_variant(legacy: Mapping[str, Any]) -> str:
    """Cache sub-folder for Legacy Survey settings, e.g. ``ls-dr10_jpg_256_px0.262_ab12cd34``."""
    fmt = legacy.get("format", "jpg")
    settings = {
        "base_url": legacy.get("base_url"),
        "layer": legacy.get("layer"),
        "format": fmt,
        "bands": legacy.get("bands") if fmt == "fits" else None,
        "size": legacy.get("size"),
        "scale": dict(legacy.get("scale", {})),
    }
    fmt_label = f"fits-{legacy.get('bands', 'griz')}" if fmt == "fits" else fmt
    label = f"{legacy['layer']}_{fmt_label}_{legacy['size']}_{_scale_label(legacy.get('scale', {}))}"
    # The layer name is user input; keep the folder name tame.
    label = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in label)
    return f"{label}_{_short_hash(settings)}"


def sdss_request(row: Mapping[str, Any], sdss: Mapping[str, Any], cache: Path) -> CutoutRequest:
    """SkyServer ImgCutout: ``{base_url}/{release}/SkyServerWS/ImgCutout/getjpeg?ra=&dec=&scale=&width=&height=``."""
    gid = safe_id(row["id"])
    scale = pixel_scale(sdss.get("scale", {}), row.get("size"))
    width, height = int(sdss["width"]), int(sdss["height"])
    query = urlencode(
        {
            "ra": _num(row["ra"]),
            "dec": _num(row["dec"]),
            "scale": _num(scale),
            "width": width,
            "height": height,
        }
    )
    base = str(sdss["base_url"]).rstrip("/")
    url = f"{base}/{sdss['release']}/SkyServerWS/ImgCutout/getjpeg?{query}"
    return CutoutRequest(gid, url, cache / f"{gid}.jpg", "jpeg", width, height)


def legacy_request(
    row: Mapping[str, Any], legacy: Mapping[str, Any], cache: Path
) -> CutoutRequest:
    """Legacy Survey viewer: ``{base_url}/cutout.jpg?ra=&dec=&layer=&pixscale=&size=`` (or ``cutout.fits ...&bands=``)."""
    gid = safe_id(row["id"])
    scale = pixel_scale(legacy.get("scale", {}), row.get("size"))
    size = int(legacy["size"])
    params: dict[str, Any] = {
        "ra": _num(row["ra"]),
        "dec": _num(row["dec"]),
        "layer": legacy["layer"],
        "pixscale": _num(scale),
        "size": size,
    }
    fits = legacy.get("format", "jpg") == "fits"
    if fits:
        params["bands"] = legacy.get("bands", "griz")
    base = str(legacy["base_url"]).rstrip("/")
    url = f"{base}/cutout.{'fits' if fits else 'jpg'}?{urlencode(params)}"
    ext, fmt = ("fits", "fits") if fits else ("jpg", "jpeg")
    return CutoutRequest(gid, url, cache / f"{gid}.{ext}", fmt, size, size)


def sql_search_url(query: str, sdss: Mapping[str, Any]) -> str:
    """SkyServer SQL search: ``{base_url}/{release}/SkyServerWS/SearchTools/SqlSearch?cmd=...&format=csv``."""
    base = str(sdss["base_url"]).rstrip("/")
    return (
        f"{base}/{sdss['release']}/SkyServerWS/SearchTools/SqlSearch?"
        + urlencode({"cmd": query, "format": "csv"})
    )
