"""Rotation-invariant light-distribution profiles: radial, colour and azimuthal Fourier.

Pixels and CNN features of real survey cutouts are dominated by size, position,
orientation and sky; CAS/Gini-M20 summarise a galaxy in a handful of numbers and
lose its arms. These features sit between: the galaxy's light sampled on
deprojected ellipses at fixed multiples of its own half-light radius, reduced to
quantities that do not change when the galaxy is turned, flipped or resized.

Per image (float (H, W, 3) in [0, 1], any size; each galaxy measured in the image
itself, so it works on plain resizes and on normalised cutouts alike):

1. Luminance = mean of the channels; sky level and noise from the frame's outer
   border (median, 1.4826 MAD).
2. The central source: pixels of the luminance smoothed by a 1-pixel Gaussian
   above sky + 2 noise, connected; the component with the largest flux times a
   Gaussian weight (sigma 0.15 frame) of its distance from the centre.
3. Centre: a Gaussian-windowed centroid (window shrinking to a quarter of the
   source's size) so it settles on the nucleus. Shape: flux-weighted second
   moments of the source (axis ratio q, major-axis angle). r_half: semi-major
   axis of the ellipse holding half the source's flux.
4. Rings: :data:`RADII` x r_half, each sampled at :data:`N_ANGLES` angles on the
   ellipse of that shape (a disk seen inclined is sampled as if face-on).

Features (:func:`feature_names`):

``sb_<r>``
    log10 ring-mean surface brightness over that at r_half (profile shape:
    concentration, Sersic index, a disk's break).
``col_rg_<a>``, ``col_bg_<a>``
    log10 R/G and B/G flux ratios in annuli :data:`ANNULI` (colour and its gradient).
``f<m>_<r>``
    |A_m| / A_0 for m = 1..:data:`N_MODES` of the ring's light along the ellipse
    (lopsidedness, bars and two-armed spirals at m = 2, multi-armed structure).
``coh<m>``
    phase coherence of mode m between neighbouring rings, |mean of
    A_m(r_i) conj(A_m(r_i+1))| / mean |...|: arms and bars are coherent, noise is not.
``res_<a>``
    rms of the unsharp-masked residual (image minus a Gaussian of r_half / 3),
    over the ring mean, per annulus, noise subtracted: arms, knots, dust lanes.
``q``, ``log_size``
    axis ratio b/a and log10 of r_half over the frame width.

All are invariant to rotation and flips (amplitudes, coherence and ring means
do not depend on the starting angle or sense), and to rescaling (radii in
r_half units). Cost: O(H W) per image (filters and one labelling), a few ms at
80 x 80; memory O(N x :func:`n_features`) for the output.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from scipy import ndimage

__all__ = [
    "ANNULI", "N_ANGLES", "N_MODES", "RADII", "SUMMARY_NAMES", "ProfileExtractor", "feature_names",
    "profile_features", "summarise",
]

RADII: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
"""Ring semi-major axes in units of r_half (spiral arms lie mostly at 1-3 r_half)."""

ANNULI: tuple[tuple[float, float], ...] = ((0.0, 0.6), (0.6, 1.2), (1.2, 2.2), (2.2, 3.2))
"""Annuli (in r_half) for the colour and residual features: bulge, inner disk, disk, outskirts."""

RES_SCALES: tuple[float, ...] = (1 / 6, 1 / 3, 2 / 3)
"""Gaussian widths (in r_half) of the unsharp masks: knots, arms, bars and lanes."""

N_ANGLES = 64
N_MODES = 4
BORDER = 0.1
"""Width of the frame border used for the sky, as a fraction of the frame."""


def feature_names() -> list[str]:
    """The names of the feature columns, in order."""
    r = [f"{x:g}" for x in RADII]
    a = [f"{lo:g}-{hi:g}" for lo, hi in ANNULI]
    names = [f"sb_{x}" for x in r]
    names += [f"col_rg_{x}" for x in a] + [f"col_bg_{x}" for x in a]
    names += [f"f{m}_{x}" for m in range(1, N_MODES + 1) for x in r]
    names += [f"coh{m}" for m in range(1, N_MODES + 1)]
    names += [f"res{k}_{x}" for k in range(len(RES_SCALES)) for x in a]
    names += [f"rescol_{x}" for x in a[1:]]
    names += ["q", "log_size"]
    return names


SUMMARY_NAMES: tuple[str, ...] = (
    "odd_in", "odd_mid", "even_in", "even_mid", "bg_in", "bg_disk", "rg_in", "rg_disk",
    "res_arm", "res_knot", "conc", "q",
)
"""The compact summary (:func:`summarise`): few, physically distinct axes, so that a
clustering's main directions of variance are morphology rather than many correlated
ring-by-ring values."""


def summarise(features: np.ndarray) -> np.ndarray:
    """The compact summary (N, len(SUMMARY_NAMES)) of full profile features (N, n_features()).

    ``odd_*``/``even_*``: log mean Fourier amplitude of modes 1, 3 (asymmetry: arms, knots,
    lopsidedness) or 2, 4 (bars, ovals, two-armed spirals) over 0.5-1 r_half (``in``) and
    1.25-2 r_half (``mid``); ``bg_*``/``rg_*``: log B/G and R/G inside 0.6 r_half and over
    0.6-2.2 r_half; ``res_arm``/``res_knot``: unsharp residual at r_half/3 and r_half/6 over
    0.6-2.2 r_half; ``conc``: log surface-brightness drop from 0.25 to 2 r_half; ``q``: b/a.
    """
    F = np.asarray(features, dtype=np.float64)
    names = feature_names()

    def col(n: str) -> np.ndarray:
        return F[:, names.index(n)]

    def modes(ms: tuple[int, ...], rs: tuple[str, ...]) -> np.ndarray:
        return np.log10(np.mean([10 ** col(f"f{m}_{r}") for m in ms for r in rs], axis=0))

    inner, mid = ("0.5", "0.75", "1"), ("1.25", "1.5", "2")
    out = [
        modes((1, 3), inner), modes((1, 3), mid), modes((2, 4), inner), modes((2, 4), mid),
        col("col_bg_0-0.6"), (col("col_bg_0.6-1.2") + col("col_bg_1.2-2.2")) / 2,
        col("col_rg_0-0.6"), (col("col_rg_0.6-1.2") + col("col_rg_1.2-2.2")) / 2,
        (col("res1_0.6-1.2") + col("res1_1.2-2.2")) / 2, (col("res0_0.6-1.2") + col("res0_1.2-2.2")) / 2,
        col("sb_0.25") - col("sb_2"), col("q"),
    ]
    return np.stack(out, axis=1).astype(np.float32)


def n_features() -> int:
    """The number of feature columns."""
    return len(feature_names())


def _sky(lum: np.ndarray) -> tuple[float, float]:
    h, w = lum.shape
    b = max(1, int(round(BORDER * min(h, w))))
    edge = np.concatenate([lum[:b].ravel(), lum[-b:].ravel(), lum[b:-b, :b].ravel(), lum[b:-b, -b:].ravel()])
    med = float(np.median(edge))
    mad = float(np.median(np.abs(edge - med))) * 1.4826
    return med, max(mad, 1e-3)  # a JPEG's flat sky has MAD 0: one grey level (1/255) floor-ish


def _central_source(sub: np.ndarray, noise: float) -> np.ndarray:
    """Boolean mask of the central source in the sky-subtracted luminance."""
    h, w = sub.shape
    smooth = ndimage.gaussian_filter(sub, 1.0)
    labels, n = ndimage.label(smooth > 2.0 * noise)
    if n == 0:
        return np.zeros_like(sub, dtype=bool)
    idx = np.arange(1, n + 1)
    flux = ndimage.sum(np.clip(sub, 0, None), labels, idx)
    cy, cx = zip(*ndimage.center_of_mass(np.clip(sub, 0, None) + 1e-9, labels, idx))
    d2 = ((np.asarray(cx) - (w - 1) / 2) ** 2 + (np.asarray(cy) - (h - 1) / 2) ** 2) / (0.15 * min(h, w)) ** 2
    return labels == idx[int(np.argmax(flux * np.exp(-0.5 * d2)))]


def _shape(sub: np.ndarray, mask: np.ndarray) -> tuple[float, float, float, float, float]:
    """Centre (x, y), axis ratio q, major-axis angle theta and r_half of the source."""
    h, w = sub.shape
    ys, xs = np.nonzero(mask)
    wts = np.clip(sub[ys, xs], 0, None) + 1e-9
    x0, y0 = float(np.average(xs, weights=wts)), float(np.average(ys, weights=wts))
    size = math.sqrt(len(xs) / math.pi)
    # Windowed centroid: settles on the nucleus rather than the isophote's middle.
    yy, xx = np.mgrid[0:h, 0:w]
    pos = np.clip(sub, 0, None)
    for sig in np.geomspace(max(size / 2, 1.0), max(size / 4, 0.7), 5):
        g = pos * np.exp(-0.5 * ((xx - x0) ** 2 + (yy - y0) ** 2) / sig**2)
        tot = g.sum()
        if tot <= 0:
            break
        x0, y0 = float((g * xx).sum() / tot), float((g * yy).sum() / tot)
    dx, dy = xs - x0, ys - y0
    cxx, cyy, cxy = (np.average(dx * dx, weights=wts), np.average(dy * dy, weights=wts),
                     np.average(dx * dy, weights=wts))
    common = math.sqrt(max(((cxx - cyy) / 2) ** 2 + cxy**2, 0.0))
    a2, b2 = (cxx + cyy) / 2 + common, max((cxx + cyy) / 2 - common, 1e-6)
    q = float(min(1.0, math.sqrt(b2 / a2))) if a2 > 0 else 1.0
    theta = 0.5 * math.atan2(2 * cxy, cxx - cyy)
    ct, st = math.cos(theta), math.sin(theta)
    u = dx * ct + dy * st
    v = -dx * st + dy * ct
    rell = np.sqrt(u**2 + (v / max(q, 0.05)) ** 2)
    order = np.argsort(rell)
    cum = np.cumsum(wts[order])
    r_half = float(rell[order][np.searchsorted(cum, 0.5 * cum[-1])])
    return x0, y0, max(q, 0.05), theta, max(r_half, 0.75)


def _rings(img: np.ndarray, x0: float, y0: float, q: float, theta: float, radii: np.ndarray) -> np.ndarray:
    """Samples (len(radii), N_ANGLES) of a 2-D image along ellipses of semi-major axis radii."""
    phi = np.linspace(0, 2 * math.pi, N_ANGLES, endpoint=False)
    ct, st = math.cos(theta), math.sin(theta)
    u = radii[:, None] * np.cos(phi)[None]
    v = radii[:, None] * q * np.sin(phi)[None]
    x = x0 + u * ct - v * st
    y = y0 + u * st + v * ct
    return ndimage.map_coordinates(img, [y.ravel(), x.ravel()], order=1, mode="nearest").reshape(x.shape)


def profile_features(image: np.ndarray) -> tuple[np.ndarray, str]:
    """The features of one image (float (H, W, 3) in [0, 1]) and a flag ("" when measured).

    A frame with no source above the threshold is flagged ``no source`` and its
    features are measured around the frame centre with r_half one tenth of the frame.
    """
    rgb = np.asarray(image, dtype=np.float64)
    h, w = rgb.shape[:2]
    lum = rgb.mean(axis=2)
    sky, noise = _sky(lum)
    sub = lum - sky
    chan_sky = [float(np.median(np.concatenate([rgb[:2, :, c].ravel(), rgb[-2:, :, c].ravel()]))) for c in range(3)]
    chans = [rgb[..., c] - chan_sky[c] for c in range(3)]
    mask = _central_source(sub, noise)
    flag = ""
    if mask.sum() < 3:
        flag = "no source"
        x0, y0, q, theta, r_half = (w - 1) / 2, (h - 1) / 2, 1.0, 0.0, 0.1 * min(h, w)
    else:
        x0, y0, q, theta, r_half = _shape(sub, mask)
    radii = np.asarray(RADII) * r_half
    ring = _rings(sub, x0, y0, q, theta, radii)
    mean = ring.mean(axis=1)
    floor = 0.5 * noise
    sb = np.log10(np.maximum(mean, floor) / max(mean[RADII.index(1.0)], floor))

    # Colours per annulus from rings sampled finely in radius.
    fine = np.linspace(0.05, ANNULI[-1][1], 33)
    cr = [_rings(c, x0, y0, q, theta, fine * r_half).mean(axis=1) for c in chans]
    col_rg, col_bg = [], []
    for lo, hi in ANNULI:
        sel = (fine >= lo) & (fine < hi)
        weight = fine[sel]  # ring area grows with radius
        r_, g_, b_ = (max(float((c[sel] * weight).sum()), 1e-4) for c in cr)
        col_rg.append(math.log10(r_ / g_))
        col_bg.append(math.log10(b_ / g_))

    spec = np.fft.rfft(ring, axis=1)[:, : N_MODES + 1]
    a0 = np.maximum(np.abs(spec[:, 0]), floor * N_ANGLES)
    amps = np.abs(spec[:, 1:]) / a0[:, None]  # (n_radii, N_MODES)
    amps = np.minimum(amps, 2.0)
    coh = []
    for m in range(N_MODES):
        z = spec[:-1, m + 1] * np.conj(spec[1:, m + 1])
        denom = float(np.abs(z).sum())
        coh.append(float(np.abs(z.sum()) / denom) if denom > 0 else 0.0)

    res = []
    fine_r = fine * r_half
    for scale in RES_SCALES:
        smooth = ndimage.gaussian_filter(sub, max(scale * r_half, 0.5))
        resid = _rings(sub - smooth, x0, y0, q, theta, fine_r)
        base = _rings(smooth, x0, y0, q, theta, fine_r)
        for lo, hi in ANNULI:
            sel = (fine >= lo) & (fine < hi)
            var = float((resid[sel] ** 2).mean()) - noise**2  # the noise's own share
            res.append(min(math.sqrt(max(var, 0.0)) / max(float(np.abs(base[sel]).mean()), floor), 5.0))
    # Colour of the structure: B/R of the positive residual (blue arms, knots) at the arm scale.
    sb_, sr_ = (ndimage.gaussian_filter(chans[c], max(RES_SCALES[1] * r_half, 0.5)) for c in (2, 0))
    rb = np.clip(_rings(chans[2] - sb_, x0, y0, q, theta, fine_r), 0, None)
    rr = np.clip(_rings(chans[0] - sr_, x0, y0, q, theta, fine_r), 0, None)
    rescol = []
    for lo, hi in ANNULI[1:]:
        sel = (fine >= lo) & (fine < hi)
        rescol.append(math.log10((float(rb[sel].sum()) + 1e-3) / (float(rr[sel].sum()) + 1e-3)))
    amps = np.log10(amps + 0.02)  # heavy-tailed: a log keeps a few lopsided frames from dominating
    res = list(np.log10(np.asarray(res) + 0.02))

    out = np.concatenate([
        sb, col_rg, col_bg, amps.T.ravel(), coh, res, rescol,
        [q, math.log10(r_half / min(h, w))],
    ]).astype(np.float32)
    return np.where(np.isfinite(out), out, 0.0).astype(np.float32), flag


class ProfileExtractor:
    """The :class:`galclust.extract.Extractor` of the profile features.

    ``transform(images)`` returns ``{"profiles": (N, n_features()) float32,
    "profile_summary": (N, len(SUMMARY_NAMES)) float32}`` (two feature sets from one
    pass); the flags of the last call are in ``last_flags``.
    """

    name = "profiles"

    def __init__(self) -> None:
        self.last_flags: list[str] = []
        self.last_seconds = 0.0

    def output_names(self) -> list[str]:
        return ["profiles", "profile_summary"]

    def transform(self, images: np.ndarray) -> dict[str, np.ndarray]:
        images = np.asarray(images)
        start = time.perf_counter()
        out = np.zeros((len(images), n_features()), dtype=np.float32)
        flags = []
        for i, image in enumerate(images):
            out[i], flag = profile_features(image)
            flags.append(flag)
        self.last_flags = flags
        self.last_seconds = time.perf_counter() - start
        return {"profiles": out, "profile_summary": summarise(out)}

    def describe(self) -> dict[str, Any]:
        return {
            "extractor": self.name,
            "names": feature_names(),
            "summary_names": list(SUMMARY_NAMES),
            "radii_r_half": list(RADII),
            "annuli_r_half": [list(a) for a in ANNULI],
            "n_angles": N_ANGLES,
            "n_modes": N_MODES,
            "definitions": "galaxy light on deprojected ellipses at multiples of r_half: log surface-"
            "brightness profile, R/G and B/G colour per annulus, azimuthal Fourier amplitudes "
            "|A_m|/A_0 and their phase coherence, unsharp-mask residual rms, axis ratio, size",
        }
