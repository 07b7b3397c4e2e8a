"""Decode galaxy cutouts (JPEG, PNG, FITS) into float32 RGB arrays in [0, 1].

Every conversion is explicit; nothing is silently mangled, anything else is an
:class:`~galclust.errors.ImageError` naming the file.

Raster images (JPEG, PNG)
    * 8-bit RGB / palette: divided by 255.
    * grayscale (``L``, ``1``): the one channel repeated into three.
    * alpha (``RGBA``, ``LA``, palette with transparency): composited on black
      (colour times alpha), so transparent padding reads as empty sky.
    * 16-bit grayscale PNG: divided by 65535 (full 16-bit precision).
    * 16-bit RGB/RGBA PNG: Pillow decodes these to their high 8 bits, i.e. a
      precision of 1/255 -- the precision of every JPEG cutout -- then as 8-bit.
    * 32-bit integer and float images: rescaled by their own finite min..max.

FITS
    * One 2-D image: grayscale, rescaled by its finite min..max.
    * A cube (planes along the first axis, e.g. a Legacy Survey ``griz``
      cutout) or a stack of 2-D single-band HDUs of one shape (a multi-extension
      file, or the cube galclust builds from ``{id}_g/_r/_i.fits`` triplets).
    * Band labels come from ``BANDn`` keywords (cubes) or ``FILTER``/``BAND``/
      ``EXTNAME`` (stacks). With labels, bands are mapped by wavelength:
      red = reddest, green = middle, blue = bluest of the three chosen (g, r, i
      when present, else g, r, z); a band plane that is entirely zero or
      non-finite (not observed there, as ``i`` in the northern Legacy
      footprint) is left out first. Without labels, planes 0, 1, 2 are R, G, B.
    * Scaling: with ``lupton=None`` (the default) the three planes are scaled
      together, linearly, by their joint finite min..max -- predictable, and
      colour ratios are kept. With ``lupton={"stretch": s, "Q": q}`` (optionally
      ``"minimum"``, default 0) they go through
      :func:`astropy.visualization.make_lupton_rgb` (asinh), which is what
      survey flux images need; preprocess passes ``source.legacy.lupton`` for
      Legacy Survey FITS cutouts. Non-finite pixels count as 0 there.
    * FITS rows run bottom-up; images are flipped so that they look like the
      survey's own JPEG of the same field (north up, east left).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .errors import ImageError

RASTER_SUFFIXES = {".jpg", ".jpeg", ".png"}
FITS_SUFFIXES = {".fits", ".fit", ".fits.gz", ".fit.gz", ".fz"}

#: Photometric bands, bluest first.
BAND_ORDER = "ugrizy"


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in sorted(FITS_SUFFIXES, key=len, reverse=True):
        if name.endswith(s):
            return s
    return path.suffix.lower()


# -- raster ----------------------------------------------------------------------------
def _raster_to_rgb(img: Image.Image, path: Path) -> np.ndarray:
    mode = img.mode
    if mode == "P" and "transparency" in img.info:
        img, mode = img.convert("RGBA"), "RGBA"
    if mode in ("RGB", "P", "CMYK", "YCbCr", "HSV", "LAB"):
        arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    elif mode in ("L", "1"):
        arr = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    elif mode in ("RGBA", "RGBa", "LA", "La", "PA"):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        arr = rgba[..., :3] * rgba[..., 3:4]
    elif mode.startswith("I;16"):
        arr = np.asarray(img, dtype=np.float64) / 65535.0
    elif mode == "I" and img.format == "PNG":
        # Older Pillow versions open 16-bit grayscale PNGs as mode "I".
        arr = np.asarray(img, dtype=np.float64) / 65535.0
    elif mode in ("I", "F"):
        try:
            arr = _rescale(np.asarray(img, dtype=np.float64))
        except ImageError as exc:
            raise ImageError(f"{path}: {exc}") from None
    else:
        raise ImageError(f"{path}: unsupported image mode {mode!r}")
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return np.clip(arr, 0.0, 1.0).astype(np.float32)


def _rescale(arr: np.ndarray) -> np.ndarray:
    finite = np.isfinite(arr)
    if not finite.any():
        raise ImageError("image has no finite pixel")
    lo, hi = float(arr[finite].min()), float(arr[finite].max())
    out = np.where(finite, arr, lo)
    return ((out - lo) / (hi - lo) if hi > lo else np.zeros_like(out)).astype(np.float32)


# -- FITS ------------------------------------------------------------------------------
def band_label(value: Any) -> str | None:
    """Normalise a band name from a header ('g', 'SDSS_r', 'DECam z') to one of ugrizy, or None."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in BAND_ORDER and len(text) == 1:
        return text
    for sep in ("_", " ", "-", "."):
        if sep in text:
            last = text.rsplit(sep, 1)[1]
            if len(last) == 1 and last in BAND_ORDER:
                return last
    return None


def _fits_planes(path: Path) -> tuple[list[np.ndarray], list[str | None]]:
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        images = [h for h in hdul if h.is_image and h.data is not None]
        if not images:
            raise ImageError(f"{path}: FITS file has no image data")
        first = np.asarray(images[0].data, dtype=np.float64)
        header = images[0].header
        while first.ndim > 3 and first.shape[0] == 1:
            first = first[0]
        if first.ndim == 3:
            if first.shape[-1] in (3, 4) and first.shape[0] > 4:
                # (H, W, C) written by a non-astronomy tool.
                planes = [first[..., i] for i in range(3)]
                return planes, [None] * 3
            planes = list(first)
            bands = [band_label(header.get(f"BAND{i}")) for i in range(len(planes))]
            return planes, bands
        if first.ndim != 2:
            raise ImageError(
                f"{path}: FITS image of shape {first.shape} is neither 2-D nor a cube of planes"
            )
        planes, bands = [first], [_hdu_band(header)]
        for h in images[1:]:
            data = np.asarray(h.data, dtype=np.float64)
            if data.shape != first.shape:
                break  # a later HDU of another shape (a mask, a weight map) is not a band
            planes.append(data)
            bands.append(_hdu_band(h.header))
        return planes, bands


def _hdu_band(header: Any) -> str | None:
    for key in ("BAND", "FILTER", "EXTNAME"):
        label = band_label(header.get(key))
        if label:
            return label
    return None


def _choose_rgb(planes: list[np.ndarray], bands: list[str | None]) -> list[np.ndarray]:
    """Three planes in R, G, B order (see the module docstring for the rules)."""
    labelled = all(b is not None for b in bands) and len(set(bands)) == len(bands)
    if labelled and len(planes) > 1:
        pairs = [(b, p) for b, p in zip(bands, planes) if _has_signal(p)] or list(zip(bands, planes))
        pairs.sort(key=lambda bp: BAND_ORDER.index(bp[0]))
        by_band = dict(pairs)
        names = [b for b, _ in pairs]
        for triple in ("gri", "grz"):
            if all(b in by_band for b in triple):
                names = list(triple)
                break
        else:
            if len(names) > 3:
                names = [names[0], names[len(names) // 2], names[-1]]
        chosen = [by_band[b] for b in names]  # bluest first
        planes = chosen[::-1]  # reddest first: R, G, B
    if len(planes) == 1:
        return [planes[0]] * 3
    if len(planes) == 2:
        return [planes[0], 0.5 * (planes[0] + planes[1]), planes[1]]
    return planes[:3]


def _has_signal(plane: np.ndarray) -> bool:
    finite = plane[np.isfinite(plane)]
    return finite.size > 0 and bool(np.any(finite != 0))


def _fits_to_rgb(path: Path, lupton: Mapping[str, Any] | None) -> np.ndarray:
    planes, bands = _fits_planes(path)
    r, g, b = _choose_rgb(planes, bands)
    if lupton is not None:
        from astropy.visualization import make_lupton_rgb

        clean = [np.nan_to_num(p, nan=0.0, posinf=0.0, neginf=0.0) for p in (r, g, b)]
        # astropy divides 0/0 where all three bands are 0 and masks it itself.
        with np.errstate(invalid="ignore", divide="ignore"):
            rgb = make_lupton_rgb(
                *clean,
                minimum=float(lupton.get("minimum", 0.0)),
                stretch=float(lupton.get("stretch", 0.5)),
                Q=float(lupton.get("Q", 8.0)),
                output_dtype=np.float64,
            )
    else:
        try:
            rgb = _rescale(np.stack([r, g, b], axis=-1))
        except ImageError as exc:
            raise ImageError(f"{path}: {exc}") from None
    return np.clip(np.flipud(rgb), 0.0, 1.0).astype(np.float32)


def read_rgb(
    path: str | os.PathLike[str], *, lupton: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Read one image file as float32 (H, W, 3) in [0, 1].

    ``lupton`` (``{"stretch", "Q"}``, optional ``"minimum"``) applies only to
    FITS files: it selects the make_lupton_rgb asinh scaling instead of the
    linear min..max one. Raster images ignore it.
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix in FITS_SUFFIXES:
        try:
            return _fits_to_rgb(path, lupton)
        except ImageError:
            raise
        except Exception as exc:  # astropy raises many types on a broken file
            raise ImageError(f"{path}: not a readable FITS file ({exc})") from None
    try:
        with Image.open(path) as img:
            img.load()
            return _raster_to_rgb(img, path)
    except ImageError:
        raise
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError...
        raise ImageError(f"{path}: not a readable image ({exc})") from None


def write_band_cube(
    band_files: Mapping[str, str | os.PathLike[str]] | Sequence[tuple[str, str | os.PathLike[str]]],
    dest: str | os.PathLike[str],
) -> None:
    """Stack single-band 2-D FITS files into one cube at ``dest`` (atomically).

    Planes are written bluest first with ``BANDn`` keywords, the Legacy Survey
    layout, so :func:`read_rgb` maps them by wavelength. Pixel values are kept
    as they are (float32); the source files are untouched.
    """
    from astropy.io import fits

    from .atomic import atomic_path

    pairs = list(band_files.items()) if isinstance(band_files, Mapping) else list(band_files)
    pairs.sort(key=lambda bp: BAND_ORDER.index(bp[0]))
    planes = []
    for band, file in pairs:
        try:
            with fits.open(file, memmap=False) as hdul:
                data = next((h.data for h in hdul if h.is_image and h.data is not None), None)
        except Exception as exc:
            raise ImageError(f"{file}: not a readable FITS file ({exc})") from None
        if data is None or np.asarray(data).squeeze().ndim != 2:
            raise ImageError(f"{file}: band {band} is not a single 2-D image")
        planes.append(np.asarray(data, dtype=np.float32).squeeze())
    shapes = {p.shape for p in planes}
    if len(shapes) != 1:
        names = ", ".join(f"{Path(f).name} {p.shape}" for (_, f), p in zip(pairs, planes))
        raise ImageError(f"band images differ in shape: {names}")
    hdu = fits.PrimaryHDU(np.stack(planes))
    for i, (band, file) in enumerate(pairs):
        hdu.header[f"BAND{i}"] = band
        hdu.header[f"SRC{i}"] = Path(file).name[:68]
    with atomic_path(dest) as tmp:
        hdu.writeto(tmp)


def resize_rgb(image: np.ndarray, size: int = 80) -> np.ndarray:
    """Anti-aliased resize of an (H, W, 3) float image to (size, size, 3)."""
    if image.shape[:2] == (size, size):
        return image.astype(np.float32, copy=False)
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(image[..., c], dtype=np.float32)).resize(
                (size, size), Image.Resampling.LANCZOS, reducing_gap=None
            )
        )
        for c in range(image.shape[2])
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)
