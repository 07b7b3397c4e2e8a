"""Is this body (or cached file) a complete image of the expected format and size?

Cutout services answer many failures with status 200: an HTML error page, a
plain-text message, a truncated image when the connection drops, or a blank
frame outside the survey footprint. Nothing is kept before it passes
:func:`check_body`; cached files are re-checked with :func:`check_file` before a
rerun trusts them.

A :class:`Verdict` says whether the body is usable, whether trying again could
help (``retry``) and whether the frame is blank (kept, but flagged so that
preprocessing skips it).
"""

from __future__ import annotations

import gzip
import io
import os
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: A frame whose pixels span at most this many 8-bit levels is blank. Real
#: cutouts always contain the galaxy, so their range is far larger; the slack
#: absorbs JPEG ringing around a constant frame.
BLANK_LEVELS_8BIT = 3

_MAGIC = {
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "fits": (b"SIMPLE  =",),
}
_GZIP = b"\x1f\x8b"


@dataclass(frozen=True)
class Verdict:
    """Outcome of a check. ``data`` is the body to store (gunzipped FITS, for instance)."""

    ok: bool
    reason: str = ""
    retry: bool = False
    blank: bool = False
    data: bytes | None = None


def _fail(reason: str, *, retry: bool) -> Verdict:
    return Verdict(False, reason, retry=retry)


def sniff(data: bytes) -> str | None:
    """Name the format of ``data`` from its first bytes: jpeg, png, fits, gzip, html, text or None."""
    for fmt, magics in _MAGIC.items():
        if any(data.startswith(m) for m in magics):
            return fmt
    if data.startswith(_GZIP):
        return "gzip"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml", b"<")):
        return "html"
    try:
        text = data[:1024].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "text"
    return None


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    """Decompress at most ``max_bytes`` (a small gzip can expand without bound)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(data, max_bytes + 1)
    if len(out) > max_bytes:
        raise ValueError(f"decompressed body larger than {max_bytes} bytes")
    if not d.eof:
        raise ValueError("gzip stream is truncated")
    return out


def _blank_8bit(arr: np.ndarray) -> bool:
    return int(arr.max()) - int(arr.min()) <= BLANK_LEVELS_8BIT


def _check_raster(data: bytes, fmt: str, width: int | None, height: int | None) -> Verdict:
    from PIL import Image

    # An explicit end marker check: Pillow's LOAD_TRUNCATED_IMAGES is a global
    # another library may have switched on, so we do not rely on decode errors alone.
    tail = data.rstrip(b"\x00\r\n \t")
    if fmt == "jpeg" and not tail.endswith(b"\xff\xd9"):
        return _fail("truncated body (JPEG has no end marker)", retry=True)
    if fmt == "png" and not tail.endswith(b"IEND\xaeB`\x82"):
        return _fail("truncated body (PNG has no IEND chunk)", retry=True)
    try:
        with Image.open(io.BytesIO(data)) as img:
            got = img.size
            img.load()
            arr = np.asarray(img)
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError...
        return _fail(f"undecodable {fmt} ({exc})", retry=True)
    if width is not None and height is not None and got != (width, height):
        # The service ignored the requested size: asking again will not help.
        return _fail(f"wrong size {got[0]}x{got[1]}, expected {width}x{height}", retry=False)
    if arr.dtype == np.uint8:
        blank = _blank_8bit(arr)
    else:
        finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
        blank = finite.size == 0 or float(np.ptp(finite)) == 0.0
    return Verdict(True, "blank frame" if blank else "", blank=blank, data=data)


def _check_fits(data: bytes, width: int | None, height: int | None, max_bytes: int) -> Verdict:
    from astropy.io import fits

    if data.startswith(_GZIP):
        try:
            data = _gunzip(data, max_bytes)
        except (ValueError, OSError, zlib.error, EOFError) as exc:
            return _fail(f"undecodable gzip FITS ({exc})", retry=True)
        if sniff(data) != "fits":
            return _fail("gzip body is not a FITS file", retry=True)
    if len(data) % 2880:
        # FITS files are whole 2880-byte blocks; anything else was cut short.
        return _fail(f"truncated body (FITS of {len(data)} bytes is not whole 2880-byte blocks)", retry=True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with fits.open(io.BytesIO(data), memmap=False) as hdul:
                arrays = [np.asarray(h.data) for h in hdul if getattr(h, "data", None) is not None and h.is_image]
        for w in caught:
            if "truncat" in str(w.message).lower():
                return _fail(f"truncated body ({w.message})", retry=True)
    except Exception as exc:  # astropy raises OSError, ValueError, TypeError...
        return _fail(f"undecodable FITS ({exc})", retry=True)
    if not arrays:
        return _fail("FITS file has no image data", retry=True)
    arr = arrays[0]
    if arr.ndim not in (2, 3):
        return _fail(f"FITS image of shape {arr.shape} is neither 2-D nor a cube", retry=False)
    got = (arr.shape[-1], arr.shape[-2])
    if width is not None and height is not None and got != (width, height):
        return _fail(f"wrong size {got[0]}x{got[1]}, expected {width}x{height}", retry=False)
    values = np.asarray(arr, dtype=np.float64)
    finite = values[np.isfinite(values)]
    # Outside the footprint the Legacy viewer returns all-zero planes.
    blank = finite.size == 0 or float(np.ptp(finite)) == 0.0
    return Verdict(True, "blank frame" if blank else "", blank=blank, data=data)


def check_body(
    data: bytes,
    fmt: str,
    width: int | None = None,
    height: int | None = None,
    *,
    content_type: str | None = None,
    max_bytes: int = 50_000_000,
) -> Verdict:
    """Check a downloaded body: expected format (``jpeg``, ``png`` or ``fits``), size, not blank.

    HTML or text answers (by Content-Type or by content) are rejected as retryable:
    SkyServer and the Legacy viewer send such pages with status 200 when busy.
    """
    if not data:
        return _fail("empty body", retry=True)
    kind = sniff(data)
    ctype = (content_type or "").split(";")[0].strip().lower()
    if kind == "html" or (ctype == "text/html" and kind not in _MAGIC):
        return _fail("HTML body with status 200", retry=True)
    if kind == "text" or (ctype.startswith("text/") and kind not in _MAGIC):
        snippet = data[:80].decode("utf-8", "replace").strip().splitlines()
        first = snippet[0] if snippet else ""
        return _fail(f"text body with status 200: {first!r}", retry=True)
    if fmt == "fits":
        if kind not in ("fits", "gzip"):
            return _fail(f"not a FITS file (looks like {kind or 'binary data'})", retry=True)
        return _check_fits(data, width, height, max_bytes)
    if kind != fmt:
        return _fail(f"not a {fmt.upper()} file (looks like {kind or 'binary data'})", retry=True)
    return _check_raster(data, fmt, width, height)


def check_file(
    path: str | os.PathLike[str], fmt: str, width: int | None = None, height: int | None = None
) -> Verdict:
    """Check a cached file as :func:`check_body` would; a missing file is not ok."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _fail(f"unreadable cached file ({exc.strerror or exc})", retry=True)
    if fmt == "fits" and path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            return _fail(f"undecodable gzip FITS ({exc})", retry=True)
    return check_body(data, fmt, width, height, max_bytes=max(len(data), 1) * 1000)


def is_blank_rgb(rgb: np.ndarray) -> bool:
    """Blank test for a decoded float RGB image in [0, 1] (local files, demo cutouts)."""
    finite = rgb[np.isfinite(rgb)]
    return finite.size == 0 or float(np.ptp(finite)) * 255.0 <= BLANK_LEVELS_8BIT
