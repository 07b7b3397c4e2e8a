"""Local source: a folder of JPEG, PNG or FITS images mapped to catalog rows.

Nothing is downloaded. Each row is mapped to a file in ``local.directory``:

* ``id_from: filename`` -- the file whose stem is the id (``NGC1234.jpg``,
  ``NGC1234.fits.gz``), for any of ``local.patterns``. If there is none, a FITS
  band triplet ``{id}_g.fits``, ``{id}_r.fits``, ``{id}_i.fits`` (separator
  ``_``, ``-`` or ``.``; any three or more of u g r i z y) is stacked into one
  cube in the cache (``{cache_dir}/local/stack_<hash>/{id}.fits``) so that
  every galaxy has one file; the originals are untouched.
* ``id_from: column`` -- the catalog column ``local.path_column`` holds the
  file name, relative to the directory (absolute paths and ``..`` are refused).

Every file is decoded once (:func:`galclust.imageio.read_rgb`) before it is
accepted, so a broken file is a ``failed`` row with a reason, not a crash in
preprocess; a constant frame is ``blank``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from astropy.table import Table

from ..errors import CatalogError, GalclustError, ImageError
from ..imageio import BAND_ORDER, FITS_SUFFIXES, read_rgb, write_band_cube
from .http import FetchResult
from .services import safe_id
from .validate import is_blank_rgb

_BAND_STEM = re.compile(rf"^(?P<base>.+)[_.\-](?P<band>[{BAND_ORDER}])$")


def _stem(path: Path) -> str:
    """File name without its image extension (``x.fits.gz`` -> ``x``)."""
    name = path.name
    low = name.lower()
    for s in sorted(FITS_SUFFIXES, key=len, reverse=True):
        if low.endswith(s):
            return name[: -len(s)]
    return path.stem


def _is_fits(path: Path) -> bool:
    low = path.name.lower()
    return any(low.endswith(s) for s in FITS_SUFFIXES)


def _list_files(directory: Path, patterns: Iterable[str]) -> list[Path]:
    if not directory.is_dir():
        raise GalclustError(f"local image directory {directory} does not exist or is not a folder")
    seen: dict[Path, None] = {}
    for pattern in patterns:
        for p in sorted(directory.glob(pattern)):
            if p.is_file() and not p.name.startswith("."):
                seen.setdefault(p, None)
    return list(seen)


class _Index:
    """Files of a directory by stem, and FITS band triplets by base name."""

    def __init__(self, directory: Path, patterns: Sequence[str]) -> None:
        self.directory = directory
        self.by_stem: dict[str, list[Path]] = {}
        bands: dict[str, dict[str, list[Path]]] = {}
        for p in _list_files(directory, patterns):
            stem = _stem(p)
            self.by_stem.setdefault(stem, []).append(p)
            m = _BAND_STEM.match(stem)
            if m and _is_fits(p):
                bands.setdefault(m["base"], {}).setdefault(m["band"], []).append(p)
        # Only three or more bands make a triplet; "NGC1_g.fits" alone is an ordinary file.
        self.triplets = {base: b for base, b in bands.items() if len(b) >= 3}
        self._in_triplet = {p for b in self.triplets.values() for ps in b.values() for p in ps}

    def lookup(self, gid: str) -> tuple[list[Path], dict[str, list[Path]] | None]:
        return self.by_stem.get(gid, []), self.triplets.get(gid)

    def entries(self) -> list[tuple[str, list[Path], str]]:
        """(id, files, bands) for every galaxy: single files, then triplets."""
        out = [
            (stem, [p for p in files if p not in self._in_triplet], "")
            for stem, files in self.by_stem.items()
        ]
        out = [e for e in out if e[1]]
        for base, b in self.triplets.items():
            out.append((base, [ps[0] for _, ps in sorted(b.items(), key=lambda kv: BAND_ORDER.index(kv[0]))],
                        ",".join(sorted(b, key=BAND_ORDER.index))))
        return out


def scan_local_directory(
    directory: str | os.PathLike[str],
    patterns: Sequence[str] = ("*.jpg", "*.jpeg", "*.png", "*.fits", "*.fits.gz"),
) -> Table:
    """A catalog skeleton from a bare folder of images: columns ``id``, ``path``, ``bands``.

    Ids are file stems. A FITS band triplet (``x_g.fits``, ``x_r.fits``, ``x_i.fits``)
    is one galaxy ``x`` (``path`` is its first band file, ``bands`` e.g. ``g,r,i``).
    Raises :class:`~galclust.errors.CatalogError` naming the files when a stem is not
    a safe file name or when two files share a stem (``x.jpg`` and ``x.png``).
    """
    directory = Path(directory)
    index = _Index(directory, patterns)
    problems: list[str] = []
    ids: list[str] = []
    paths: list[str] = []
    bands: list[str] = []
    for gid, files, band_list in sorted(index.entries(), key=lambda e: e[0]):
        try:
            safe_id(gid)
        except CatalogError as exc:
            problems.append(f"{', '.join(p.name for p in files)}: {exc}")
            continue
        if not band_list and len(files) > 1:
            problems.append(
                f"{', '.join(p.name for p in files)}: several files for id {gid!r}"
            )
            continue
        ids.append(gid)
        paths.append(str(files[0].resolve()))
        bands.append(band_list)
    duplicates = {g for g, n in Counter(ids).items() if n > 1}
    for g in sorted(duplicates):
        problems.append(f"id {g!r} is both a single image and a band triplet in {directory}")
    if problems:
        raise CatalogError(
            f"cannot build a catalog from {directory}:\n  " + "\n  ".join(problems)
        )
    return Table({"id": ids, "path": paths, "bands": bands}, dtype=[str, str, str])


def _unsafe_relative(value: str) -> str | None:
    if not value.strip():
        return "empty file name"
    for flavour in (PurePosixPath, PureWindowsPath):
        p = flavour(value)
        if p.is_absolute() or p.drive or p.root:
            return "absolute path"
        if ".." in p.parts:
            return "path contains '..'"
    if any(ord(ch) < 32 for ch in value):
        return "control character in file name"
    return None


def stack_variant(directory: Path) -> str:
    """Cache folder for triplet cubes stacked from ``directory``."""
    return "stack_" + hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:10]


def _accept(gid: str, path: Path, status: str = "ok") -> FetchResult:
    try:
        rgb = read_rgb(path)
    except ImageError as exc:
        return FetchResult(gid, path, "failed", 0, f"undecodable file ({exc})")
    if is_blank_rgb(rgb):
        return FetchResult(gid, path, "blank", 0, "blank frame")
    return FetchResult(gid, path, status, 0, "")


def _stack_triplet(gid: str, bands: Mapping[str, list[Path]], dest: Path) -> FetchResult:
    for band, files in bands.items():
        if len(files) > 1:
            names = ", ".join(p.name for p in files)
            return FetchResult(gid, dest, "failed", 0, f"several files for band {band}: {names}")
    files = {b: ps[0] for b, ps in bands.items()}
    newest = max(p.stat().st_mtime for p in files.values())
    if dest.exists() and dest.stat().st_mtime >= newest:
        return _accept(gid, dest, "cached")
    try:
        write_band_cube(files, dest)
    except ImageError as exc:
        return FetchResult(gid, dest, "failed", 0, f"cannot stack bands ({exc})")
    return _accept(gid, dest)


def acquire_local(
    rows: Iterable[Mapping[str, Any]], local: Mapping[str, Any], cache_root: Path
) -> list[FetchResult]:
    """Map rows (dicts with ``id`` and catalog columns) to files; one FetchResult per row."""
    if not local.get("directory"):
        raise GalclustError("source.local.directory must be set for source kind 'local'")
    directory = Path(local["directory"])
    id_from = local.get("id_from", "filename")
    column = local.get("path_column")
    if id_from == "column" and not column:
        raise GalclustError("source.local.path_column must be set when source.local.id_from is 'column'")
    patterns = local.get("patterns") or ["*.jpg", "*.jpeg", "*.png", "*.fits", "*.fits.gz"]
    index = _Index(directory, patterns) if id_from == "filename" else None
    stack_dir = cache_root / "local" / stack_variant(directory)
    out: list[FetchResult] = []
    for row in rows:
        gid = str(row["id"])
        if id_from == "column":
            value = row.get(column)
            value = "" if value is None else str(value)
            problem = _unsafe_relative(value)
            if problem:
                out.append(FetchResult(gid, None, "failed", 0, f"unsafe path {value!r}: {problem}"))
                continue
            path = directory / value
            if not path.is_file():
                out.append(FetchResult(gid, path.absolute(), "failed", 0, "missing file"))
                continue
            out.append(_accept(gid, path.absolute()))
            continue
        assert index is not None
        files, triplet = index.lookup(gid)
        if len(files) > 1:
            names = ", ".join(p.name for p in files)
            out.append(FetchResult(gid, files[0].absolute(), "failed", 0, f"ambiguous: several files ({names})"))
        elif files:
            out.append(_accept(gid, files[0].absolute()))
        elif triplet:
            out.append(_stack_triplet(gid, triplet, (stack_dir / f"{gid}.fits").absolute()))
        else:
            out.append(FetchResult(gid, (directory / gid).absolute(), "failed", 0, "missing file"))
    return out
