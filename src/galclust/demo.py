"""Embedded demo sample: synthetic SDSS-like galaxy cutouts with known truth.

The workflow can run end to end without network access on this sample. Each
galaxy is described by one catalog row (:func:`draw_catalog`) holding its true
class and physical parameters, and drawn (:func:`render`) as the SDSS SkyServer
cutout service would return it: a 424x424 RGB JPEG (i, r, g bands mapped to
R, G, B through an asinh stretch), north up and east left, scaled so that the
frame spans about 8.48 half-light radii (0.02 R_e per pixel, as in the
reference study) but with the scatter, offsets, seeing, noise and foreground
stars of real frames.

Rendering is plain numpy/scipy (no GalSim) because the sample needs spiral
arms, bars, star-forming knots, dust lanes and tidal tails. To look like a
resampled SDSS frame, and to stay fast, each galaxy is modelled on a grid of
native SDSS pixels (0.396 arcsec): the light is convolved with a Moffat PSF,
sky and photon noise are added per native pixel, the stretched colour image is
then resampled bilinearly to the requested size. Small galaxies therefore
show the smooth, correlated noise of real zoomed-in cutouts.

Reproducibility: row ``i`` of a catalog depends only on ``(seed, i)``; an
image depends only on its row (its ``render_seed`` seeds every nuisance).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.fft as sfft
from astropy.table import Table
from PIL import Image
from scipy import ndimage, special

from .atomic import write_bytes_atomic
from .errors import ConfigError, ImageError

__all__ = [
    "CLASSES",
    "DEFAULT_CLASS_MIX",
    "artefact_kind",
    "draw_catalog",
    "encode_jpeg",
    "render",
    "write_cutout",
]

CLASSES: tuple[str, ...] = (
    "elliptical",
    "lenticular",
    "spiral",
    "edge_on",
    "irregular",
    "artefact",
)
"""Truth classes, in the order used for class codes."""

DEFAULT_CLASS_MIX: dict[str, float] = {
    "elliptical": 0.22,
    "lenticular": 0.16,
    "spiral": 0.26,
    "edge_on": 0.14,
    "irregular": 0.12,
    "artefact": 0.10,
}
"""Default class fractions (they need not sum to one; they are normalised)."""

REFERENCE_SIZE = 424
"""Frame width in pixels of a default SkyServer cutout; offsets and PSF widths refer to it."""

REFERENCE_FRAME_FRACTION = 50.0 / REFERENCE_SIZE
"""R_e / frame width at 0.02 R_e per pixel (frame spans 8.48 R_e)."""

SDSS_PIXEL_ARCSEC = 0.396
"""Native SDSS pixel scale; frames are modelled at this resolution, then resampled."""

ARTEFACT_STAR_MIN_SNR = 10.0
"""Artefact rows with ``snr`` at least this show a bright star; below, a noise-dominated frame."""

# ---------------------------------------------------------------------------
# Counter-based random numbers for the catalog.
#
# Every row needs its own stream derived from (seed, row index), so that
# appending rows never changes earlier ones. Building one numpy Generator per
# row costs ~15 us (SeedSequence hashing), i.e. 1.5 s per 100k rows. Philox is
# counter-based: row i's stream is Philox4x32-10 keyed by the seed, with i in
# the counter. Evaluating it for all rows at once in numpy gives exactly the
# per-row streams, about 30x faster. Known-answer vectors are in the tests.
# ---------------------------------------------------------------------------

_MASK32 = 0xFFFFFFFF
_PHILOX_M0, _PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
_PHILOX_W0, _PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
_STREAM_TAG = 0x67616C63  # "galc": keeps these streams apart from other uses of the key
_N_UNIFORM = 24  # uniforms per row (see _U); two more words make render_seed
_N_BLOCKS = 7  # 7 Philox blocks x 4 words = 28 words >= 24 + 2


def _philox4x32(counter: np.ndarray, key: tuple[int, int], rounds: int = 10) -> np.ndarray:
    """Philox4x32-``rounds`` (Salmon et al. 2011) on an array of counters.

    ``counter`` is (..., 4) of 32-bit words held in uint64 (so that the
    32x32-bit products fit); returns the (..., 4) output words, same layout.
    """
    c0, c1, c2, c3 = (counter[..., j].astype(np.uint64) for j in range(4))
    k0, k1 = key[0] & _MASK32, key[1] & _MASK32
    m0, m1 = np.uint64(_PHILOX_M0), np.uint64(_PHILOX_M1)
    mask, s32 = np.uint64(_MASK32), np.uint64(32)
    for r in range(rounds):
        if r:
            k0, k1 = (k0 + _PHILOX_W0) & _MASK32, (k1 + _PHILOX_W1) & _MASK32
        p0 = c0 * m0
        p1 = c2 * m1
        c0, c1, c2, c3 = (
            (p1 >> s32) ^ c1 ^ np.uint64(k0),
            p1 & mask,
            (p0 >> s32) ^ c3 ^ np.uint64(k1),
            p0 & mask,
        )
    return np.stack([c0, c1, c2, c3], axis=-1)


def _row_streams(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniforms in (0, 1), shape (n, _N_UNIFORM), and int64 render seeds, one stream per row."""
    i = np.arange(n, dtype=np.uint64)
    ctr = np.empty((n, _N_BLOCKS, 4), dtype=np.uint64)
    ctr[..., 0] = np.arange(_N_BLOCKS, dtype=np.uint64)[None, :]
    ctr[..., 1] = (i & np.uint64(_MASK32))[:, None]
    ctr[..., 2] = (i >> np.uint64(32))[:, None]
    ctr[..., 3] = _STREAM_TAG
    words = _philox4x32(ctr, (seed & _MASK32, seed >> 32)).reshape(n, _N_BLOCKS * 4)
    # (w + 0.5) / 2^32 never reaches 0 or 1, so ndtri() and log() stay finite.
    u = (words[:, :_N_UNIFORM].astype(np.float64) + 0.5) / 2.0**32
    hi, lo = words[:, _N_UNIFORM], words[:, _N_UNIFORM + 1]
    render_seed = (((hi & np.uint64(0x7FFFFFFF)) << np.uint64(32)) | lo).astype(np.int64)
    return u, render_seed


# Which uniform of a row drives which quantity (fixed forever: changing it
# changes every catalog ever drawn).
_U = {
    "klass": 0,
    "r_e": 1,
    "sersic": 2,
    "bulge": 3,
    "thick": 4,
    "cosi": 5,
    "shape": 6,
    "spin": 7,
    "pa": 8,
    "frame": 9,
    "dx": 10,
    "dy": 11,
    "snr": 12,
    "seeing": 13,
    "colour": 14,
    "stars": 15,
    "ra": 16,
    "dec": 17,
    "mode": 18,
}

# Sky patch: part of the SDSS North Galactic Cap footprint.
_RA_RANGE = (150.0, 210.0)
_DEC_RANGE = (0.0, 50.0)

# (column, dtype, unit, description): the catalog schema.
_COLUMNS: tuple[tuple[str, str, str | None, str], ...] = (
    ("id", "str", None, "object identifier, demo-<row index>"),
    ("ra", "f8", "deg", "right ascension (J2000)"),
    ("dec", "f8", "deg", "declination (J2000)"),
    ("r_e", "f8", "arcsec", "circularised half-light radius"),
    ("klass", "str", None, "true class, one of galclust.demo.CLASSES"),
    ("sersic_n", "f8", None, "Sersic index of the spheroid (the whole galaxy for ellipticals)"),
    ("ellipticity", "f8", None, "projected ellipticity 1 - b/a"),
    ("bulge_fraction", "f8", None, "bulge-to-total light ratio B/T"),
    ("lambda_r", "f8", None, "spin parameter lambda_R within R_e (artefacts: placeholder 0-0.1)"),
    ("position_angle", "f8", "deg", "major axis, north through east"),
    ("pa_bin", "i8", None, "position angle in four 45-degree bins (a nuisance to score clusters against)"),
    ("inclination", "f8", "deg", "0 face-on, 90 edge-on"),
    ("frame_fraction", "f8", None, "apparent R_e as a fraction of the frame width"),
    ("x_offset", "f8", "pix", "centre offset along x (east is -x), pixels at 424 px"),
    ("y_offset", "f8", "pix", "centre offset along y (north is -y), pixels at 424 px"),
    ("snr", "f8", None, "mean r-band surface brightness within R_e / sky noise per native pixel"),
    ("psf_fwhm", "f8", "pix", "seeing FWHM, pixels at 424 px"),
    ("g_r", "f8", "mag", "integrated g - r colour"),
    ("n_stars", "i8", None, "foreground stars in the frame"),
    ("render_seed", "i8", None, "seed of every nuisance drawn by render()"),
)


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ConfigError(f"demo.n: must be an integer, got {n!r}")
    if n < 1:
        raise ConfigError(f"demo.n: must be at least 1, got {n}")
    return int(n)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"demo.seed: must be an integer, got {seed!r}")
    if not 0 <= seed < 2**64:
        raise ConfigError(f"demo.seed: must be in [0, 2**64), got {seed}")
    return int(seed)


def _class_probabilities(class_mix: Mapping[str, float] | None) -> np.ndarray:
    """Normalised probabilities in CLASSES order; classes left out get zero."""
    mix = DEFAULT_CLASS_MIX if class_mix is None else class_mix
    if not isinstance(mix, Mapping):
        raise ConfigError(f"demo.class_mix: must be a mapping of class to weight, got {mix!r}")
    probs = np.zeros(len(CLASSES))
    for name, weight in mix.items():
        if name not in CLASSES:
            raise ConfigError(
                f"demo.class_mix: unknown class {name!r} (known: {', '.join(CLASSES)})"
            )
        try:
            w = float(weight)
        except (TypeError, ValueError):
            raise ConfigError(
                f"demo.class_mix.{name}: weight must be a number, got {weight!r}"
            ) from None
        if not math.isfinite(w) or w < 0:
            raise ConfigError(
                f"demo.class_mix.{name}: weight must be finite and >= 0, got {weight!r}"
            )
        probs[CLASSES.index(name)] = w
    if probs.sum() <= 0:
        raise ConfigError("demo.class_mix: at least one class needs a positive weight")
    return probs / probs.sum()


def _clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(x, lo, hi)


def _axis_ratio(cos_i: np.ndarray, q0: np.ndarray) -> np.ndarray:
    """Projected b/a of an oblate body of intrinsic axis ratio q0 at inclination i (Hubble 1926)."""
    return np.sqrt(cos_i**2 + q0**2 * (1.0 - cos_i**2))


def draw_catalog(n: int, seed: int, class_mix: Mapping[str, float] | None = None) -> Table:
    """Draw ``n`` demo galaxies with their truth, reproducibly from ``seed``.

    Row ``i`` depends only on ``(seed, i)`` (and ``class_mix``): a longer
    catalog with the same seed starts with exactly the rows of a shorter one,
    and the class of row ``i`` does not depend on ``n``. ``class_mix`` maps
    class names to relative weights (default :data:`DEFAULT_CLASS_MIX`).

    Physics, per class (lambda_R is the spin proxy of IFU surveys; fast
    rotators lie above the slow-rotator line and rise roughly as
    sqrt(ellipticity) through projection, slow rotators stay below ~0.2):

    * elliptical: Sersic n 3.5-6, B/T 0.85-1, oblate with intrinsic b/a
      0.55-0.95 at random inclination (so epsilon is mostly 0-0.4), red, slow
      rotators (lambda_R 0.02-0.25, weakly rising with epsilon);
    * lenticular: bulge n 2-4 with an exponential disk, B/T 0.4-0.7,
      epsilon 0.1-0.7, red, lambda_R 0.3-0.7 rising with epsilon;
    * spiral: inclination < 60 deg, 2-4 logarithmic arms, small bulge, blue,
      lambda_R 0.5-0.85;
    * edge_on: inclination > 75 deg, thin disk (epsilon 0.6-0.88) with a dust
      lane, reddened by it, lambda_R 0.6-0.9 rising with epsilon;
    * irregular (and mergers): clumpy and asymmetric, blue, lambda_R 0.1-0.5
      with large scatter;
    * artefact: a bright saturated star (``snr`` >= ARTEFACT_STAR_MIN_SNR,
      then ``snr`` scales the star) or a noise-dominated frame with a faint
      or no galaxy. Their lambda_R is a placeholder drawn in 0-0.1 with no
      physical meaning; their shape columns describe the faint galaxy.
    """
    n = _check_n(n)
    seed = _check_seed(seed)
    probs = _class_probabilities(class_mix)

    u, render_seed = _row_streams(seed, n)
    z = special.ndtri(u)  # the same draws as standard normals
    cum = np.cumsum(probs)
    cum[-1] = 1.0  # guard against rounding leaving u just above the last edge
    code = np.minimum(np.searchsorted(cum, u[:, _U["klass"]], side="right"), len(CLASSES) - 1)

    def U(name: str) -> np.ndarray:
        return u[:, _U[name]]

    def Z(name: str) -> np.ndarray:
        return z[:, _U[name]]

    r_e = np.empty(n)
    sersic_n = np.empty(n)
    bt = np.empty(n)
    eps = np.empty(n)
    cos_i = np.empty(n)
    lam = np.empty(n)
    snr = np.exp(np.log(12.0) + 0.5 * Z("snr"))
    snr = _clip(snr, 2.5, 80.0)
    g_r = np.empty(n)
    dx_sigma = np.full(n, 2.0)

    for c, name in enumerate(CLASSES):
        m = code == c
        if not m.any():
            continue
        uc = {k: u[m, j] for k, j in _U.items()}
        zc = {k: z[m, j] for k, j in _U.items()}
        if name == "elliptical":
            r_e[m] = 6.5 * np.exp(0.35 * zc["r_e"])
            sersic_n[m] = 3.5 + 2.5 * uc["sersic"]
            bt[m] = 0.85 + 0.15 * uc["bulge"]
            ci = uc["cosi"]  # isotropic viewing angles
            q = _axis_ratio(ci, 0.55 + 0.40 * uc["thick"])
            eps[m] = 1.0 - q
            cos_i[m] = ci
            # Slow rotators: low lambda_R, only weakly tied to epsilon.
            lam[m] = _clip(0.04 + 0.22 * eps[m] + 0.035 * np.abs(zc["spin"]), 0.02, 0.25)
            g_r[m] = _clip(0.80 + 0.025 * zc["colour"], 0.72, 0.88)
        elif name == "lenticular":
            r_e[m] = 6.0 * np.exp(0.35 * zc["r_e"])
            sersic_n[m] = 2.0 + 2.0 * uc["sersic"]
            bt[m] = 0.4 + 0.3 * uc["bulge"]
            ci = 0.17 + 0.73 * uc["cosi"]  # keeps epsilon in ~0.1-0.7
            q = _axis_ratio(ci, 0.20 + 0.10 * uc["thick"])
            eps[m] = _clip(1.0 - q, 0.1, 0.7)
            cos_i[m] = ci
            lam[m] = _clip(0.18 + 0.55 * np.sqrt(eps[m]) + 0.04 * zc["spin"], 0.3, 0.7)
            g_r[m] = _clip(0.76 + 0.03 * zc["colour"], 0.68, 0.85)
        elif name == "spiral":
            r_e[m] = 9.0 * np.exp(0.35 * zc["r_e"])
            sersic_n[m] = 1.0 + 1.5 * uc["sersic"]
            bt[m] = 0.03 + 0.27 * uc["bulge"] ** 1.5  # mostly small bulges
            ci = 0.5 + 0.5 * uc["cosi"]  # inclination below 60 deg
            q = _axis_ratio(ci, 0.12 + 0.10 * uc["thick"])
            eps[m] = 1.0 - q
            cos_i[m] = ci
            lam[m] = _clip(0.55 + 0.40 * np.sqrt(eps[m]) + 0.04 * zc["spin"], 0.5, 0.85)
            g_r[m] = _clip(0.48 + 0.06 * zc["colour"], 0.32, 0.62)
        elif name == "edge_on":
            r_e[m] = 9.0 * np.exp(0.35 * zc["r_e"])
            sersic_n[m] = 1.0 + 2.0 * uc["sersic"]
            bt[m] = 0.05 + 0.30 * uc["bulge"]
            ci = math.cos(math.radians(75.0)) * uc["cosi"]  # inclination above 75 deg
            q = _axis_ratio(ci, 0.10 + 0.12 * uc["thick"])
            eps[m] = _clip(1.0 - q, 0.6, 0.88)
            cos_i[m] = ci
            lam[m] = _clip(0.30 + 0.55 * np.sqrt(eps[m]) + 0.03 * zc["spin"], 0.6, 0.9)
            # Disk colours, reddened by the dust seen edge-on.
            g_r[m] = _clip(0.68 + 0.06 * zc["colour"], 0.5, 0.85)
        elif name == "irregular":
            r_e[m] = 6.0 * np.exp(0.35 * zc["r_e"])
            sersic_n[m] = 0.5 + 1.0 * uc["sersic"]
            bt[m] = 0.15 * uc["bulge"]
            eps[m] = 0.1 + 0.5 * uc["shape"]
            cos_i[m] = uc["cosi"]
            lam[m] = _clip(0.30 + 0.12 * zc["spin"], 0.1, 0.5)
            g_r[m] = _clip(0.38 + 0.07 * zc["colour"], 0.2, 0.55)
        else:  # artefact
            star = uc["mode"] < 0.55
            r_e[m] = 3.0 * np.exp(0.3 * zc["r_e"])
            sersic_n[m] = 1.0 + 3.0 * uc["sersic"]
            bt[m] = 0.5 * uc["bulge"]
            eps[m] = np.where(star, 0.0, 0.5 * uc["shape"])
            cos_i[m] = uc["cosi"]
            lam[m] = 0.1 * uc["spin"]  # placeholder: no physical meaning
            # Star frames: snr sets the star (log-uniform 20-100); noise frames: 0.1-1.5.
            snr[m] = np.where(
                star,
                20.0 * 5.0 ** uc["snr"],
                0.1 + 1.4 * uc["snr"],
            )
            g_r[m] = np.where(
                star,
                _clip(0.7 + 0.3 * zc["colour"], 0.2, 1.5),
                _clip(0.6 + 0.2 * zc["colour"], 0.2, 1.0),
            )
            dx_sigma[m] = np.where(star, 45.0, 2.0)

    r_e = _clip(r_e, 1.5, 40.0)
    frame_fraction = _clip(REFERENCE_FRAME_FRACTION * np.exp(0.2 * Z("frame")), 0.07, 0.2)
    # Apparent pixel scale of the cutout (arcsec per 424-px pixel) fixes the PSF size in pixels.
    scale = r_e / (frame_fraction * REFERENCE_SIZE)
    seeing = _clip(1.35 * np.exp(0.2 * Z("seeing")), 0.8, 2.5)  # arcsec, SDSS-like
    psf_fwhm = _clip(seeing / scale, 1.0, 30.0)
    lim = np.where(dx_sigma > 10, 150.0, 8.0)
    x_offset = np.clip(dx_sigma * Z("dx"), -lim, lim)
    y_offset = np.clip(dx_sigma * Z("dy"), -lim, lim)
    n_stars = np.searchsorted(np.array([0.45, 0.75, 0.92]), U("stars"), side="right").astype(
        np.int64
    )

    ra = _RA_RANGE[0] + (_RA_RANGE[1] - _RA_RANGE[0]) * U("ra")
    s0, s1 = np.sin(np.radians(_DEC_RANGE[0])), np.sin(np.radians(_DEC_RANGE[1]))
    dec = np.degrees(np.arcsin(s0 + (s1 - s0) * U("dec")))  # uniform on the sphere

    position_angle = 180.0 * U("pa")
    values = {
        "id": np.array([f"demo-{i:06d}" for i in range(n)]),
        "ra": ra,
        "dec": dec,
        "r_e": r_e,
        "klass": np.array(CLASSES)[code],
        "sersic_n": sersic_n,
        "ellipticity": eps,
        "bulge_fraction": bt,
        "lambda_r": lam,
        "position_angle": position_angle,
        "pa_bin": np.minimum((position_angle // 45.0).astype(np.int64), 3),
        "inclination": np.degrees(np.arccos(np.clip(cos_i, 0.0, 1.0))),
        "frame_fraction": frame_fraction,
        "x_offset": x_offset,
        "y_offset": y_offset,
        "snr": snr,
        "psf_fwhm": psf_fwhm,
        "g_r": g_r,
        "n_stars": n_stars,
        "render_seed": render_seed,
    }
    table = Table()
    for name, dtype, unit, description in _COLUMNS:
        col = values[name] if dtype == "str" else np.asarray(values[name], dtype=dtype)
        table[name] = col
        table[name].unit = unit
        table[name].description = description
    table.meta["demo_seed"] = seed
    table.meta["demo_class_mix"] = ",".join(f"{c}={p:.6g}" for c, p in zip(CLASSES, probs))
    return table


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """The catalog columns that rendering uses, validated."""

    klass: str
    r_e: float
    sersic_n: float
    ellipticity: float
    bulge_fraction: float
    position_angle: float
    inclination: float
    frame_fraction: float
    x_offset: float
    y_offset: float
    snr: float
    psf_fwhm: float
    g_r: float
    n_stars: int
    render_seed: int


def _read_row(row: Any) -> _Row:
    values: dict[str, Any] = {}
    for name in _Row.__dataclass_fields__:
        try:
            v = row[name]
        except (KeyError, IndexError, ValueError):
            raise ConfigError(f"demo row: missing column {name!r}") from None
        if name == "klass":
            v = str(v)
            if v not in CLASSES:
                raise ConfigError(f"demo row: klass: unknown class {v!r}")
        elif name in ("n_stars", "render_seed"):
            v = int(v)
        else:
            v = float(v)
            if not math.isfinite(v):
                raise ConfigError(f"demo row: {name} is not finite ({v})")
        values[name] = v
    if values["r_e"] <= 0 or values["frame_fraction"] <= 0 or values["psf_fwhm"] <= 0:
        raise ConfigError("demo row: r_e, frame_fraction and psf_fwhm must be positive")
    if not 0 <= values["ellipticity"] < 1:
        raise ConfigError(f"demo row: ellipticity must be in [0, 1), got {values['ellipticity']}")
    if values["render_seed"] < 0 or values["n_stars"] < 0:
        raise ConfigError("demo row: render_seed and n_stars must be >= 0")
    return _Row(**values)


def artefact_kind(row: Any) -> str | None:
    """'star' or 'noise' for an artefact row (which frame render() draws), None otherwise."""
    if str(row["klass"]) != "artefact":
        return None
    return "star" if float(row["snr"]) >= ARTEFACT_STAR_MIN_SNR else "noise"


def _colour(g_r: float) -> np.ndarray:
    """(g, r, i) fluxes relative to r for a g - r colour; r - i follows g - r as for galaxies."""
    r_i = 0.08 + 0.35 * g_r
    return np.array([10.0 ** (-0.4 * g_r), 1.0, 10.0 ** (0.4 * r_i)], dtype=np.float32)


def _b_n(n: float) -> float:
    """Sersic b_n (Ciotti & Bertin 1999 expansion), so R_e holds half the light."""
    return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n)


def _sersic_norm(n: float) -> float:
    """Total flux of exp(-b_n((r/R_e)^(1/n) - 1)) for R_e = 1 (circularised radius)."""
    b = _b_n(n)
    return float(2.0 * math.pi * n * math.exp(b + math.lgamma(2.0 * n) - 2.0 * n * math.log(b)))


def _sersic(r: np.ndarray, n: float) -> np.ndarray:
    """Sersic profile at radius r (in units of R_e), I(R_e) = 1."""
    b = _b_n(n)
    return np.exp(-b * (np.power(r, 1.0 / n) - 1.0))


def _splat(plane: np.ndarray, xs: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> None:
    """Add point fluxes ``ws`` at grid positions (xs, ys) with bilinear weights (in place)."""
    m_y, m_x = plane.shape
    x0 = np.floor(xs)
    y0 = np.floor(ys)
    fx, fy = xs - x0, ys - y0
    x0 = x0.astype(np.int64)
    y0 = y0.astype(np.int64)
    flat = plane.reshape(-1)
    for ox, oy, w in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        xi, yi = x0 + ox, y0 + oy
        ok = (xi >= 0) & (xi < m_x) & (yi >= 0) & (yi < m_y)
        if ok.any():
            flat += np.bincount(
                yi[ok] * m_x + xi[ok], weights=(w * ws)[ok], minlength=flat.size
            ).astype(plane.dtype)


class _Scene:
    """A (3, m, m) g, r, i model on the native-pixel grid, in units of the r-band sky sigma."""

    def __init__(self, p: _Row, size: int) -> None:
        zoom = size / REFERENCE_SIZE
        re_out = p.frame_fraction * size  # R_e in output pixels
        scale = p.r_e / (p.frame_fraction * REFERENCE_SIZE)  # arcsec per 424-px pixel
        # Output pixels per native SDSS pixel; capped so tiny galaxies keep some pixels.
        per_native = min(max(SDSS_PIXEL_ARCSEC / scale, 1.0), 6.0) * zoom
        step = max(per_native, 1.0)
        self.m = m = max(16, int(round(size / step)))
        self.step = step = size / m  # output pixels per grid pixel
        self.size = size
        self.re = re_out / step  # R_e in grid pixels
        # Galaxy centre in grid coordinates (pixel centres at integers, as PIL resizes).
        self.cx = ((size - 1) / 2 + p.x_offset * zoom + 0.5) / step - 0.5
        self.cy = ((size - 1) / 2 + p.y_offset * zoom + 0.5) / step - 0.5
        self.psf_fwhm = p.psf_fwhm * zoom / step  # grid pixels
        pa = math.radians(p.position_angle)
        # North is up (-y), east is left (-x); PA runs from north through east.
        self.major = (-math.sin(pa), -math.cos(pa))
        self.minor = (math.cos(pa), -math.sin(pa))
        gy, gx = np.mgrid[0:m, 0:m].astype(np.float32)
        self.gx, self.gy = gx, gy
        x, y = gx - np.float32(self.cx), gy - np.float32(self.cy)
        # Coordinates along the major/minor axes in units of R_e: every main
        # component is defined on them.
        self.xm = (x * self.major[0] + y * self.major[1]) / np.float32(self.re)
        self.ym = (x * self.minor[0] + y * self.minor[1]) / np.float32(self.re)
        self.img = np.zeros((3, m, m), dtype=np.float32)

    def to_grid(self, xm: np.ndarray, ym: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid positions of points given along the major/minor axes in R_e units."""
        x = self.cx + self.re * (xm * self.major[0] + ym * self.minor[0])
        y = self.cy + self.re * (xm * self.major[1] + ym * self.minor[1])
        return x, y

    def add(self, profile: np.ndarray, flux: float, g_r: float) -> None:
        """Add a full-grid profile scaled to r-band ``flux`` with colour ``g_r``."""
        total = float(profile.sum(dtype=np.float64))
        if total > 0 and flux > 0:
            self.img += _colour(g_r)[:, None, None] * (profile * np.float32(flux / total))[None]

    def add_points(self, xs: np.ndarray, ys: np.ndarray, fluxes: np.ndarray, g_r: float) -> None:
        """Add point sources (grid positions) of r-band ``fluxes``; the PSF shapes them."""
        plane = np.zeros((self.m, self.m), dtype=np.float32)
        _splat(plane, xs, ys, fluxes)
        self.img += _colour(g_r)[:, None, None] * plane[None]

    def add_blob(
        self,
        x: float,
        y: float,
        re: float,
        n: float,
        q: float,
        angle: float,
        flux: float,
        g_r: float,
    ) -> None:
        """Add a small Sersic component (grid px, R_e ``re``) evaluated in a window only."""
        re = max(re, 0.3)
        half = int(math.ceil(re * (8.0 if n > 1.5 else 5.0))) + 2
        x0, x1 = max(int(x) - half, 0), min(int(x) + half + 1, self.m)
        y0, y1 = max(int(y) - half, 0), min(int(y) + half + 1, self.m)
        if x0 >= x1 or y0 >= y1 or flux <= 0:
            return
        xx = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(x)
        yy = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(y)
        ca, sa = math.cos(angle), math.sin(angle)
        u = xx * ca + yy * sa
        v = -xx * sa + yy * ca
        r = np.sqrt(q * u * u + v * v / q + 0.09) / re  # 0.3 px softening: no cusp spike
        prof = _sersic(r, n) * np.float32(flux / (_sersic_norm(n) * re * re))
        self.img[:, y0:y1, x0:x1] += _colour(g_r)[:, None, None] * prof[None]


def _moffat_psf(shape: tuple[int, int], fwhm: float, beta: float) -> np.ndarray:
    """Unit-sum Moffat kernel centred on pixel (0, 0) with wrap-around (for FFT convolution)."""
    alpha = fwhm / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))
    dy = np.minimum(np.arange(shape[0]), shape[0] - np.arange(shape[0])).astype(np.float32)
    dx = np.minimum(np.arange(shape[1]), shape[1] - np.arange(shape[1])).astype(np.float32)
    r2 = dy[:, None] ** 2 + dx[None, :] ** 2
    k = (1.0 + r2 / np.float32(alpha * alpha)) ** np.float32(-beta)
    return k / k.sum(dtype=np.float64)


def _convolve_psf(img: np.ndarray, fwhm: float, beta: float) -> np.ndarray:
    """Convolve each band with a Moffat PSF (FFT, zero-padded so light does not wrap around)."""
    m = img.shape[-1]
    pad = int(min(math.ceil(2.5 * fwhm), m))
    size = sfft.next_fast_len(m + pad, real=True)
    kernel = _moffat_psf((size, size), fwhm, beta).astype(np.float32)
    otf = sfft.rfft2(kernel)
    spec = sfft.rfft2(img, s=(size, size), axes=(1, 2))
    out = sfft.irfft2(spec * otf[None], s=(size, size), axes=(1, 2))[:, :m, :m]
    return np.ascontiguousarray(out, dtype=np.float32)


# Sky noise per band (r = 1) and display weights of i, r, g -> R, G, B, chosen
# so that the noise is about grey and ellipticals come out yellowish, disks
# white-blue, star-forming knots blue, as in SDSS colour JPEGs.
_SKY_SIGMA = np.array([0.8, 1.0, 1.35], dtype=np.float32)  # g, r, i
_DISPLAY_WEIGHT = np.array([1.5, 1.0, 0.85], dtype=np.float32)  # g->B, r->G, i->R
_STRETCH_A, _STRETCH_BETA = 0.36, 6.0  # asinh: 0.06 per sigma near 0, saturates near 50 sigma
_PEDESTAL = 0.012  # SDSS JPEG skies sit slightly above black


def _stretch(img: np.ndarray) -> np.ndarray:
    """Lupton-like asinh colour stretch of (g, r, i) -> uint8 (m, m, 3) RGB, clipped per channel.

    Clipping per channel (not preserving hue) makes bright cores saturate to
    white-yellow, as in SDSS JPEGs.
    """
    rgb = (img[::-1] * _DISPLAY_WEIGHT[::-1, None, None]).astype(np.float32)  # i, r, g -> R, G, B
    inten = rgb.mean(axis=0)
    small = np.abs(inten) < 1e-3
    safe = np.where(small, np.float32(1.0), inten)
    gain = np.where(
        small,
        np.float32(_STRETCH_A / _STRETCH_BETA),
        np.float32(_STRETCH_A) * np.arcsinh(safe / np.float32(_STRETCH_BETA)) / safe,
    )
    out = rgb * gain[None] + np.float32(_PEDESTAL)
    return (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(1, 2, 0)


def _spiral_arms(
    s: _Scene, rng: np.random.Generator, q: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    """Face-on disk coordinates, arm pattern and parameters of a logarithmic-spiral disk."""
    xd, yd = s.xm, s.ym / np.float32(max(q, 0.05))  # deproject onto the disk plane
    rd = np.sqrt(xd * xd + yd * yd) + np.float32(1e-3)
    theta = np.arctan2(yd, xd)
    arms = int(rng.choice([2, 2, 2, 3, 4]))
    pitch = math.radians(rng.uniform(12.0, 28.0))
    hand = float(rng.choice([-1.0, 1.0]))
    phase0 = rng.uniform(0.0, 2.0 * math.pi)
    sharp = rng.uniform(2.0, 5.0)
    psi = np.float32(arms) * (
        np.float32(hand) * theta - np.log(rd) / np.float32(math.tan(pitch))
    ) + np.float32(phase0)
    # ((1 + cos)/2)^k has mean Gamma(k + 1/2) / (sqrt(pi) Gamma(k + 1)) over a turn.
    mean = math.exp(math.lgamma(sharp + 0.5) - math.lgamma(sharp + 1.0)) / math.sqrt(math.pi)
    pattern = np.power(
        np.float32(0.5) + np.float32(0.5) * np.cos(psi), np.float32(sharp)
    ) / np.float32(mean)
    par = {"arms": arms, "pitch": pitch, "hand": hand, "phase0": phase0, "sharp": sharp}
    return rd, psi, pattern, par


def _render_disk_galaxy(s: _Scene, p: _Row, rng: np.random.Generator, flux: float) -> None:
    """Lenticular and spiral: Sersic bulge + exponential disk (+ arms, bar, knots, dust)."""
    q = 1.0 - p.ellipticity
    bt = p.bulge_fraction
    spiral = p.klass == "spiral"
    # Bulges are rounder than the disk they sit in.
    qb = 1.0 - (0.3 if spiral else 0.45) * p.ellipticity
    re_b = rng.uniform(0.18, 0.3) if spiral else rng.uniform(0.25, 0.4)
    rb = np.sqrt(qb * s.xm**2 + s.ym**2 / qb + np.float32((0.3 / s.re) ** 2)) / np.float32(re_b)
    s.add(_sersic(rb, p.sersic_n), flux * bt, p.g_r + (0.2 if spiral else 0.04))
    h = rng.uniform(1.05, 1.3) / 1.678  # disk scale length (R_e units) so the composite R_e ~ 1
    if not spiral:
        rd = np.sqrt(q * s.xm**2 + s.ym**2 / q)
        s.add(np.exp(-rd / np.float32(h * math.sqrt(q))), flux * (1 - bt) * 0.93, p.g_r - 0.04)
        if rng.random() < 0.35:  # S0 lens/ring seen in projection
            rd_face = np.sqrt(s.xm**2 + (s.ym / np.float32(q)) ** 2)
            ring = np.exp(
                -0.5 * ((rd_face - np.float32(rng.uniform(1.0, 1.6))) / np.float32(0.15)) ** 2
            )
            s.add(ring, flux * (1 - bt) * 0.07, p.g_r - 0.06)
        else:
            s.add(np.exp(-rd / np.float32(h * math.sqrt(q))), flux * (1 - bt) * 0.07, p.g_r - 0.04)
        return

    rd, psi, pattern, arm = _spiral_arms(s, rng, q)
    disk = np.exp(-rd / np.float32(h))
    barred = rng.random() < 0.35
    r_in = rng.uniform(0.35, 0.55) if barred else rng.uniform(0.2, 0.35)
    contrast = rng.uniform(0.45, 0.85)
    amp = np.float32(contrast) * (1.0 - np.exp(-((rd / np.float32(r_in)) ** 2)))
    disk_flux = flux * (1 - bt)
    knot_frac = rng.uniform(0.05, 0.12)
    bar_frac = rng.uniform(0.08, 0.15) if barred else 0.0
    smooth_flux = disk_flux * (1 - knot_frac - bar_frac)
    # Split the disk light: interarm (older, redder) and arms (younger, bluer).
    s.add(disk * (1 - amp), smooth_flux * (1 - contrast * 0.8), p.g_r + 0.08)
    s.add(disk * amp * pattern, smooth_flux * contrast * 0.8, p.g_r - 0.18)
    if barred:
        ang = rng.uniform(0, math.pi)
        xd, yd = s.xm, s.ym / np.float32(q)
        bu = xd * np.float32(math.cos(ang)) + yd * np.float32(math.sin(ang))
        bv = -xd * np.float32(math.sin(ang)) + yd * np.float32(math.cos(ang))
        bar = np.exp(
            -0.5 * ((bu / np.float32(r_in * 0.8)) ** 4 + (bv / np.float32(r_in * 0.22)) ** 2)
        )
        s.add(bar, disk_flux * bar_frac, p.g_r + 0.15)
    # Knots of star formation: along the arms, radii from the exponential disk.
    n_knots = int(rng.integers(12, 45))
    rk = h * rng.gamma(2.0, 1.0, n_knots) + r_in * 0.7
    j = rng.integers(0, arm["arms"], n_knots)
    th = arm["hand"] * (
        (2 * math.pi * j - arm["phase0"]) / arm["arms"] + np.log(rk) / math.tan(arm["pitch"])
    ) + rng.normal(0, 0.12, n_knots)
    kx, ky = s.to_grid(rk * np.cos(th), rk * np.sin(th) * q)
    kf = rng.lognormal(0.0, 0.7, n_knots)
    s.add_points(kx, ky, disk_flux * knot_frac * kf / kf.sum(), 0.1)
    # Dust on the inner (concave) edge of the arms.
    tau = (
        np.float32(rng.uniform(0.2, 0.6))
        * amp
        * np.power(
            np.float32(0.5) + np.float32(0.5) * np.cos(psi + np.float32(0.6 * arm["hand"])),
            np.float32(6.0),
        )
    )
    _attenuate(s, tau)


def _attenuate(s: _Scene, tau_r: np.ndarray) -> None:
    """Dust screen: optical depth tau_r in r, scaled to g and i with a Milky-Way-like law."""
    for b, ratio in enumerate((1.38, 1.0, 0.76)):
        s.img[b] *= np.exp(-np.float32(ratio) * tau_r)


def _render_elliptical(s: _Scene, p: _Row, rng: np.random.Generator, flux: float) -> None:
    """Single Sersic spheroid with a slight colour gradient, plus a faint envelope."""
    q = max(1.0 - p.ellipticity, 0.05)
    r = np.sqrt(q * s.xm**2 + s.ym**2 / q + np.float32((0.3 / s.re) ** 2))
    s.add(_sersic(r, p.sersic_n), flux * p.bulge_fraction, p.g_r + 0.02)
    env = np.exp(-1.678 * r / np.float32(rng.uniform(1.5, 2.2)))
    s.add(env, flux * (1 - p.bulge_fraction), p.g_r - 0.05)


def _render_edge_on(s: _Scene, p: _Row, rng: np.random.Generator, flux: float) -> None:
    """Thin exponential disk + bulge, cut by a dust lane along the major axis."""
    q = max(1.0 - p.ellipticity, 0.05)
    h = rng.uniform(1.05, 1.3) / 1.678
    hz = q * h  # vertical e-folding length, so the isophotes have b/a ~ q
    # Radial exponential times vertical sech^2 (sech^2(z/z0) ~ exp(-2z/z0) far out),
    # the classic edge-on disk, plus a thicker, fainter disk.
    # Far from the midplane cosh**2 overflows float32 to inf and the profile is exactly 0,
    # as intended: the warning is silenced, the pixels are unchanged.
    with np.errstate(over="ignore"):
        disk = np.exp(-np.abs(s.xm) / np.float32(h)) / np.cosh(s.ym / np.float32(2.0 * hz)) ** 2
        thick = np.exp(-np.abs(s.xm) / np.float32(1.2 * h)) / np.cosh(s.ym / np.float32(3.5 * hz)) ** 2
    s.add(disk, flux * (1 - p.bulge_fraction) * 0.88, p.g_r - 0.05)
    s.add(thick, flux * (1 - p.bulge_fraction) * 0.12, p.g_r + 0.05)
    qb = rng.uniform(0.6, 0.85)
    re_b = rng.uniform(0.18, 0.35)
    rb = np.sqrt(qb * s.xm**2 + s.ym**2 / qb + np.float32((0.3 / s.re) ** 2)) / np.float32(re_b)
    s.add(_sersic(rb, p.sersic_n), flux * p.bulge_fraction, p.g_r + 0.12)
    # The lane is slightly off the midplane unless the disk is exactly edge-on.
    side = float(rng.choice([-1.0, 1.0]))
    shift = side * hz * 0.8 * (90.0 - p.inclination) / 15.0
    # A lane much narrower than the seeing would vanish: real lanes seen in SDSS
    # are the ones at least about as wide as the PSF.
    width = max(hz * rng.uniform(0.4, 0.6), 0.3 * s.psf_fwhm / s.re)
    tau0 = rng.uniform(1.0, 2.2)
    tau = (
        np.float32(tau0)
        * np.exp(-0.5 * ((s.ym - np.float32(shift)) / np.float32(width)) ** 2)
        * np.exp(-((s.xm / np.float32(2.8 * h)) ** 2))
    )
    _attenuate(s, tau)


def _tail(
    s: _Scene, rng: np.random.Generator, x0: float, y0: float, flux: float, g_r: float
) -> None:
    """A curved tidal tail (R_e units from a nucleus at x0, y0): points along an arc, smoothed."""
    npts = 400
    t = rng.random(npts)
    theta0 = rng.uniform(0, 2 * math.pi)
    sweep = rng.uniform(1.2, 2.6) * rng.choice([-1.0, 1.0])
    length = rng.uniform(1.2, 2.5)
    rr = 0.3 + length * t
    th = theta0 + sweep * t
    jitter = rng.normal(0, 0.07, (2, npts))
    xm = x0 + rr * np.cos(th) + jitter[0]
    ym = y0 + rr * np.sin(th) * rng.uniform(0.5, 1.0) + jitter[1]
    gx, gy = s.to_grid(xm, ym)
    plane = np.zeros((s.m, s.m), dtype=np.float32)
    w = 1.0 - 0.8 * t
    _splat(plane, gx, gy, flux * w / w.sum())
    plane = ndimage.gaussian_filter(plane, max(0.08 * s.re, 0.7), truncate=3.0)
    s.img += _colour(g_r)[:, None, None] * plane[None]
    # Knots in the tail: star formation triggered by the interaction.
    k = int(rng.integers(3, 10))
    idx = rng.integers(0, npts, k)
    kf = rng.lognormal(0, 0.5, k)
    s.add_points(gx[idx], gy[idx], 0.4 * flux * kf / kf.sum(), 0.15)


def _render_irregular(s: _Scene, p: _Row, rng: np.random.Generator, flux: float) -> None:
    """Clumpy irregular (60%) or a merger of two nuclei with tidal tails (40%)."""
    q = max(1.0 - p.ellipticity, 0.1)
    pa_grid = math.atan2(s.major[1], s.major[0])
    if rng.random() < 0.6:
        ox, oy = rng.normal(0, 0.15, 2)
        r = np.sqrt(q * (s.xm - np.float32(ox)) ** 2 + (s.ym - np.float32(oy)) ** 2 / q)
        s.add(np.exp(-1.678 * r / np.float32(1.1)), flux * 0.5, p.g_r + 0.05)
        n_clumps = int(rng.integers(3, 8))
        fl = rng.dirichlet(np.ones(n_clumps)) * flux * 0.35
        cxm = rng.normal(0.0, 0.6, n_clumps)
        cym = rng.normal(0.0, 0.35, n_clumps)
        cx, cy = s.to_grid(cxm, cym)
        for k in range(n_clumps):
            s.add_blob(
                float(cx[k]),
                float(cy[k]),
                rng.uniform(0.08, 0.35) * s.re,
                rng.uniform(0.5, 1.2),
                rng.uniform(0.4, 1.0),
                pa_grid + rng.normal(0, 0.6),
                float(fl[k]),
                p.g_r - 0.05,
            )
        n_knots = int(rng.integers(15, 50))
        kx, ky = s.to_grid(rng.normal(0.2, 0.7, n_knots), rng.normal(0, 0.45, n_knots))
        kf = rng.lognormal(0, 0.7, n_knots)
        s.add_points(kx, ky, flux * 0.15 * kf / kf.sum(), 0.1)
        if rng.random() < 0.3:
            _tail(s, rng, 0.0, 0.0, flux * 0.1, p.g_r)
        return
    # Merger: two nuclei, the secondary fainter, with one or two tails.
    d = rng.uniform(0.6, 1.6)
    ratio = rng.uniform(0.3, 0.9)
    dy = rng.normal(0, 0.2)
    for sign, frac, colour in (
        (-1.0, 1.0 / (1 + ratio), p.g_r + 0.2),
        (1.0, ratio / (1 + ratio), p.g_r + 0.1),
    ):
        n_nuc = rng.uniform(1.0, 3.5)
        qn = rng.uniform(0.5, 1.0)
        gx, gy = s.to_grid(np.array([sign * d / 2]), np.array([sign * dy / 2]))
        s.add_blob(
            float(gx[0]),
            float(gy[0]),
            rng.uniform(0.3, 0.55) * s.re,
            n_nuc,
            qn,
            pa_grid + rng.normal(0, 0.8),
            flux * 0.7 * frac,
            colour,
        )
    for k in range(int(rng.integers(1, 3))):
        sign = -1.0 if k == 0 else 1.0
        _tail(s, rng, sign * d / 2, sign * dy / 2, flux * rng.uniform(0.12, 0.2), p.g_r - 0.05)


def _bright_star_extras(
    s: _Scene, rng: np.random.Generator, x: float, y: float, peak: float, g_r: float
) -> None:
    """Halo, diffraction spikes and bleed trail of a saturated star (added after the PSF)."""
    col = _colour(g_r)[:, None, None]
    dx, dy = s.gx - np.float32(x), s.gy - np.float32(y)
    r2 = dx * dx + dy * dy
    rc = max(1.5 * s.psf_fwhm, 2.0)
    s.img += col * (np.float32(0.01 * peak) / (1.0 + r2 / np.float32(rc * rc)))[None]
    # Four spikes from the secondary-mirror supports, near the cutout axes.
    ang = math.radians(rng.normal(0.0, 6.0))
    width = max(0.45 * s.psf_fwhm, 0.6)
    spikes = np.zeros_like(s.gx)
    for k in range(2):
        a = ang + k * math.pi / 2
        par = dx * np.float32(math.cos(a)) + dy * np.float32(math.sin(a))
        perp = -dx * np.float32(math.sin(a)) + dy * np.float32(math.cos(a))
        spikes += np.exp(-0.5 * (perp / np.float32(width)) ** 2) * (
            1.0 + np.abs(par) / np.float32(2.0)
        ) ** np.float32(-1.2)
    s.img += col * (np.float32(0.012 * peak) * spikes)[None]
    if rng.random() < 0.6:  # CCD bleed trail along the columns
        length = rng.uniform(0.08, 0.3) * s.m
        bleed = np.exp(-0.5 * (dx / np.float32(0.8)) ** 2) * np.exp(
            -np.abs(dy) / np.float32(length)
        )
        s.img += np.float32(0.3 * peak) * bleed[None]


def _render_artefact(
    s: _Scene, p: _Row, rng: np.random.Generator, sky: np.ndarray
) -> dict[str, Any]:
    """Bright-star frame or noise-dominated frame; returns extras for after the PSF."""
    q = max(1.0 - p.ellipticity, 0.1)
    if p.snr >= ARTEFACT_STAR_MIN_SNR:
        # The catalog offsets place the star; the target (a faint smudge, or
        # nothing) sits at the frame centre, swamped by the star.
        sx = (s.size - 1) / 2 + p.x_offset * s.size / REFERENCE_SIZE
        sy = (s.size - 1) / 2 + p.y_offset * s.size / REFERENCE_SIZE
        gx, gy = (sx + 0.5) / s.step - 0.5, (sy + 0.5) / s.step - 0.5
        if rng.random() < 0.6:
            c = (s.m - 1) / 2
            s.add_blob(
                c,
                c,
                s.re,
                p.sersic_n,
                q,
                rng.uniform(0, math.pi),
                rng.uniform(0.5, 2.0) * 2 * math.pi * s.re**2,
                p.g_r,
            )
        return {"star": (gx, gy, 200.0 * p.snr)}
    boost = rng.uniform(1.5, 3.0)  # a bad frame: scattered light, bad sky
    sky *= np.float32(boost)
    r = np.sqrt(q * s.xm**2 + s.ym**2 / q + np.float32((0.3 / s.re) ** 2))
    s.add(_sersic(r, p.sersic_n), p.snr * boost * 2 * math.pi * s.re**2, p.g_r)
    return {"trail": rng.random() < 0.35, "gradient": rng.random() < 0.35}


def _foreground_stars(s: _Scene, p: _Row, rng: np.random.Generator, peak_per_flux: float) -> None:
    """0-3 field stars (point sources; the PSF shapes them), log-uniform in brightness."""
    for _ in range(p.n_stars):
        x, y = rng.uniform(0, s.m - 1, 2)
        peak = 5.0 * 80.0 ** rng.random()  # 5 to 400 sigma at the peak
        s.add_points(
            np.array([x]), np.array([y]), np.array([peak / peak_per_flux]), rng.uniform(0.3, 1.5)
        )


def _neighbour(s: _Scene, rng: np.random.Generator, flux: float) -> None:
    """A small background/companion galaxy somewhere off the main one."""
    ang = rng.uniform(0, 2 * math.pi)
    dist = rng.uniform(1.8, 3.8)
    gx, gy = s.to_grid(np.array([dist * math.cos(ang)]), np.array([dist * math.sin(ang)]))
    s.add_blob(
        float(gx[0]),
        float(gy[0]),
        rng.uniform(0.1, 0.35) * s.re,
        rng.uniform(1.0, 4.0),
        rng.uniform(0.4, 1.0),
        rng.uniform(0, math.pi),
        flux * rng.uniform(0.03, 0.2),
        rng.uniform(0.4, 1.0),
    )


def _check_size(image_size: Any) -> int:
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)):
        raise ConfigError(f"demo.image_size: must be an integer, got {image_size!r}")
    if not 16 <= image_size <= 4096:
        raise ConfigError(f"demo.image_size: must be in [16, 4096], got {image_size}")
    return int(image_size)


def render(row: Any, image_size: int = REFERENCE_SIZE) -> np.ndarray:
    """Draw one catalog row as an SDSS-like colour cutout: uint8 (image_size, image_size, 3).

    ``row`` is an astropy Row or any mapping with the catalog columns. The
    image depends only on the row (nuisances come from ``render_seed``).
    Offsets and PSF widths in the catalog refer to 424 px and are scaled.
    """
    p = _read_row(row)
    size = _check_size(image_size)
    rng = np.random.default_rng(p.render_seed)
    s = _Scene(p, size)
    sky = _SKY_SIGMA.copy()
    # Total r-band flux so that the mean surface brightness inside R_e is snr sky sigmas.
    flux = p.snr * 2.0 * math.pi * s.re**2

    extras: dict[str, Any] = {}
    if p.klass == "elliptical":
        _render_elliptical(s, p, rng, flux)
    elif p.klass in ("lenticular", "spiral"):
        _render_disk_galaxy(s, p, rng, flux)
    elif p.klass == "edge_on":
        _render_edge_on(s, p, rng, flux)
    elif p.klass == "irregular":
        _render_irregular(s, p, rng, flux)
    else:
        extras = _render_artefact(s, p, rng, sky)
    if p.klass != "artefact" and rng.random() < 0.3:
        _neighbour(s, rng, flux)

    beta = rng.uniform(2.5, 4.5)  # SDSS PSF wings are Moffat-like
    # Stars are added before the PSF; their flux is set from the kernel peak.
    alpha = s.psf_fwhm / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))
    peak_per_flux = (beta - 1.0) / (math.pi * alpha * alpha)
    _foreground_stars(s, p, rng, peak_per_flux)
    if "star" in extras:
        gx, gy, peak = extras["star"]
        s.add_points(np.array([gx]), np.array([gy]), np.array([peak / peak_per_flux]), p.g_r)
    s.img = _convolve_psf(s.img, s.psf_fwhm, beta)
    if "star" in extras:
        gx, gy, peak = extras["star"]
        _bright_star_extras(s, rng, gx, gy, peak, p.g_r)
    if extras.get("gradient"):  # scattered light across a bad frame
        a = rng.uniform(0, 2 * math.pi)
        ramp = (s.gx * math.cos(a) + s.gy * math.sin(a)) / s.m
        s.img += (np.float32(rng.uniform(1.0, 3.0)) * (ramp - ramp.min()))[None] * _colour(
            rng.uniform(0.2, 1.0)
        )[:, None, None]
    if extras.get("trail"):  # satellite: g, r, i exposed at different times, so three offset lines
        a = rng.uniform(0, math.pi)
        c0 = rng.uniform(0.2, 0.8) * s.m
        d = (s.gx - c0) * math.sin(a) - (s.gy - c0) * math.cos(a)
        gap = rng.uniform(2.0, 6.0)
        amp = rng.uniform(2.0, 8.0)
        width = np.float32(max(0.6, 1.0 / s.step))  # about a native pixel
        for b in range(3):
            s.img[b] += np.float32(amp) * np.exp(
                -0.5 * ((d - np.float32((b - 1) * gap)) / width) ** 2
            )

    # Sky (read + background) noise plus photon noise of the source.
    signal = np.maximum(s.img, 0.0)
    sigma = np.sqrt(sky[:, None, None] ** 2 + np.float32(0.05) * sky[:, None, None] * signal)
    s.img += sigma * rng.standard_normal(s.img.shape, dtype=np.float32)
    out = _stretch(s.img)
    if s.m != size:
        # Cutouts are resampled from native pixels: bilinear upsampling gives the
        # smooth, correlated noise of zoomed-in SkyServer frames.
        out = np.asarray(
            Image.fromarray(out, "RGB").resize((size, size), Image.Resampling.BILINEAR)
        )
    return np.ascontiguousarray(out, dtype=np.uint8)


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    """Encode a uint8 (H, W, 3) RGB array as baseline JPEG bytes (4:2:0, like SkyServer)."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(
            f"encode_jpeg: expected a uint8 (H, W, 3) array, got {image.dtype} {image.shape}"
        )
    if (
        isinstance(quality, bool)
        or not isinstance(quality, (int, np.integer))
        or not 1 <= quality <= 100
    ):
        raise ConfigError(f"demo.jpeg_quality: must be an integer in [1, 100], got {quality!r}")
    buf = io.BytesIO()
    Image.fromarray(image, "RGB").save(buf, format="JPEG", quality=int(quality), subsampling=2)
    return buf.getvalue()


def write_cutout(row: Any, path: str | os.PathLike[str], image_size: int = REFERENCE_SIZE) -> None:
    """Render ``row`` and write it atomically to ``path`` as a JPEG cutout."""
    write_bytes_atomic(path, encode_jpeg(render(row, image_size)))
