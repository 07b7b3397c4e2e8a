"""Find the central galaxy of a cutout, then recentre, rescale and rotate on it.

The reference study's cutouts were already centred on the target and scaled to
its effective radius (0.02 R_e per pixel, 8.48 R_e across the frame), so its
preprocessing was a plain resize. Real cutouts (a fixed pixel scale, a catalog
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

``mask_stars`` (any mode) replaces compact bright sources other than the
galaxy (foreground stars) before resampling.

Measurement (:func:`detect_central_galaxy`), on the mean of the three channels:

1. Block-average to about :data:`DETECT_SIZE` pixels across (a 424-pixel
   SkyServer cutout by 4): the galaxies are tens of pixels across, binning
   costs them nothing and makes segmentation ~16x cheaper and less noisy.
2. Sky level and noise: sigma-clipped median and standard deviation
   (one value per frame: cutouts are small next to sky variations).
3. Segmentation (photutils ``detect_sources``) of the image smoothed by a
   Gaussian of one binned pixel, above ``detect_sigma`` times the noise.
4. The central source is the segment with the largest flux times a Gaussian
   weight of its distance from the frame centre (sigma
   :data:`CENTRE_SIGMA` of the frame): the target, not a brighter star or
   neighbour off-centre. Only that segment is deblended (photutils
   ``deblend_sources``, SExtractor's contrast 0.005), and the same rule picks
   the central child.
5. Centre: flux-weighted centroid of the central segment (background
   subtracted). Shape: its second moments (ellipticity 1 - b/a, angle of the
   major axis), as photutils' ``SourceCatalog`` computes them.
6. Radius: SDSS-style Petrosian radius r_P (eta = 0.2) from a circular
   profile around the centre, then the half-light radius = the radius holding
   half the flux inside 2 r_P (SDSS ``petroR50``). The profile averages each
   annulus over the pixels not claimed by other sources and inside the frame,
   so neighbours, stars, over-split galaxy pieces and frame edges do not bias
   it.

Conventions: ``x`` is the column and ``y`` the row of the input image, pixel
centres at integers (photutils). ``theta`` is the angle of the major axis from
the +x axis towards +y, in (-pi/2, pi/2] (photutils ``orientation``; for an
image displayed with row 0 on top, as a JPEG, that is clockwise). For a cutout
with north up and east left, a position angle PA (north through east) is
``theta = pi/2 - PA`` modulo pi.

On asinh-stretched colour images (SDSS JPEGs) the measured half-light radius
is that of the displayed light, not the photometric R_e: the stretch lifts the
outskirts, so it is larger for concentrated galaxies. ``radius_multiple`` is
relative to the measured radius.

A failed detection never raises and never drops the galaxy: :func:`normalise`
returns the plain resize and a :class:`Detection` whose ``flag`` says why.
"""

from __future__ import annotations

import math
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
    "no source": "nothing above the detection threshold near the frame centre",
    "faint": "the central source is not significant (integrated S/N below MIN_SNR)",
    "off centre": "the central source lies further than MAX_OFFSET of the frame from its centre",
    "too small": "the half-light radius is below MIN_RADIUS pixels",
    "too large": "the crop would span more than MAX_ZOOM_OUT frames",
    "bad image": "the image has no finite pixel or no variation",
}
"""Detection failure reasons (``Detection.flag``); an empty flag means success."""

DETECT_SIZE = 100
"""Target width of the binned detection image (pixels): bin factor = min(H, W) // DETECT_SIZE."""

CENTRE_SIGMA = 0.1
"""Width of the centre weight used to pick the central source, as a fraction of the frame."""

MAX_OFFSET = 0.25
"""A central source further than this fraction of the frame from the centre is not the target."""

MIN_SNR = 10.0
"""Minimum integrated S/N of the central segment. Pure-noise segments at a 2-sigma threshold of a
smoothed image reach S/N ~5; a real galaxy that fills part of the frame is in the hundreds."""

MIN_RADIUS = 1.5
"""Smallest usable half-light radius, in input pixels (below, the source is unresolved)."""

MAX_ZOOM_OUT = 3.0
"""Largest crop width allowed, in frame widths (beyond, the output would be mostly padding)."""

PETROSIAN_ETA = 0.2
"""SDSS Petrosian ratio: r_P is where the annulus surface brightness is 0.2 of the mean inside."""

DEBLEND_CONTRAST = 0.005
"""Minimum flux fraction of a deblended component (SExtractor's DEBLEND_MINCONT)."""

_RING = 0.5  # profile annulus width, binned pixels
_MIN_COVERAGE = 0.3  # an annulus needs this fraction of its area observed to count
_STAR_SIZE = 0.3  # a star's half-light radius is below this fraction of the galaxy's
_STAR_EXCESS = 10.0  # ...and its peak rises this many noise sigmas above the galaxy there
_SATURATED = 0.99  # pixel value (any channel) taken as saturated


# -- settings ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class NormaliseSettings:
    """How to normalise cutouts (config ``preprocess.normalise``).

    ``radius_multiple``: the output spans this many half-light radii from edge to edge
    (the study's frames span 8.48 R_e: 424 pixels at 0.02 R_e per pixel... i.e. R_e =
    50 pixels). ``detect_sigma``: detection threshold in noise sigmas. ``npixels``:
    minimum area of a detection, in input pixels. ``deblend``: split the central
    segment into its components (separates overlapping stars and neighbours).
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
    rgb_binned: np.ndarray  # (hb, wb, 3)
    data: np.ndarray  # binned detection image minus sky
    rms: float  # noise of `data`
    segm: np.ndarray | None  # int labels, binned (0 sky); None when nothing was detected
    label: int  # label of the central source in `segm` (0: none)


def _bin_factor(h: int, w: int) -> int:
    return max(1, min(h, w) // DETECT_SIZE)


def _binned(image: np.ndarray, b: int) -> np.ndarray:
    """Block mean by ``b`` (edges that do not fill a block are dropped), float32 (hb, wb, 3)."""
    if b == 1:
        return image.astype(np.float32, copy=False)
    hb, wb = image.shape[0] // b, image.shape[1] // b
    blocks = image[: hb * b, : wb * b].reshape(hb, b, wb, b, image.shape[2])
    return blocks.mean(axis=(1, 3), dtype=np.float32)


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


def _segment_stats(
    data: np.ndarray, segm: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positive flux, centroid x, centroid y and area of each label (binned pixels)."""
    w = np.clip(data, 0.0, None).astype(np.float64)
    idx = segm.ravel()
    n = int(segm.max()) + 1
    yy, xx = np.indices(segm.shape)
    flux = np.bincount(idx, w.ravel(), n)
    sx = np.bincount(idx, (w * xx).ravel(), n)
    sy = np.bincount(idx, (w * yy).ravel(), n)
    area = np.bincount(idx, None, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx, cy = sx / flux, sy / flux
    return flux[labels], cx[labels], cy[labels], area[labels]


def _pick_central(
    data: np.ndarray, segm: np.ndarray, labels: np.ndarray
) -> tuple[int, float, float, float]:
    """Label, centroid and flux of the source with the largest flux x centre weight."""
    flux, cx, cy, _ = _segment_stats(data, segm, labels)
    hb, wb = segm.shape
    d2 = (cx - (wb - 1) / 2) ** 2 + (cy - (hb - 1) / 2) ** 2
    sigma = CENTRE_SIGMA * min(hb, wb)
    score = np.where(np.isfinite(d2), flux * np.exp(-0.5 * d2 / sigma**2), -1.0)
    k = int(np.argmax(score))
    return int(labels[k]), float(cx[k]), float(cy[k]), float(flux[k])


def _profile(
    data: np.ndarray, usable: np.ndarray, xc: float, yc: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Circular growth curve around (xc, yc): ring edges, enclosed flux at each edge, r_max.

    Each ring's mean surface brightness over the usable pixels times the ring's
    full area: masked and off-frame pixels are filled by the azimuthal mean.
    r_max is where rings stop being observed over at least _MIN_COVERAGE of
    their area.
    """
    yy, xx = np.indices(data.shape)
    r = np.hypot(xx - xc, yy - yc)
    ring = (r / _RING).astype(np.int64)
    n_rings = int(ring.max()) + 1
    sel = usable.ravel()
    ring_u = ring.ravel()[sel]
    total = np.bincount(ring_u, data.ravel()[sel].astype(np.float64), n_rings)
    count = np.bincount(ring_u, None, n_rings)
    edges = _RING * np.arange(n_rings + 1)
    area = np.pi * (edges[1:] ** 2 - edges[:-1] ** 2)
    # Rings within two pixels of the centre hold a handful of pixels (or none, by
    # the luck of the grid): they count as observed and borrow from their neighbours.
    covered = (count >= _MIN_COVERAGE * area) | (edges[:-1] < 2.0)
    last = int(np.argmin(covered)) if not covered.all() else n_rings
    last = max(last, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total[:last] / count[:last]
    seen = count[:last] > 0
    if not seen.any():
        return edges[:2], np.zeros(2), float(edges[1])
    if not seen.all():
        k = np.arange(last)
        mean = np.interp(k, k[seen], mean[seen])
    enclosed = np.concatenate([[0.0], np.cumsum(mean * area[:last])])
    return edges[: last + 1], enclosed, float(edges[last])


def _radii(edges: np.ndarray, enclosed: np.ndarray, r_max: float) -> tuple[float, float]:
    """Petrosian radius (NaN if the profile never falls to eta in the frame) and r50.

    r50 holds half the flux inside 2 r_P (SDSS), or inside r_max when r_P or
    2 r_P is not observed.
    """
    def L(r: np.ndarray | float) -> np.ndarray:
        return np.interp(r, edges, enclosed)

    r = edges[2:]  # from one binned pixel out
    r = r[1.25 * r <= r_max]
    r_petro = math.nan
    if r.size:
        with np.errstate(invalid="ignore", divide="ignore"):
            annulus = (L(1.25 * r) - L(0.8 * r)) / (np.pi * (1.25**2 - 0.8**2) * r**2)
            inside = L(r) / (np.pi * r**2)
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
    # The growth curve rises until r_total (noise may make it wiggle): take the
    # first crossing of half the flux from the inside.
    inner = edges <= r_total
    e, cum = edges[inner], enclosed[inner]
    half = 0.5 * float(L(r_total))
    if half <= 0 or e.size < 2:
        return r_petro, math.nan
    k = int(np.argmax(cum >= half))
    if k == 0:
        return r_petro, float(e[0])
    f = (half - cum[k - 1]) / (cum[k] - cum[k - 1]) if cum[k] != cum[k - 1] else 0.0
    return r_petro, float(e[k - 1] + f * (e[k] - e[k - 1]))


def _shape(data: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Ellipticity 1 - b/a and major-axis angle of the positive flux in ``mask`` (second moments)."""
    ys, xs = np.nonzero(mask)
    w = np.clip(data[ys, xs], 0.0, None).astype(np.float64)
    tot = w.sum()
    if tot <= 0 or xs.size < 3:
        return math.nan, math.nan
    mx, my = (w * xs).sum() / tot, (w * ys).sum() / tot
    dx, dy = xs - mx, ys - my
    cxx = (w * dx * dx).sum() / tot + 1.0 / 12.0  # + pixel size, as photutils
    cyy = (w * dy * dy).sum() / tot + 1.0 / 12.0
    cxy = (w * dx * dy).sum() / tot
    common = math.hypot(0.5 * (cxx - cyy), cxy)
    a2 = 0.5 * (cxx + cyy) + common
    b2 = max(0.5 * (cxx + cyy) - common, 0.0)
    ellipticity = 1.0 - math.sqrt(b2 / a2) if a2 > 0 else math.nan
    theta = 0.5 * math.atan2(2.0 * cxy, cxx - cyy)
    return ellipticity, _wrap_axis(theta)


def _wrap_axis(theta: float) -> float:
    """An axis angle in (-pi/2, pi/2]."""
    t = math.remainder(theta, math.pi)
    return math.pi / 2 if t <= -math.pi / 2 else t


def _measure(image: np.ndarray, settings: NormaliseSettings) -> _Frame:
    from photutils.segmentation import deblend_sources, detect_sources

    img = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    h, w = img.shape[:2]
    b = _bin_factor(h, w)
    rgb = _binned(img, b)
    det_img = rgb.mean(axis=2)
    sky, rms = _sky_stats(det_img)
    data = det_img - np.float32(sky)
    frame = _Frame(Detection(), b, rgb, data, rms, None, 0)
    if not np.isfinite(rms) or rms <= 0:
        frame.det.flag = "bad image"
        frame.det.sky = _channel_sky(rgb, None)
        return frame

    # Detect on the smoothed image against the noise of the unsmoothed one (the
    # usual photutils recipe: smoothing is a matched filter for extended light).
    smooth = ndimage.gaussian_filter(data, 1.0, truncate=3.0)
    npix = max(3, math.ceil(settings.npixels / b**2))
    segm_img = detect_sources(smooth, settings.detect_sigma * rms, npix)
    if segm_img is None:
        frame.det.flag = "no source"
        frame.det.sky = _channel_sky(rgb, None)
        return frame
    segm = np.asarray(segm_img.data, dtype=np.int32)
    label, *_ = _pick_central(data, segm, np.asarray(segm_img.labels))
    if settings.deblend:
        # Deblend only the central segment: the others need no splitting (they are
        # masked or ignored whole) and deblending is the costliest step.
        blended = deblend_sources(
            smooth, segm_img, npix, labels=[label], contrast=DEBLEND_CONTRAST,
            progress_bar=False,
        )
        segm = np.asarray(blended.data, dtype=np.int32)
        parent = segm_img.data == label
        children = np.unique(segm[parent])
        label, *_ = _pick_central(data, segm, children[children > 0])
    frame.segm, frame.label = segm, label
    frame.det.sky = _channel_sky(rgb, segm)

    central = segm == label
    flux = float(np.clip(data[central], 0.0, None).sum())
    area = int(central.sum())
    ys, xs = np.nonzero(central)
    wts = np.clip(data[ys, xs], 0.0, None).astype(np.float64)
    if wts.sum() <= 0:
        frame.det.flag = "no source"
        return frame
    xb = float((wts * xs).sum() / wts.sum())
    yb = float((wts * ys).sum() / wts.sum())
    usable = (segm == 0) | central
    edges, enclosed, r_max = _profile(data, usable, xb, yb)
    r_petro_b, r_half_b = _radii(edges, enclosed, r_max)
    ellipticity, theta = _shape(data, central)

    d = frame.det
    # Binned pixel i covers input pixels i*b .. i*b + b - 1: its centre is i*b + (b-1)/2.
    d.x, d.y = b * xb + (b - 1) / 2, b * yb + (b - 1) / 2
    d.r_half, d.r_petro = b * r_half_b, b * r_petro_b
    d.ellipticity, d.theta = ellipticity, theta
    d.flux = flux * b * b
    d.snr = flux / (rms * math.sqrt(area))
    if d.snr < MIN_SNR:
        d.flag = "faint"
    elif math.hypot(d.x - (w - 1) / 2, d.y - (h - 1) / 2) > MAX_OFFSET * min(h, w):
        d.flag = "off centre"
    elif not math.isfinite(d.r_half) or d.r_half < MIN_RADIUS:
        d.flag = "too small"
    elif settings.radius_multiple * d.r_half > MAX_ZOOM_OUT * max(h, w):
        d.flag = "too large"
    return frame


def _channel_sky(rgb: np.ndarray, segm: np.ndarray | None) -> tuple[float, float, float]:
    """Median of each channel over the pixels of no source (all pixels if none is known)."""
    sel = rgb[segm == 0] if segm is not None and (segm == 0).sum() >= 10 else rgb.reshape(-1, 3)
    med = np.median(sel, axis=0)
    return (float(med[0]), float(med[1]), float(med[2]))


def detect_central_galaxy(image: np.ndarray, settings: NormaliseSettings | None = None) -> Detection:
    """Measure the central galaxy of an (H, W, 3) float image in [0, 1] (any size).

    Never raises on a hard image: a failure is reported in ``Detection.flag``.
    """
    image = _check_image(image)
    return _measure(image, settings or NormaliseSettings(mode="recentre")).det


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 2:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    return image


# -- star masking -----------------------------------------------------------------------------
def _star_labels(frame: _Frame, image: np.ndarray) -> list[int]:
    """Sources other than the galaxy that look like stars: compact and bright, or saturated.

    Compact: half-light radius (of the segment's own light) below _STAR_SIZE of the
    galaxy's. Bright: the peak rises _STAR_EXCESS noise sigmas above the galaxy's
    azimuthal profile at that radius, and above that profile itself -- so knots of
    star formation inside a disk (a modest bump on bright light) are kept.
    Saturated: a pixel at 1 in any channel, which only stars and galaxy cores reach.
    """
    segm, data, b, det = frame.segm, frame.data, frame.bin, frame.det
    if segm is None:
        return []
    labels = np.unique(segm)
    labels = labels[(labels > 0) & (labels != frame.label)]
    if not labels.size:
        return []
    # Galaxy azimuthal profile (surface brightness per binned pixel) for the contrast test.
    central = segm == frame.label
    xb, yb = (det.x - (b - 1) / 2) / b, (det.y - (b - 1) / 2) / b
    edges, enclosed, _ = _profile(data, (segm == 0) | central, xb, yb)
    ring_sb = np.diff(enclosed) / (np.pi * np.diff(edges**2))
    peak_full = image.max(axis=2)
    sat = peak_full if b == 1 else _block_max(peak_full, b)
    r_gal = det.r_half / b
    stars = []
    objects = ndimage.find_objects(segm)
    for lab in labels:
        sl = objects[lab - 1]
        if sl is None:
            continue
        m = segm[sl] == lab
        vals = data[sl][m]
        if sat[sl][m].max() >= _SATURATED:
            stars.append(int(lab))
            continue
        k = int(np.argmax(vals))
        ys, xs = np.nonzero(m)
        py, px = ys[k] + sl[0].start, xs[k] + sl[1].start
        galaxy_sb = float(
            np.interp(math.hypot(px - xb, py - yb), 0.5 * (edges[1:] + edges[:-1]), ring_sb,
                      right=0.0)
        )
        excess = float(vals[k]) - max(galaxy_sb, 0.0)
        if excess < _STAR_EXCESS * frame.rms or excess < galaxy_sb:
            continue
        # Half-light radius of the segment's own light above the galaxy: sorted pixel
        # values, the area holding half the flux, as a circle.
        own = np.sort(np.clip(vals - max(galaxy_sb, 0.0), 0.0, None))[::-1]
        cum = np.cumsum(own)
        n_half = int(np.searchsorted(cum, 0.5 * cum[-1])) + 1
        r_own = math.sqrt(n_half / math.pi)
        if r_own <= _STAR_SIZE * r_gal:
            stars.append(int(lab))
    return stars


def _block_max(a: np.ndarray, b: int) -> np.ndarray:
    hb, wb = a.shape[0] // b, a.shape[1] // b
    return a[: hb * b, : wb * b].reshape(hb, b, wb, b).max(axis=(1, 3))


def _rng_for(image: np.ndarray) -> np.random.Generator:
    """A generator seeded by the image content: the same image always gets the same noise."""
    return np.random.default_rng(zlib.crc32(np.ascontiguousarray(image[::4, ::4]).tobytes()))


def _mask_stars(image: np.ndarray, frame: _Frame) -> np.ndarray:
    """A copy of ``image`` with star-like sources replaced (see :func:`_star_labels`).

    Masked pixels take the value of their mirror image through the galaxy centre
    (galaxies are roughly point-symmetric, and sky mirrors to sky with its own
    noise); where the mirror is off-frame or masked too, sky pixels drawn at random
    from the frame.
    """
    stars = _star_labels(frame, image)
    frame.det.n_masked = len(stars)
    if not stars:
        return image
    b, segm = frame.bin, frame.segm
    assert segm is not None
    mask_b = np.isin(segm, stars)
    mask_b = ndimage.binary_dilation(mask_b, iterations=1)  # the halo beyond the isophote
    h, w = image.shape[:2]
    # Up-sample the binned mask to input pixels (edges beyond the last block: unmasked).
    mask = np.zeros((h, w), dtype=bool)
    hb, wb = mask_b.shape
    mask[: hb * b, : wb * b] = np.repeat(np.repeat(mask_b, b, axis=0), b, axis=1)
    ys, xs = np.nonzero(mask)
    my = np.rint(2 * frame.det.y - ys).astype(np.int64)
    mx = np.rint(2 * frame.det.x - xs).astype(np.int64)
    inside = (mx >= 0) & (mx < w) & (my >= 0) & (my < h)
    good = inside.copy()
    good[inside] = ~mask[my[inside], mx[inside]]
    out = image.astype(np.float32, copy=True)
    out[ys[good], xs[good]] = image[my[good], mx[good]]
    rest = ~good
    if rest.any():
        sky_b = segm == 0
        sky = np.zeros((h, w), dtype=bool)
        sky[: hb * b, : wb * b] = np.repeat(np.repeat(sky_b, b, axis=0), b, axis=1)
        pool = image[sky]
        if pool.shape[0] >= 10:
            pick = _rng_for(image).integers(0, pool.shape[0], int(rest.sum()))
            out[ys[rest], xs[rest]] = pool[pick]
        else:
            out[ys[rest], xs[rest]] = np.asarray(frame.det.sky, dtype=np.float32)
    return out


# -- resampling -------------------------------------------------------------------------------
def _warp(image: np.ndarray, frame: _Frame, size: int, rotate: bool, multiple: float) -> np.ndarray:
    """Resample onto a size x size grid centred on the galaxy, ``multiple`` r_half across.

    Output pixel (i, j) sits at u = (j - c) s, v = (i - c) s from the galaxy
    (c = (size - 1) / 2, s = input pixels per output pixel) along the major and
    minor axes (or x and y without rotation). Before sampling, the input is
    smoothed by a Gaussian of (s - 1) / 2 pixels (as skimage's rescale) so that
    a reduction does not alias. Pixels outside the input take the sky: random
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
    sigma = max(0.0, (s - 1.0) / 2.0)
    # Work on the part of the input the output covers (plus the filter's reach).
    pad = int(math.ceil(3 * sigma)) + 2
    x0, x1 = max(int(math.floor(x.min())) - pad, 0), min(int(math.ceil(x.max())) + pad + 1, w)
    y0, y1 = max(int(math.floor(y.min())) - pad, 0), min(int(math.ceil(y.max())) + pad + 1, h)
    inside = (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
    out = np.empty((size, size, 3), dtype=np.float32)
    if x0 >= x1 or y0 >= y1:  # no overlap at all (cannot happen for an accepted detection)
        out[:] = np.asarray(det.sky, dtype=np.float32)
        return out
    crop = image[y0:y1, x0:x1].astype(np.float32, copy=False)
    if sigma > 0:
        crop = ndimage.gaussian_filter(crop, (sigma, sigma, 0.0), mode="nearest", truncate=3.0)
    coords = np.stack([y - y0, x - x0])
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
    of the unmasked image, so every galaxy still comes out, flagged.
    """
    image = _check_image(image)
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
