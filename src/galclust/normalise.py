"""Find the central galaxy of a cutout, then recentre, rescale and rotate on it.

The reference study's cutouts were already centred on the target and scaled to
its effective radius (0.02 R_e per pixel, 8.48 R_e across the frame), so its
preprocessing was a plain resize. Other cutouts (a fixed pixel scale, a catalog
radius from another band, a pointing offset) are not, and a clustering of raw
pixels then groups galaxies by apparent size and position as much as by
morphology. This module measures the galaxy in the image itself and resamples
the cutout so that every galaxy fills the frame the same way.

Modes (:attr:`NormaliseSettings.mode`)
    ``none``
        The plain anti-aliased resize (:func:`galclust.imageio.resize_rgb`):
        the study's geometry. Nothing is measured unless ``mask_stars``.
    ``recentre``
        Centre the output on the galaxy and scale it so that the output spans
        ``radius_multiple`` half-light radii from edge to edge.
    ``full``
        As ``recentre``, and rotated so that the galaxy's major axis is
        horizontal.

``mask_stars`` (any mode) replaces foreground stars (saturated discs, or
compact sources well above the galaxy's light) before resampling.

Measurement (:func:`detect_central_galaxy`), on the mean of the three channels:

1. Block-average to about :data:`DETECT_SIZE` pixels across (a 424-pixel
   SkyServer cutout by 4): the galaxies are tens of pixels across, binning
   costs them little and makes everything after it ~16x cheaper.
2. Sky level and noise: sigma-clipped median and standard deviation, one
   value per frame (cutouts are small next to sky variations).
3. Segmentation (photutils ``detect_sources``) of the image smoothed by a
   Gaussian of one binned pixel, above ``detect_sigma`` times the noise.
4. The central segment is the one with the largest flux times a Gaussian
   weight of its distance from the frame centre (sigma :data:`CENTRE_SIGMA`
   of the frame): the target, not a brighter star or neighbour off-centre.
5. Only that segment is deblended (photutils ``deblend_sources``, contrast
   :data:`DEBLEND_CONTRAST`), on a version smoothed on the galaxy's own scale
   so that spiral arms and knots stay whole. The same rule picks the central
   component; the components that are compact or peak beyond the segment's
   half-light radius from it (stars, neighbours in contact) are split off.
6. Shape: second moments of the galaxy's pixels (ellipticity 1 - b/a, angle
   of the major axis), as photutils' ``SourceCatalog`` computes them.
7. Radius: a growth curve in elliptical rings of that shape (like NSA's
   elliptical Petrosian radii, the study's R_e): the Petrosian radius r_P
   (eta = 0.2, SDSS), then ``r_half``, the semi-major axis holding half the
   flux inside 2 r_P. Each ring's mean is taken over the pixels of no other
   source and inside the frame, so neighbours, stars and frame edges do not
   bias it.
8. Centre: a Gaussian-windowed centroid (SExtractor's XWIN) whose window
   shrinks from the half-light radius to a quarter of it, so it settles on the
   nucleus rather than the middle of an isophote that arms, a bar or a
   deblending boundary pull aside. Then the growth curve again around it.

Conventions: ``x`` is the column and ``y`` the row of the input image, pixel
centres at integers (photutils). ``theta`` is the angle of the major axis from
the +x axis towards +y, in (-pi/2, pi/2] (photutils ``orientation``; for an
image displayed with row 0 on top, as a JPEG, that is clockwise). For a cutout
with north up and east left, a position angle PA (north through east) is
``theta = pi/2 - PA`` modulo pi. ``r_half`` and ``r_petro`` are semi-major
axes; the circularised radius is ``r_half * sqrt(1 - ellipticity)``.

On asinh-stretched colour images (SDSS JPEGs) the radius is that of the
displayed light, not the photometric R_e: the stretch lifts faint light and
clips bright cores, and seeing rounds small galaxies. On the demo sample the
circularised r_half is 0.7-0.95 R_e by class (10-90 %: 0.64-1.1), and larger
for brighter galaxies. ``radius_multiple`` is relative to the measured radius.

A failed detection never raises and never drops the galaxy: :func:`normalise`
returns the plain resize and a :class:`Detection` whose ``flag`` says why
(:data:`FLAGS`). A frame filled edge to edge by its galaxy leaves no sky to
measure and is usually flagged ``faint`` or ``too large``.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from .errors import ConfigError
from .imageio import resize_rgb

__all__ = [
    "FLAGS",
    "MODES",
    "Detection",
    "NormaliseSettings",
    "detect_central_galaxy",
    "normalise",
]

MODES: tuple[str, ...] = ("none", "recentre", "full")
"""Values of ``preprocess.normalise.mode``."""

FLAGS: dict[str, str] = {
    "no source": "nothing in the frame above the detection threshold",
    "faint": "the central source is not significant (integrated S/N below MIN_SNR)",
    "off centre": "the central source lies further than MAX_OFFSET of the frame from its centre",
    "too small": "the half-light radius is below MIN_RADIUS pixels",
    "too large": "the crop would span more than MAX_ZOOM_OUT frames",
    "star": "the central source is a saturated star (round, its core clipped)",
    "bad image": "the image has no variation (no sky noise to measure against)",
}
"""Detection failure reasons (``Detection.flag``); an empty flag means success."""

DETECT_SIZE = 100
"""Target width of the binned detection image (pixels): bin factor = min(H, W) // DETECT_SIZE."""

CENTRE_SIGMA = 0.1
"""Width of the centre weight used to pick the central source, as a fraction of the frame."""

MAX_OFFSET = 0.25
"""A central source further than this fraction of the frame from the centre is not the target."""

MIN_SNR = 10.0
"""Minimum integrated S/N of the central segment (noise correlation accounted for). Segments of
pure noise at a 2-sigma threshold of the smoothed image reach S/N ~5-6; a galaxy filling part of
the frame is in the hundreds."""

MIN_RADIUS = 1.5
"""Smallest usable half-light radius, in input pixels (below, the source is unresolved)."""

MAX_ZOOM_OUT = 3.0
"""Largest crop width allowed, in frame widths (beyond, the output would be mostly padding)."""

PETROSIAN_ETA = 0.2
"""SDSS Petrosian ratio: r_P is where the annulus surface brightness is 0.2 of the mean inside."""

DEBLEND_CONTRAST = 0.02
"""Minimum flux fraction of a deblended component (SExtractor's DEBLEND_MINCONT)."""

MIN_Q = 0.2
"""Smallest axis ratio of the profile's rings (thinner rings hold too few pixels)."""

_RING = 0.5  # profile ring width, binned pixels
_MIN_COVERAGE = 0.3  # a ring needs this fraction of its area observed to count
_COMPACT = 0.3  # a compact source: half-light radius below this fraction of the galaxy's
_STAR_EXCESS = 10.0  # a star's peak rises this many noise sigmas above the galaxy there
_SATURATED = 0.99  # pixel value (any channel) taken as saturated
_SAT_CORE = 0.15  # a round saturated star's clipped core covers this much of its half-light area
_SAT_CORE_ANY = 0.5  # ... and this much if it is not round (two stars in one segment)
_ROUND = 0.2  # ellipticity below which a source counts as round (a star)
_CENTRAL_STAR_CORE = 0.45  # a central source this saturated ...
_CENTRAL_STAR_ROUND = 0.1  # ... with a core this round is a star: no galaxy to measure
_DEBLEND_SMOOTH = 0.35  # deblend on the image smoothed by this fraction of the segment size
_WINDOW_ITERS = 10  # windowed-centroid iterations per window (it converges in a few)
_WINDOW_SHRINK = 0.7  # window shrink factor between rounds
_WINDOW_FINAL = 4.0  # the last window's sigma is the half-light radius over this


# -- settings ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class NormaliseSettings:
    """How to normalise cutouts (config ``preprocess.normalise``).

    ``mode``: ``none``, ``recentre`` or ``full`` (see the module docstring).
    ``radius_multiple``: the output spans this many half-light radii (semi-major
    axes) from edge to edge; the study's frames span 8.48 R_e (424 pixels at 0.02 R_e
    per pixel). ``mask_stars``: replace foreground stars. ``detect_sigma``: detection
    threshold in noise sigmas. ``npixels``: minimum area of a detection, in input
    pixels. ``deblend``: split stars and neighbours in contact off the galaxy.
    """

    mode: str = "none"
    radius_multiple: float = 8.48
    mask_stars: bool = False
    detect_sigma: float = 2.0
    npixels: int = 10
    deblend: bool = True

    def __post_init__(self) -> None:
        _check_settings(self)

    @property
    def rotate(self) -> bool:
        """Whether the major axis is turned horizontal (mode ``full``)."""
        return self.mode == "full"

    @property
    def measures(self) -> bool:
        """Whether :func:`normalise` needs a detection at all."""
        return self.mode != "none" or self.mask_stars

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> NormaliseSettings:
        """Settings from the ``preprocess.normalise`` mapping (missing keys: defaults).

        Raises :class:`~galclust.errors.ConfigError` naming ``preprocess.normalise.<key>``.
        """
        if cfg is None:
            return cls()
        if not isinstance(cfg, Mapping):
            raise ConfigError(
                f"config key 'preprocess.normalise': must be a mapping, got {cfg!r}"
            )
        known = set(cls.__dataclass_fields__)
        for key in cfg:
            if key not in known:
                raise ConfigError(
                    f"config key 'preprocess.normalise.{key}': unknown key "
                    f"(allowed here: {', '.join(sorted(known))})"
                )
        return cls(**dict(cfg))


def _bad(key: str, msg: str) -> ConfigError:
    return ConfigError(f"config key 'preprocess.normalise.{key}': {msg}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _check_settings(s: NormaliseSettings) -> None:
    if not isinstance(s.mode, str) or s.mode not in MODES:
        raise _bad("mode", f"must be one of {', '.join(MODES)}, got {s.mode!r}")
    for key in ("mask_stars", "deblend"):
        if not isinstance(getattr(s, key), (bool, np.bool_)):
            raise _bad(key, f"must be true or false, got {getattr(s, key)!r}")
    for key in ("radius_multiple", "detect_sigma"):
        v = getattr(s, key)
        if not _is_number(v) or not math.isfinite(v) or v <= 0:
            raise _bad(key, f"must be a positive number, got {v!r}")
    if (
        not isinstance(s.npixels, (int, np.integer))
        or isinstance(s.npixels, bool)
        or s.npixels < 1
    ):
        raise _bad("npixels", f"must be an integer >= 1, got {s.npixels!r}")


# -- detection --------------------------------------------------------------------------------
@dataclass
class Detection:
    """The central galaxy as measured (input-image pixels; see the module docstring).

    ``flag`` is empty on success, else one of :data:`FLAGS`; measured values are
    kept where they exist (NaN where not), so a flagged row still says what was seen.
    ``snr``: integrated S/N of the central segment. ``n_masked``: sources masked as
    stars. ``sky``: per-channel sky level (R, G, B), used to pad.
    """

    x: float = math.nan
    y: float = math.nan
    r_half: float = math.nan
    r_petro: float = math.nan
    ellipticity: float = math.nan
    theta: float = math.nan
    flux: float = math.nan
    snr: float = math.nan
    n_masked: int = 0
    flag: str = ""
    sky: tuple[float, float, float] = (math.nan, math.nan, math.nan)

    @property
    def ok(self) -> bool:
        """True when the detection can be used to normalise."""
        return not self.flag and math.isfinite(self.x)

    def as_row(self) -> dict[str, Any]:
        """Columns for the batch table (``sky`` left out; ``flag`` as a string)."""
        row = asdict(self)
        del row["sky"]
        return row


@dataclass
class _Frame:
    """Everything measured on one image, shared by detection, masking and resampling."""

    det: Detection
    bin: int  # bin factor
    data: np.ndarray  # binned detection image minus sky
    rms: float  # noise of `data` per binned pixel
    segm: np.ndarray | None = None  # labels (0: sky), the central segment deblended
    galaxy: np.ndarray | None = None  # bool: the galaxy's pixels
    contaminants: tuple[int, ...] = ()  # labels of the components split off the galaxy
    profile: _Profile | None = None  # the galaxy's elliptical profile (binned pixels)
    sat: np.ndarray | None = None  # binned maximum over pixels and channels (saturation)


@dataclass
class _Profile:
    """Growth curve in elliptical rings: edges (semi-major axes), enclosed flux, ring means."""

    xc: float
    yc: float
    q: float  # axis ratio of the rings
    theta: float
    edges: np.ndarray
    enclosed: np.ndarray
    ring_sb: np.ndarray
    r_max: float

    def radius(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Elliptical radius (semi-major axis of the ring through each point)."""
        dx, dy = x - self.xc, y - self.yc
        ct, st = math.cos(self.theta), math.sin(self.theta)
        u, v = dx * ct + dy * st, -dx * st + dy * ct
        return np.sqrt(u * u + (v / self.q) ** 2)

    def sb_at(self, x: float, y: float) -> float:
        """The galaxy's mean surface brightness on the ring through (x, y); 0 beyond r_max."""
        a = float(self.radius(np.array(x), np.array(y)))
        mids = 0.5 * (self.edges[1:] + self.edges[:-1])
        return float(np.interp(a, mids, self.ring_sb, right=0.0))


@dataclass
class _Sources:
    """Per-label statistics of segments (binned pixels), arrays aligned with ``labels``."""

    labels: np.ndarray
    flux: np.ndarray  # positive flux
    cx: np.ndarray  # flux-weighted centroid
    cy: np.ndarray
    peak: np.ndarray  # highest pixel and where
    px: np.ndarray
    py: np.ndarray
    r_own: np.ndarray  # radius of a circle the size of the brightest pixels holding half the flux
    ellipticity: np.ndarray  # from second moments

    def score(self, shape: tuple[int, int]) -> np.ndarray:
        """Flux times a Gaussian weight of the distance from the frame centre."""
        hb, wb = shape
        d2 = (self.cx - (wb - 1) / 2) ** 2 + (self.cy - (hb - 1) / 2) ** 2
        sigma = CENTRE_SIGMA * min(hb, wb)
        return np.where(np.isfinite(d2), self.flux * np.exp(-0.5 * d2 / sigma**2), -1.0)


def _sources(data: np.ndarray, segm: np.ndarray, labels: np.ndarray) -> _Sources:
    n = len(labels)
    out = _Sources(labels, *(np.full(n, np.nan) for _ in range(8)))
    objects = ndimage.find_objects(segm)
    for k, lab in enumerate(labels):
        sl = objects[lab - 1] if lab - 1 < len(objects) else None
        if sl is None:
            continue
        ys, xs = np.nonzero(segm[sl] == lab)
        vals = data[sl][ys, xs].astype(np.float64)
        w = np.clip(vals, 0.0, None)
        tot = w.sum()
        out.flux[k] = tot
        if tot > 0:
            out.cx[k] = (w * xs).sum() / tot + sl[1].start
            out.cy[k] = (w * ys).sum() / tot + sl[0].start
            desc = np.sort(w)[::-1]
            n_half = int(np.searchsorted(np.cumsum(desc), 0.5 * tot)) + 1
            out.r_own[k] = math.sqrt(n_half / math.pi)
            out.ellipticity[k] = _ellipticity(w, xs, ys)
        j = int(np.argmax(vals))
        out.peak[k], out.px[k], out.py[k] = vals[j], xs[j] + sl[1].start, ys[j] + sl[0].start
    return out


def _bin_factor(h: int, w: int) -> int:
    return max(1, min(h, w) // DETECT_SIZE)


def _binned(image: np.ndarray, b: int) -> np.ndarray:
    """Block mean by ``b`` (edges that do not fill a block are dropped), float32 (hb, wb, ...).

    Summed as b strided slices per axis: numpy's reduction over the axes of a
    reshaped view is ten times slower on (H, W, 3) images.
    """
    image = image.astype(np.float32, copy=False)
    if b == 1:
        return image
    hb, wb = image.shape[0] // b, image.shape[1] // b
    a = image[: hb * b, : wb * b]
    rows = a[0::b].copy()
    for i in range(1, b):
        rows += a[i::b]
    out = rows[:, 0::b].copy()
    for i in range(1, b):
        out += rows[:, i::b]
    out *= np.float32(1.0 / (b * b))
    return out


def _block_max(a: np.ndarray, b: int) -> np.ndarray:
    """Block maximum by ``b`` of a 2-D array (strided slices, as :func:`_binned`)."""
    if b == 1:
        return a
    hb, wb = a.shape[0] // b, a.shape[1] // b
    a = a[: hb * b, : wb * b]
    rows = a[0::b].copy()
    for i in range(1, b):
        np.maximum(rows, a[i::b], out=rows)
    out = rows[:, 0::b].copy()
    for i in range(1, b):
        np.maximum(out, rows[:, i::b], out=out)
    return out


def _channel_max(image: np.ndarray) -> np.ndarray:
    """Per-pixel maximum over the channels (``max(axis=2)`` is slow on (H, W, 3))."""
    return np.maximum(np.maximum(image[..., 0], image[..., 1]), image[..., 2])


def _sky_stats(values: np.ndarray, iters: int = 5, clip: float = 3.0) -> tuple[float, float]:
    """Sigma-clipped median and standard deviation (a MAD-based clip: sources are outliers)."""
    v = values.ravel()
    med = float(np.median(v))
    std = float(np.std(v))
    for _ in range(iters):
        mad = float(np.median(np.abs(v - med))) * 1.4826
        scale = mad if mad > 0 else std
        keep = v[np.abs(v - med) < clip * scale] if scale > 0 else v
        if keep.size < 10:
            break
        new_med, std = float(np.median(keep)), float(np.std(keep))
        converged = keep.size == v.size or new_med == med
        v, med = keep, new_med
        if converged:
            break
    return med, std


def _second_moments(w: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float]:
    """Central second moments (xx, yy, xy) of weights w at pixels (xs, ys), pixel extent added."""
    tot = w.sum()
    mx, my = (w * xs).sum() / tot, (w * ys).sum() / tot
    dx, dy = xs - mx, ys - my
    cxx = (w * dx * dx).sum() / tot + 1.0 / 12.0  # + the pixel's own extent, as photutils
    cyy = (w * dy * dy).sum() / tot + 1.0 / 12.0
    cxy = (w * dx * dy).sum() / tot
    return float(cxx), float(cyy), float(cxy)


def _axes(cxx: float, cyy: float, cxy: float) -> tuple[float, float]:
    """Ellipticity 1 - b/a and major-axis angle of the moments' ellipse."""
    common = math.hypot(0.5 * (cxx - cyy), cxy)
    a2 = 0.5 * (cxx + cyy) + common
    b2 = max(0.5 * (cxx + cyy) - common, 0.0)
    return 1.0 - math.sqrt(b2 / a2), _wrap_axis(0.5 * math.atan2(2.0 * cxy, cxx - cyy))


def _ellipticity(w: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> float:
    return _axes(*_second_moments(w, xs, ys))[0] if w.sum() > 0 and w.size >= 3 else math.nan


def _moments(data: np.ndarray, mask: np.ndarray) -> tuple[float, float, float, float]:
    """Centroid, ellipticity 1 - b/a and major-axis angle of the positive flux in ``mask``."""
    ys, xs = np.nonzero(mask)
    w = np.clip(data[ys, xs], 0.0, None).astype(np.float64)
    tot = w.sum()
    if tot <= 0 or xs.size < 3:
        return math.nan, math.nan, math.nan, math.nan
    mx, my = (w * xs).sum() / tot, (w * ys).sum() / tot
    ellipticity, theta = _axes(*_second_moments(w, xs, ys))
    return float(mx), float(my), ellipticity, theta


def _wrap_axis(theta: float) -> float:
    """An axis angle in (-pi/2, pi/2]."""
    t = math.remainder(theta, math.pi)
    return math.pi / 2 if t <= -math.pi / 2 else t


def _windowed_centroid(
    data: np.ndarray, usable: np.ndarray, x: float, y: float, r_half: float, q: float
) -> tuple[float, float]:
    """Gaussian-windowed centroid with a shrinking circular window (binned pixels).

    The window starts at SExtractor's XWIN size (sigma = circularised r50 / 1.18)
    and shrinks to r50 / _WINDOW_FINAL (r50 along the major axis), the scale of
    a nucleus: on the demo sample this centres spirals on their nucleus rather
    than their brightest arm, and edge-on disks along their length.
    """
    s_final = max(r_half / _WINDOW_FINAL, 1.0)
    sigma = max(r_half * math.sqrt(q) / 1.1774, s_final)
    while True:
        for _ in range(_WINDOW_ITERS):
            # Only pixels within 4 sigma matter: work on that box.
            r = int(math.ceil(4 * sigma))
            y0, y1 = max(int(y) - r, 0), min(int(y) + r + 2, data.shape[0])
            x0, x1 = max(int(x) - r, 0), min(int(x) + r + 2, data.shape[1])
            if y0 >= y1 or x0 >= x1:
                return x, y
            ys, xs = np.nonzero(usable[y0:y1, x0:x1])
            w = np.clip(data[y0:y1, x0:x1][ys, xs], 0.0, None).astype(np.float64)
            dx, dy = xs + x0 - x, ys + y0 - y
            w *= np.exp(-0.5 * (dx * dx + dy * dy) / sigma**2)
            tot = w.sum()
            if tot <= 0:
                return x, y
            shift_x, shift_y = (w * dx).sum() / tot, (w * dy).sum() / tot
            x, y = float(x + shift_x), float(y + shift_y)
            if math.hypot(shift_x, shift_y) < 0.01:
                break
        if sigma <= s_final:
            return x, y
        sigma = max(sigma * _WINDOW_SHRINK, s_final)


def _profile(
    data: np.ndarray, usable: np.ndarray, xc: float, yc: float, ellipticity: float, theta: float
) -> _Profile:
    """Growth curve in elliptical rings around (xc, yc) (the galaxy's shape, b/a >= MIN_Q).

    Each ring's mean surface brightness over the usable pixels times the ring's
    full area: pixels of other sources and off the frame are filled by the mean
    of the rest of their ring. r_max is where rings stop being observed over at
    least _MIN_COVERAGE of their area.
    """
    q = 1.0 if not math.isfinite(ellipticity) else max(1.0 - ellipticity, MIN_Q)
    theta = 0.0 if not math.isfinite(theta) else theta
    prof = _Profile(xc, yc, q, theta, np.zeros(2), np.zeros(2), np.zeros(1), _RING)
    yy, xx = np.indices(data.shape, dtype=np.float64)
    ring = (prof.radius(xx, yy) / _RING).astype(np.int64)
    n_rings = int(ring.max()) + 1
    sel = usable.ravel()
    ring_u = ring.ravel()[sel]
    total = np.bincount(ring_u, data.ravel()[sel].astype(np.float64), n_rings)
    count = np.bincount(ring_u, None, n_rings)
    edges = _RING * np.arange(n_rings + 1)
    area = np.pi * q * (edges[1:] ** 2 - edges[:-1] ** 2)
    # Thin rings hold a handful of pixels (or none, by the luck of the grid):
    # judge coverage over runs of rings at least two pixels wide along the minor
    # axis; empty rings borrow from their neighbours.
    half_run = int(math.ceil(1.0 / (q * _RING)))
    run = np.ones(2 * half_run + 1)
    observed = np.convolve(count, run, "same")
    expected = np.convolve(area, run, "same")
    covered = (observed >= _MIN_COVERAGE * expected) | (edges[:-1] * math.sqrt(q) < 2.0)
    last = int(np.argmin(covered)) if not covered.all() else n_rings
    last = max(last, 1)
    seen = count[:last] > 0
    if not seen.any():
        return prof
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total[:last] / count[:last]
    if not seen.all():
        k = np.arange(last)
        mean = np.interp(k, k[seen], mean[seen])
    prof.edges = edges[: last + 1]
    prof.enclosed = np.concatenate([[0.0], np.cumsum(mean * area[:last])])
    prof.ring_sb = mean
    prof.r_max = float(edges[last])
    return prof


def _radii(prof: _Profile) -> tuple[float, float]:
    """Petrosian radius (NaN if the profile never falls to eta in the frame) and r50.

    r50 holds half the flux inside 2 r_P (SDSS, NSA), or inside r_max when r_P
    is not found or 2 r_P is not observed. Both are semi-major axes.
    """
    edges, enclosed, r_max = prof.edges, prof.enclosed, prof.r_max

    def L(r: np.ndarray | float) -> np.ndarray:
        return np.interp(r, edges, enclosed)

    r = edges[2:]  # from one binned pixel out
    r = r[1.25 * r <= r_max]
    r_petro = math.nan
    if r.size:
        # eta = ring surface brightness / mean inside; the rings' areas scale alike,
        # so the ratio of fluxes to r^2 terms is all it takes.
        with np.errstate(invalid="ignore", divide="ignore"):
            annulus = (L(1.25 * r) - L(0.8 * r)) / (1.25**2 - 0.8**2)
            inside = L(r)
            eta = annulus / inside
        below = np.nonzero((eta < PETROSIAN_ETA) & (inside > 0))[0]
        if below.size:
            k = int(below[0])
            if k == 0:
                r_petro = float(r[0])
            else:  # linear interpolation between the bracketing radii
                e0, e1 = eta[k - 1], eta[k]
                f = (e0 - PETROSIAN_ETA) / (e0 - e1) if e0 != e1 else 0.0
                r_petro = float(r[k - 1] + f * (r[k] - r[k - 1]))
    r_total = min(2.0 * r_petro, r_max) if math.isfinite(r_petro) else r_max
    # Noise may make the growth curve wiggle: take the first crossing of half the
    # flux from the inside.
    inner = edges < r_total
    total = float(L(r_total))
    e = np.append(edges[inner], r_total)
    cum = np.append(enclosed[inner], total)
    half = 0.5 * total
    if half <= 0 or e.size < 2:
        return r_petro, math.nan
    k = int(np.argmax(cum >= half))  # >= 1: cum[0] = 0 < half <= cum[-1]
    f = (half - cum[k - 1]) / (cum[k] - cum[k - 1]) if cum[k] != cum[k - 1] else 0.0
    return r_petro, float(e[k - 1] + f * (e[k] - e[k - 1]))


def _noise_correlation(det_img: np.ndarray, rms: float) -> float:
    """How much more than rms sqrt(n) the noise of a sum of n pixels is (1 to 2).

    Resampled cutouts have noise correlated over several pixels. Binning 2 x 2
    more halves white noise; the rms that remains measures the correlation.
    """
    if min(det_img.shape) < 8 or rms <= 0:
        return 1.0
    rms2 = _sky_stats(_binned(det_img[..., None], 2)[..., 0])[1]
    return min(max(2.0 * rms2 / rms, 1.0), 2.0)


def _segment(
    data: np.ndarray, rms: float, b: int, frame: _Frame, settings: NormaliseSettings
) -> bool:
    """Segment, pick the central source and split off what is not the galaxy.

    Fills ``frame.segm``, ``frame.galaxy`` and ``frame.contaminants``; returns
    False when nothing is detected.
    """
    from photutils.segmentation import deblend_sources, detect_sources
    from photutils.utils.exceptions import NoDetectionsWarning

    # Detect on the smoothed image against the noise of the unsmoothed one (the
    # usual photutils recipe: smoothing is a matched filter for extended light).
    smooth = ndimage.gaussian_filter(data, 1.0, truncate=3.0)
    npix = max(3, math.ceil(settings.npixels / b**2))
    with warnings.catch_warnings():
        # An empty frame is an outcome here (flagged by the caller), not a warning.
        warnings.simplefilter("ignore", NoDetectionsWarning)
        segm_img = detect_sources(smooth, settings.detect_sigma * rms, npix)
    if segm_img is None:
        return False
    parents = _sources(data, segm_img.data, np.asarray(segm_img.labels))
    k = int(np.argmax(parents.score(data.shape)))
    label = int(parents.labels[k])
    segm = np.asarray(segm_img.data, dtype=np.int32)
    galaxy = segm == label
    contaminants: list[int] = []
    if settings.deblend:
        # Deblend only the central segment: the others are neighbours or stars
        # whole, and deblending is the costliest step. Deblend a version smoothed
        # on the galaxy's own scale: spiral arms and knots then stay in one piece
        # while stars and neighbours in contact keep their own peaks.
        r_parent = float(parents.r_own[k])
        deb_img = ndimage.gaussian_filter(data, max(1.0, _DEBLEND_SMOOTH * r_parent), truncate=3.0)
        blended = deblend_sources(
            deb_img, segm_img, npix, labels=[label], contrast=DEBLEND_CONTRAST,
            progress_bar=False,
        )
        segm = np.asarray(blended.data, dtype=np.int32)
        children = np.unique(segm[galaxy])
        if children.size > 1:
            kids = _sources(data, segm, children)
            main = int(np.argmax(kids.score(data.shape)))
            # Components other than the central one that are compact (a small
            # fraction of the parent's size: a star, a knot or a small neighbour on
            # the galaxy) or that peak beyond the parent's half-light radius from it
            # (a star or neighbour in contact) are not the galaxy. Components that
            # peak close to it (the halves of a disk cut by a dust lane) are.
            for j, lab in enumerate(kids.labels):
                if j == main:
                    continue
                apart = math.hypot(kids.px[j] - kids.px[main], kids.py[j] - kids.py[main])
                if kids.r_own[j] <= _COMPACT * r_parent or apart > r_parent:
                    contaminants.append(int(lab))
            if contaminants:
                galaxy &= ~np.isin(segm, contaminants)
    frame.segm, frame.galaxy, frame.contaminants = segm, galaxy, tuple(contaminants)
    return True


def _is_star(frame: _Frame, img: np.ndarray) -> bool:
    """Whether the central source is a bright star rather than a galaxy.

    A star's stretched image is mostly its clipped disc: the saturated pixels
    cover at least _CENTRAL_STAR_CORE of the area holding half the light, and
    they are round once opened (which drops bleed trails and diffraction
    spikes). A saturated galaxy core is a smaller part of the galaxy (ellipticals
    reach 0.4 on the demo sample, disks and mergers 0.85) or elongated (ellipticity
    of the core above 0.13 for disks and mergers; stars below 0.05, or 0.12 with a
    bleed trail).
    """
    assert frame.galaxy is not None
    if frame.sat is None:
        frame.sat = _block_max(_channel_max(img), frame.bin)
    saturated = (frame.sat >= _SATURATED) & frame.galaxy
    n_sat = int(saturated.sum())
    if n_sat < 5:
        return False
    # Open with a disc half the radius of the saturated area: a star's disc stays,
    # trails and spikes narrower than it go.
    r = max(1, int(0.5 * math.sqrt(n_sat / math.pi)))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    core = ndimage.binary_opening(saturated, structure=xx * xx + yy * yy <= r * r)
    if core.sum() < 5:
        return False
    src = _sources(frame.data, frame.galaxy.astype(np.int32), np.array([1]))
    fraction = n_sat / (math.pi * src.r_own[0] ** 2)
    # Roundness on the input pixels of the core (binned, a small disc is a blocky
    # polygon whose moments read ellipticity ~0.1).
    ys, xs = _block_pixels(*np.nonzero(ndimage.binary_dilation(core)), frame.bin)
    keep = _channel_max(img[ys, xs][:, None, :])[:, 0] >= _SATURATED
    xs, ys = xs[keep].astype(np.float64), ys[keep].astype(np.float64)
    roundness = _ellipticity(np.ones(xs.size), xs, ys)
    # A bleed trail across the disc leaves a stub the opening keeps: the more the
    # core dominates, the less round it needs to be.
    return bool(
        (fraction >= _CENTRAL_STAR_CORE and roundness <= _CENTRAL_STAR_ROUND)
        or (fraction >= 2 * _CENTRAL_STAR_CORE and roundness <= 2 * _CENTRAL_STAR_ROUND)
    )


def _measure(image: np.ndarray, settings: NormaliseSettings) -> _Frame:
    """Measure the central galaxy (see the module docstring); never raises on a hard image."""
    img = _finite(np.asarray(image, dtype=np.float32))
    h, w = img.shape[:2]
    b = _bin_factor(h, w)
    rgb = _binned(img, b)
    det_img = rgb.mean(axis=2)
    sky, rms = _sky_stats(det_img)
    data = det_img - np.float32(sky)
    frame = _Frame(Detection(), b, data, rms)
    d = frame.det
    d.sky = _channel_sky(rgb, None)
    if not np.isfinite(rms) or rms <= 1e-6:  # a constant frame (or one of rounding noise)
        d.flag = "bad image"
        return frame
    if not _segment(data, rms, b, frame, settings):
        d.flag = "no source"
        return frame
    segm, galaxy = frame.segm, frame.galaxy
    assert segm is not None and galaxy is not None
    d.sky = _channel_sky(rgb, segm)

    flux = float(np.clip(data[galaxy], 0.0, None).sum())
    area = int(galaxy.sum())
    d.flux = flux * b * b
    d.snr = flux / (_noise_correlation(det_img, rms) * rms * math.sqrt(max(area, 1)))
    xb, yb, ellipticity, theta = _moments(data, galaxy)
    if not math.isfinite(xb):
        d.flag = "no source"
        return frame
    # Rings are measured on everything but the other sources; the galaxy's own
    # split-off components are filled in by their rings.
    usable = (segm == 0) | galaxy
    prof = _profile(data, usable, xb, yb, ellipticity, theta)
    r_petro, r_half = _radii(prof)
    if math.isfinite(r_half) and r_half > 0:
        # The centre of the light, not of an isophote that arms, a bar or a
        # neighbour's deblending boundary pull aside: a windowed centroid whose
        # window shrinks until it settles on the nucleus. Then the rings again.
        xb, yb = _windowed_centroid(data, usable, xb, yb, r_half, prof.q)
        prof = _profile(data, usable, xb, yb, ellipticity, theta)
        r_petro, r_half = _radii(prof)
    frame.profile = prof

    # Binned pixel i covers input pixels i*b .. i*b + b - 1: its centre is i*b + (b-1)/2.
    d.x, d.y = b * xb + (b - 1) / 2, b * yb + (b - 1) / 2
    d.r_half, d.r_petro = b * r_half, b * r_petro
    d.ellipticity, d.theta = ellipticity, theta
    if d.snr < MIN_SNR:
        d.flag = "faint"
    elif math.hypot(d.x - (w - 1) / 2, d.y - (h - 1) / 2) > MAX_OFFSET * min(h, w):
        d.flag = "off centre"
    elif not math.isfinite(d.r_half) or d.r_half < MIN_RADIUS:
        d.flag = "too small"
    elif settings.radius_multiple * d.r_half > MAX_ZOOM_OUT * max(h, w):
        d.flag = "too large"
    elif _is_star(frame, img):
        d.flag = "star"
    return frame


def _channel_sky(rgb: np.ndarray, segm: np.ndarray | None) -> tuple[float, float, float]:
    """Median of each channel over the pixels of no source (all pixels if none is known)."""
    sky = segm == 0 if segm is not None else None
    sel = rgb[sky] if sky is not None and sky.sum() >= 10 else rgb.reshape(-1, 3)
    med = np.median(sel, axis=0)
    return (float(med[0]), float(med[1]), float(med[2]))


def detect_central_galaxy(
    image: np.ndarray, settings: NormaliseSettings | None = None
) -> Detection:
    """Measure the central galaxy of an (H, W, 3) float image in [0, 1] (any size).

    Never raises on a hard image: a failure is reported in ``Detection.flag``.
    """
    image = _check_image(image)
    return _measure(image, settings or NormaliseSettings(mode="recentre")).det


def _finite(image: np.ndarray) -> np.ndarray:
    """NaN as 0 (no light), infinities as 0 and 1; finite images are returned as they are."""
    if np.isfinite(image).all():
        return image
    return np.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0)


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 2:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    return image


# -- star masking -----------------------------------------------------------------------------
def _star_labels(frame: _Frame, image: np.ndarray) -> list[int]:
    """Sources other than the galaxy that look like stars.

    Candidates: the components split off the galaxy and the other segments. A
    star is either

    * saturated, with the saturated pixels covering at least _SAT_CORE of the
      area that holds half its light: a bright star is mostly its flat,
      clipped disc once stretched, while a saturated galaxy nucleus (a
      neighbour's, a merger partner's) is a small part of an extended body; or
    * compact -- the area holding half its light is a circle of at most
      _COMPACT of the galaxy's (circularised) half-light radius -- and bright:
      its peak rises _STAR_EXCESS noise sigmas above the galaxy's ring surface
      brightness there, and above that surface brightness itself, so knots of
      star formation (a modest bump on bright disk light) stay.
    """
    segm, prof, b, det = frame.segm, frame.profile, frame.bin, frame.det
    if segm is None or prof is None or frame.galaxy is None:
        return []
    labels = np.unique(segm[~frame.galaxy])
    labels = labels[labels > 0]
    if not labels.size:
        return []
    if frame.sat is None:
        frame.sat = _block_max(_channel_max(image), b)
    src = _sources(frame.data, segm, labels)
    n_sat = np.atleast_1d(ndimage.sum(frame.sat >= _SATURATED, segm, labels))
    r_gal = det.r_half / b * math.sqrt(prof.q)  # circularised, as r_own
    stars = []
    for j, lab in enumerate(src.labels):
        if not math.isfinite(src.peak[j]):
            continue
        core = n_sat[j] / (math.pi * src.r_own[j] ** 2)
        if core >= _SAT_CORE_ANY or (core >= _SAT_CORE and src.ellipticity[j] < _ROUND):
            stars.append(int(lab))
            continue
        galaxy_sb = max(prof.sb_at(src.px[j], src.py[j]), 0.0)
        excess = float(src.peak[j]) - galaxy_sb
        if excess < _STAR_EXCESS * frame.rms or excess < galaxy_sb:
            continue
        if src.r_own[j] <= _COMPACT * r_gal:
            stars.append(int(lab))
    return stars


def _rng_for(image: np.ndarray) -> np.random.Generator:
    """A generator seeded by the image content: the same image always gets the same noise."""
    return np.random.default_rng(zlib.crc32(np.ascontiguousarray(image[::4, ::4]).tobytes()))


def _block_pixels(yb: np.ndarray, xb: np.ndarray, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Input-pixel rows and columns of the b x b blocks of binned pixels (yb, xb)."""
    off = np.arange(b)
    ys = (yb[:, None, None] * b + off[None, :, None]) + np.zeros((1, 1, b), dtype=np.int64)
    xs = (xb[:, None, None] * b + off[None, None, :]) + np.zeros((1, b, 1), dtype=np.int64)
    return ys.ravel(), xs.ravel()


def _mask_stars(image: np.ndarray, frame: _Frame) -> np.ndarray:
    """A copy of ``image`` with star-like sources replaced (see :func:`_star_labels`).

    Masked pixels take the value of their mirror image through the galaxy centre
    (galaxies are roughly point-symmetric, and sky mirrors to sky with its own
    noise); where the mirror is off-frame or masked too, sky pixels drawn at random
    from the frame. Everything is indexed through the binned mask: no full-size
    masks are built.
    """
    stars = _star_labels(frame, image)
    frame.det.n_masked = len(stars)
    if not stars:
        return image
    b, segm = frame.bin, frame.segm
    assert segm is not None
    mask_b = np.isin(segm, stars)
    mask_b = ndimage.binary_dilation(mask_b, iterations=1)  # the halo beyond the isophote
    hb, wb = mask_b.shape
    h, w = image.shape[:2]
    ys, xs = _block_pixels(*np.nonzero(mask_b), b)
    my = np.rint(2 * frame.det.y - ys).astype(np.int64)
    mx = np.rint(2 * frame.det.x - xs).astype(np.int64)
    good = (mx >= 0) & (mx < w) & (my >= 0) & (my < h)
    # A mirror pixel beyond the binned area (the last partial block) is unmasked.
    myb, mxb = np.minimum(my[good] // b, hb - 1), np.minimum(mx[good] // b, wb - 1)
    in_binned = (my[good] < hb * b) & (mx[good] < wb * b)
    good[good] = ~(mask_b[myb, mxb] & in_binned)
    out = image.astype(np.float32, copy=True)
    out[ys[good], xs[good]] = image[my[good], mx[good]]
    rest = ~good
    if rest.any():
        sky_y, sky_x = np.nonzero(segm == 0)
        n = int(rest.sum())
        if sky_y.size >= 10:
            rng = _rng_for(image)
            pick = rng.integers(0, sky_y.size, n)
            py = sky_y[pick] * b + rng.integers(0, b, n)
            px = sky_x[pick] * b + rng.integers(0, b, n)
            out[ys[rest], xs[rest]] = image[py, px]
        else:
            out[ys[rest], xs[rest]] = np.asarray(frame.det.sky, dtype=np.float32)
    return out


# -- resampling -------------------------------------------------------------------------------
def _warp(image: np.ndarray, frame: _Frame, size: int, rotate: bool, multiple: float) -> np.ndarray:
    """Resample onto a size x size grid centred on the galaxy, ``multiple`` r_half across.

    Output pixel (i, j) sits at u = (j - c) s, v = (i - c) s from the galaxy
    (c = (size - 1) / 2, s = input pixels per output pixel) along the major and
    minor axes (or x and y without rotation). A reduction must not alias: the
    input is smoothed to a Gaussian of (s - 1) / 2 pixels (skimage's rescale
    default), cheaply -- block averaging by floor(s) first (area averaging, and
    16x fewer pixels for the rest), then the remaining Gaussian width -- and
    sampled with a cubic spline. Pixels off the input take the sky: random
    draws from the output's own sky pixels, so the padding has the noise of the
    rest of the image rather than a flat edge the features would notice.
    """
    det = frame.det
    h, w = image.shape[:2]
    s = multiple * det.r_half / size
    theta = det.theta if rotate and math.isfinite(det.theta) else 0.0
    ct, st = math.cos(theta), math.sin(theta)
    c = (size - 1) / 2
    jj, ii = np.meshgrid(np.arange(size, dtype=np.float64), np.arange(size, dtype=np.float64))
    u, v = (jj - c) * s, (ii - c) * s
    x = det.x + u * ct - v * st
    y = det.y + u * st + v * ct
    inside = (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
    k = max(1, int(s)) if s >= 2 else 1
    sigma = max(0.0, (s - 1.0) / 2.0)
    # Block averaging by k is a box of variance (k^2 - 1) / 12: add the rest.
    sigma_rest = math.sqrt(max(sigma**2 - (k * k - 1) / 12.0, 0.0)) / k  # in blocks
    # Work on the part of the input the output covers (plus the filters' reach).
    pad = k * (int(math.ceil(3 * sigma_rest)) + 3)
    x0, x1 = max(int(math.floor(x.min())) - pad, 0), min(int(math.ceil(x.max())) + pad + 1, w)
    y0, y1 = max(int(math.floor(y.min())) - pad, 0), min(int(math.ceil(y.max())) + pad + 1, h)
    out = np.empty((size, size, 3), dtype=np.float32)
    if x1 - x0 < k or y1 - y0 < k:  # no overlap (cannot happen for an accepted detection)
        out[:] = np.asarray(det.sky, dtype=np.float32)
        return out
    crop = _binned(image[y0:y1, x0:x1], k)
    if sigma_rest > 0.05:
        crop = ndimage.gaussian_filter(
            crop, (sigma_rest, sigma_rest, 0.0), mode="nearest", truncate=3.0
        )
    # Block j covers input pixels x0 + j k .. x0 + j k + k - 1.
    coords = np.stack([(y - y0 - (k - 1) / 2) / k, (x - x0 - (k - 1) / 2) / k])
    for ch in range(3):
        # Cubic spline (sharper than bilinear when enlarging); 'nearest' extends the
        # edge half a pixel, the rest is padded below.
        out[..., ch] = ndimage.map_coordinates(crop[..., ch], coords, order=3, mode="nearest")
    if not inside.all():
        out[~inside] = _padding(out, inside, frame, x, y)
    return np.clip(out, 0.0, 1.0)


def _padding(
    out: np.ndarray, inside: np.ndarray, frame: _Frame, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Values for output pixels off the input frame: resampled sky pixels drawn at random."""
    n = int((~inside).sum())
    sky_px = inside.copy()
    if frame.segm is not None:
        b = frame.bin
        hb, wb = frame.segm.shape
        xb = np.clip(np.floor(x[inside] / b).astype(np.int64), 0, wb - 1)
        yb = np.clip(np.floor(y[inside] / b).astype(np.int64), 0, hb - 1)
        sky_px[inside] = frame.segm[yb, xb] == 0
    pool = out[sky_px]
    if pool.shape[0] < 10:
        return np.broadcast_to(np.asarray(frame.det.sky, dtype=np.float32), (n, 3))
    return pool[_rng_for(out).integers(0, pool.shape[0], n)]


def normalise(
    image: np.ndarray, size: int, settings: NormaliseSettings
) -> tuple[np.ndarray, Detection]:
    """One cutout, float (H, W, 3) in [0, 1], as float32 (size, size, 3) in [0, 1].

    Mode ``none`` without ``mask_stars`` is exactly :func:`resize_rgb` and measures
    nothing (the Detection is all NaN with an empty flag). Otherwise the galaxy is
    measured; when that fails (``Detection.flag`` set) the result is the plain resize
    of the unmasked image, so every galaxy still comes out, flagged. Non-finite
    pixels are read as 0 (NaN, -inf) or 1 (+inf) in every mode.
    """
    image = _finite(_check_image(image))
    if not settings.measures:
        return resize_rgb(image, size), Detection()
    frame = _measure(image, settings)
    if not frame.det.ok:
        return resize_rgb(image, size), frame.det
    work = _mask_stars(image, frame) if settings.mask_stars else image
    if settings.mode == "none":
        return resize_rgb(np.clip(work, 0.0, 1.0), size), frame.det
    out = _warp(work, frame, size, settings.rotate, settings.radius_multiple)
    return out.astype(np.float32, copy=False), frame.det
