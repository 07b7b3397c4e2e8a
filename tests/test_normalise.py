"""Tests of galclust.normalise: finding the central galaxy, recentring, rescaling, rotating."""

from __future__ import annotations

import math

import numpy as np
import pytest

from galclust import demo
from galclust.errors import ConfigError
from galclust.imageio import resize_rgb
from galclust.normalise import (
    FLAGS,
    Detection,
    NormaliseSettings,
    detect_central_galaxy,
    normalise,
)

SKY = 0.05
NOISE = 0.01
COLOUR = np.array([1.0, 0.85, 0.7], dtype=np.float32)  # a reddish galaxy, R > G > B


def _coords(shape, x0, y0, theta, q):
    """Coordinates along the major and minor axes (pixels) around (x0, y0)."""
    yy, xx = np.indices(shape, dtype=np.float64)
    dx, dy = xx - x0, yy - y0
    u = dx * math.cos(theta) + dy * math.sin(theta)
    v = -dx * math.sin(theta) + dy * math.cos(theta)
    return u, v / q


def gaussian(shape, x0, y0, sigma, q, theta, peak):
    """Elliptical Gaussian, sigma along the major axis: half the light within a = 1.1774 sigma."""
    u, v = _coords(shape, x0, y0, theta, q)
    return peak * np.exp(-0.5 * (u * u + v * v) / sigma**2)


def exponential(shape, x0, y0, r_e, q, theta, peak):
    """Sersic n = 1 disk with half-light semi-major axis r_e."""
    u, v = _coords(shape, x0, y0, theta, q)
    return peak * np.exp(-1.678 * np.hypot(u, v) / r_e)


def star(shape, x0, y0, fwhm, peak):
    """Moffat (beta 3) point source."""
    alpha = fwhm / (2.0 * math.sqrt(2.0 ** (1 / 3) - 1.0))
    yy, xx = np.indices(shape, dtype=np.float64)
    return peak * (1.0 + ((xx - x0) ** 2 + (yy - y0) ** 2) / alpha**2) ** -3.0


def frame(light, seed=0, colour=COLOUR):
    """Sky + light (same shape in every channel, tinted) + Gaussian noise, clipped to [0, 1]."""
    rng = np.random.default_rng(seed)
    img = SKY + light[..., None] * colour + NOISE * rng.standard_normal((*light.shape, 3))
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def axis_diff_deg(a, b):
    """Smallest difference between two axis angles (radians, modulo pi), in degrees."""
    return abs(math.degrees(math.remainder(a - b, math.pi)))


def out_moments(img):
    """Centroid, ellipticity and major-axis angle of an output image's light above its sky."""
    lum = img.mean(axis=2).astype(np.float64)
    w = np.clip(lum - np.median(lum), 0.0, None)
    w[w < 0.1 * w.max()] = 0.0  # the galaxy, not the noise of the sky around it
    yy, xx = np.indices(w.shape)
    tot = w.sum()
    mx, my = (w * xx).sum() / tot, (w * yy).sum() / tot
    cxx = (w * (xx - mx) ** 2).sum() / tot
    cyy = (w * (yy - my) ** 2).sum() / tot
    cxy = (w * (xx - mx) * (yy - my)).sum() / tot
    common = math.hypot(0.5 * (cxx - cyy), cxy)
    a2, b2 = 0.5 * (cxx + cyy) + common, 0.5 * (cxx + cyy) - common
    return mx, my, 1 - math.sqrt(b2 / a2), 0.5 * math.atan2(2 * cxy, cxx - cyy)


# -- settings -------------------------------------------------------------------------------
def test_settings_defaults_and_from_config():
    s = NormaliseSettings()
    assert (s.mode, s.radius_multiple, s.mask_stars, s.detect_sigma, s.npixels, s.deblend) == (
        "none", 8.48, False, 2.0, 10, True
    )
    assert not s.measures and not s.rotate
    assert NormaliseSettings.from_config(None) == s
    assert NormaliseSettings.from_config({}) == s
    full = NormaliseSettings.from_config(
        {"mode": "full", "radius_multiple": 6, "mask_stars": True, "detect_sigma": 1.5,
         "npixels": 5, "deblend": False}
    )
    assert full.rotate and full.measures and full.radius_multiple == 6
    assert NormaliseSettings.from_config({"mode": "recentre"}).rotate is False
    assert NormaliseSettings(mask_stars=True).measures  # masking needs a detection even in none


@pytest.mark.parametrize(
    "cfg, key",
    [
        ({"mode": "rotate"}, "mode"),
        ({"mode": None}, "mode"),
        ({"radius_multiple": 0}, "radius_multiple"),
        ({"radius_multiple": "8"}, "radius_multiple"),
        ({"radius_multiple": float("nan")}, "radius_multiple"),
        ({"detect_sigma": -1}, "detect_sigma"),
        ({"detect_sigma": True}, "detect_sigma"),
        ({"npixels": 0}, "npixels"),
        ({"npixels": 2.5}, "npixels"),
        ({"npixels": True}, "npixels"),
        ({"mask_stars": "yes"}, "mask_stars"),
        ({"deblend": 1}, "deblend"),
        ({"rotate": True}, "rotate"),
    ],
)
def test_settings_errors_name_the_key(cfg, key):
    with pytest.raises(ConfigError, match=rf"'preprocess\.normalise\.{key}'"):
        NormaliseSettings.from_config(cfg)


def test_settings_must_be_a_mapping():
    with pytest.raises(ConfigError, match=r"'preprocess\.normalise'"):
        NormaliseSettings.from_config(["full"])


# -- detection on synthetic frames -------------------------------------------------------------
@pytest.mark.parametrize(
    "shape, x0, y0, size, q, theta_deg, profile",
    [
        ((424, 424), 218.3, 204.9, 30.0, 0.5, 30.0, "gaussian"),
        ((424, 424), 205.0, 215.5, 22.0, 0.35, -65.0, "exponential"),
        ((300, 260), 125.0, 155.0, 14.0, 0.6, 80.0, "gaussian"),
        ((96, 96), 49.2, 46.1, 6.0, 0.45, 10.0, "gaussian"),  # no binning
    ],
)
def test_detects_centre_size_and_angle(shape, x0, y0, size, q, theta_deg, profile):
    theta = math.radians(theta_deg)
    if profile == "gaussian":
        light = gaussian(shape, x0, y0, size, q, theta, 0.6)
        a50 = 1.1774 * size
    else:
        light = exponential(shape, x0, y0, size, q, theta, 0.8)
        a50 = size
    det = detect_central_galaxy(frame(light), NormaliseSettings(mode="full"))
    assert det.flag == "" and det.ok
    assert math.hypot(det.x - x0, det.y - y0) < 1.0
    assert det.r_half == pytest.approx(a50, rel=0.15)
    assert det.r_petro > det.r_half
    assert det.ellipticity == pytest.approx(1 - q, abs=0.06)
    assert axis_diff_deg(det.theta, theta) < 3.0
    assert -math.pi / 2 < det.theta <= math.pi / 2
    assert det.snr > 100 and det.flux > 0
    assert det.sky == pytest.approx(tuple(SKY * np.ones(3)), abs=0.01)


def test_pure_noise_is_flagged_and_falls_back_to_the_plain_resize():
    rng = np.random.default_rng(3)
    noise = np.clip(SKY + NOISE * rng.standard_normal((424, 424, 3)), 0, 1).astype(np.float32)
    for mode in ("recentre", "full", "none"):
        out, det = normalise(noise, 80, NormaliseSettings(mode=mode, mask_stars=True))
        assert det.flag in FLAGS and not det.ok
        np.testing.assert_array_equal(out, resize_rgb(noise, 80))
    constant = np.full((120, 120, 3), 0.3, np.float32)
    out, det = normalise(constant, 80, NormaliseSettings(mode="full"))
    assert det.flag == "bad image"
    np.testing.assert_array_equal(out, resize_rgb(constant, 80))


def test_bright_star_off_centre_is_not_the_central_galaxy():
    shape = (424, 424)
    galaxy = gaussian(shape, 214.0, 209.0, 20.0, 0.6, 0.4, 0.35)
    bright = star(shape, 300.0, 130.0, 8.0, 30.0)  # saturated, far more light than the galaxy
    assert np.clip(frame(bright) - SKY, 0, None).sum() > np.clip(frame(galaxy) - SKY, 0, None).sum()
    det = detect_central_galaxy(frame(galaxy + bright), NormaliseSettings(mode="full"))
    assert det.ok
    assert math.hypot(det.x - 214.0, det.y - 209.0) < 1.5
    assert det.r_half == pytest.approx(1.1774 * 20.0, rel=0.15)


def test_star_on_the_galaxy_does_not_bias_it():
    shape = (424, 424)
    galaxy = gaussian(shape, 212.0, 211.0, 28.0, 0.5, -0.3, 0.5)
    bright = star(shape, 250.0, 235.0, 7.0, 5.0)  # within the galaxy's light, saturated
    det = detect_central_galaxy(frame(galaxy + bright), NormaliseSettings(mode="full"))
    assert math.hypot(det.x - 212.0, det.y - 211.0) < 1.5
    assert axis_diff_deg(det.theta, -0.3) < 4.0
    assert det.r_half == pytest.approx(1.1774 * 28.0, rel=0.15)


def test_central_star_is_flagged():
    img = frame(star((424, 424), 215.0, 205.0, 9.0, 40.0))
    out, det = normalise(img, 80, NormaliseSettings(mode="full"))
    assert det.flag == "star"
    np.testing.assert_array_equal(out, resize_rgb(img, 80))


def test_source_far_off_centre_is_flagged():
    img = frame(gaussian((200, 200), 30.0, 170.0, 8.0, 0.7, 0.0, 0.6))
    out, det = normalise(img, 64, NormaliseSettings(mode="recentre"))
    assert det.flag == "off centre"
    assert math.hypot(det.x - 30.0, det.y - 170.0) < 1.5  # measured all the same
    np.testing.assert_array_equal(out, resize_rgb(img, 64))


def test_unresolved_and_oversized_sources_are_flagged():
    tiny = frame(gaussian((100, 100), 50.0, 50.0, 0.5, 1.0, 0.0, 0.9))
    assert detect_central_galaxy(tiny).flag == "too small"
    huge = frame(gaussian((100, 100), 50.0, 50.0, 12.0, 1.0, 0.0, 0.6))  # 40 r_half > 3 frames
    det = detect_central_galaxy(huge, NormaliseSettings(mode="full", radius_multiple=40.0))
    assert det.flag == "too large"


def test_nan_pixels_do_not_break_detection():
    img = frame(gaussian((200, 200), 100.0, 100.0, 10.0, 0.6, 0.5, 0.6))
    img[5:20, 5:20] = np.nan
    det = detect_central_galaxy(img, NormaliseSettings(mode="full"))
    assert det.ok and math.hypot(det.x - 100.0, det.y - 100.0) < 1.0


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="shape"):
        detect_central_galaxy(np.zeros((50, 50), np.float32))
    with pytest.raises(ValueError, match="shape"):
        normalise(np.zeros((50, 50, 4), np.float32), 80, NormaliseSettings(mode="full"))


# -- resampling -------------------------------------------------------------------------------
def test_full_mode_centres_scales_and_turns_the_galaxy_horizontal():
    theta = math.radians(35.0)
    img = frame(gaussian((424, 424), 225.0, 198.0, 24.0, 0.45, theta, 0.6))
    settings = NormaliseSettings(mode="full", radius_multiple=8.48)
    out, det = normalise(img, 80, settings)
    assert det.ok
    mx, my, ell, angle = out_moments(out)
    assert math.hypot(mx - 39.5, my - 39.5) < 0.5
    assert axis_diff_deg(angle, 0.0) < 3.0
    assert ell == pytest.approx(0.55, abs=0.08)
    # The output spans 8.48 half-light radii: r_half is 80 / 8.48 output pixels.
    out_det = detect_central_galaxy(out, NormaliseSettings(mode="full"))
    assert out_det.r_half == pytest.approx(80 / 8.48, rel=0.15)


def test_recentre_mode_keeps_the_orientation():
    theta = math.radians(-50.0)
    img = frame(gaussian((424, 424), 200.0, 222.0, 18.0, 0.4, theta, 0.6))
    out, det = normalise(img, 80, NormaliseSettings(mode="recentre", radius_multiple=6.0))
    mx, my, _, angle = out_moments(out)
    assert math.hypot(mx - 39.5, my - 39.5) < 0.5
    assert axis_diff_deg(angle, theta) < 3.0
    out_det = detect_central_galaxy(out, NormaliseSettings(mode="full"))
    assert out_det.r_half == pytest.approx(80 / 6.0, rel=0.15)


def test_none_mode_is_the_plain_resize_and_measures_nothing():
    img = frame(gaussian((424, 424), 212.0, 211.0, 20.0, 0.6, 0.2, 0.6))
    out, det = normalise(img, 80, NormaliseSettings(mode="none"))
    np.testing.assert_array_equal(out, resize_rgb(img, 80))
    assert det.flag == "" and math.isnan(det.x) and math.isnan(det.r_half)


def test_padding_looks_like_sky():
    # A big galaxy: the crop reaches well beyond the frame.
    img = frame(gaussian((200, 200), 100.0, 100.0, 20.0, 0.8, 0.0, 0.6))
    out, det = normalise(img, 80, NormaliseSettings(mode="full", radius_multiple=20.0))
    assert det.ok
    border = np.concatenate([out[:8].reshape(-1, 3), out[-8:].reshape(-1, 3)])
    assert border.mean(axis=0) == pytest.approx(SKY * np.ones(3), abs=0.01)
    assert border.std() > 0.001  # noise, not a flat edge


def test_mask_stars_removes_a_stars_flux():
    shape = (424, 424)
    galaxy = gaussian(shape, 212.0, 212.0, 22.0, 0.55, 0.7, 0.5)
    sx, sy = 320.0, 110.0
    faint = star(shape, 110.0, 300.0, 8.0, 0.6)  # compact, unsaturated
    bright = star(shape, sx, sy, 9.0, 20.0)  # saturated
    clean = frame(galaxy)
    img = frame(galaxy + faint + bright)
    masked, det = normalise(img, 106, NormaliseSettings(mode="none", mask_stars=True))
    plain = resize_rgb(img, 106)
    reference = resize_rgb(clean, 106)
    assert det.ok and det.n_masked == 2
    for x, y in ((sx, sy), (110.0, 300.0)):
        i, j = int(y / 4), int(x / 4)
        box = (slice(i - 6, i + 7), slice(j - 6, j + 7))
        excess_before = (plain[box] - reference[box]).sum()
        excess_after = (masked[box] - reference[box]).sum()
        assert excess_before > 5.0
        assert abs(excess_after) < 0.05 * excess_before
    # The galaxy itself is untouched.
    centre = (slice(40, 66), slice(40, 66))
    np.testing.assert_allclose(masked[centre], plain[centre], atol=1e-6)
    # Without mask_stars nothing is masked.
    _, det_off = normalise(img, 106, NormaliseSettings(mode="full"))
    assert det_off.n_masked == 0


def test_mask_stars_keeps_a_neighbour_galaxy():
    shape = (424, 424)
    light = gaussian(shape, 212.0, 212.0, 22.0, 0.55, 0.7, 0.5)
    light += gaussian(shape, 330.0, 300.0, 9.0, 0.4, -0.4, 0.4)  # extended, elongated, faint
    _, det = normalise(frame(light), 80, NormaliseSettings(mode="full", mask_stars=True))
    assert det.ok and det.n_masked == 0


# -- demo renders -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_rows():
    cat = demo.draw_catalog(120, seed=5)
    rows = []
    for klass in ("elliptical", "lenticular", "spiral", "edge_on"):
        rows += [r for r in cat if r["klass"] == klass][:5]
    stars = [r for r in cat if demo.artefact_kind(r) == "star"][:3]
    render = {id(r): demo.render(r).astype(np.float32) / 255.0 for r in rows + stars}
    return rows, stars, render


def test_demo_galaxies_are_found_where_the_catalog_puts_them(demo_rows):
    rows, _, images = demo_rows
    settings = NormaliseSettings(mode="full")
    for row in rows:
        det = detect_central_galaxy(images[id(row)], settings)
        name = f"{row['id']} ({row['klass']})"
        assert det.ok, f"{name}: {det.flag}"
        # Centre: (size - 1) / 2 + offset. Edge-on disks are centred on their light,
        # which a dust lane off the midplane shifts by a few pixels.
        tol = 10.0 if row["klass"] == "edge_on" else 3.0
        dist = math.hypot(det.x - 211.5 - row["x_offset"], det.y - 211.5 - row["y_offset"])
        assert dist < tol, f"{name}: centre off by {dist:.1f} px"
        # Size: the catalog's circularised R_e; ours is the displayed light's, on an
        # asinh-stretched image (see the module docstring), so only roughly equal.
        r_e = row["frame_fraction"] * 424
        ratio = det.r_half * math.sqrt(1 - det.ellipticity) / r_e
        assert 0.5 < ratio < 1.4, f"{name}: r_half / R_e = {ratio:.2f}"
        # Angle: the demo's major axis points along (-sin PA, -cos PA) in (x, y),
        # i.e. theta = pi/2 - PA. Spiral arms twist the isophotes: a looser bound.
        if row["ellipticity"] > 0.3:
            dtheta = axis_diff_deg(det.theta, math.pi / 2 - math.radians(row["position_angle"]))
            tol = 25.0 if row["klass"] == "spiral" else 5.0
            assert dtheta < tol, f"{name}: angle off by {dtheta:.1f} deg"


def test_demo_star_frames_are_flagged(demo_rows):
    _, stars, images = demo_rows
    for row in stars:
        out, det = normalise(images[id(row)], 80, NormaliseSettings(mode="full"))
        assert det.flag in ("star", "off centre"), f"{row['id']}: {det.flag!r}"
        np.testing.assert_array_equal(out, resize_rgb(images[id(row)], 80))


@pytest.mark.parametrize(
    "settings",
    [
        NormaliseSettings(mode="none"),
        NormaliseSettings(mode="none", mask_stars=True),
        NormaliseSettings(mode="recentre"),
        NormaliseSettings(mode="full", mask_stars=True),
        NormaliseSettings(mode="full", deblend=False, radius_multiple=5.0),
    ],
    ids=lambda s: f"{s.mode}-mask{int(s.mask_stars)}-deblend{int(s.deblend)}",
)
def test_outputs_are_size_square_float32_in_unit_range_and_deterministic(demo_rows, settings):
    rows, stars, images = demo_rows
    for row in rows[::3] + stars[:1]:
        img = images[id(row)]
        out, det = normalise(img, 80, settings)
        assert out.shape == (80, 80, 3) and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
        again, det_again = normalise(img.copy(), 80, settings)
        np.testing.assert_array_equal(out, again)
        assert det_again.as_row() == det.as_row() or math.isnan(det.x)


def test_detection_row_columns():
    row = Detection().as_row()
    assert list(row) == [
        "x", "y", "r_half", "r_petro", "ellipticity", "theta", "flux", "snr", "n_masked", "flag"
    ]
    assert row["flag"] == "" and row["n_masked"] == 0
