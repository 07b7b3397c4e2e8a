"""Tests of galclust.morphometrics: known orderings on synthetic galaxies, demo classes, flags."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from galclust import demo
from galclust.extract import Extractor
from galclust.imageio import resize_rgb
from galclust.morphometrics import (
    MORPHOMETRIC_NAMES,
    MorphometricExtractor,
    impute_median,
    invalid_mask,
    is_failure,
    morphometrics,
)

SIZE = 80
IDX = {name: i for i, name in enumerate(MORPHOMETRIC_NAMES)}
GREY = (1.0, 1.0, 1.0)


def galaxy(
    n: float = 1.0,
    r_e: float = 8.0,
    q: float = 1.0,
    theta: float = 0.3,
    colour: tuple[float, float, float] = GREY,
    peak: float = 0.6,
    clump: float = 0.0,
    seed: int = 0,
    size: int = SIZE,
) -> np.ndarray:
    """A Sersic galaxy (R, G, B weights ``colour``) on a noisy sky, float (size, size, 3) in [0, 1].

    ``clump`` adds an off-centre blob with that fraction of the peak (lopsidedness).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2.0
    u = np.cos(theta) * xx + np.sin(theta) * yy
    v = -np.sin(theta) * xx + np.cos(theta) * yy
    r = np.hypot(u, v / q) / r_e
    b = 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n)
    light = np.exp(-b * (np.maximum(r, 1e-3) ** (1.0 / n) - 1.0))
    light = ndimage.gaussian_filter(light, 1.0)  # seeing
    light = light / light.max() * peak
    if clump:
        light += clump * peak * np.exp(-((xx - 1.2 * r_e) ** 2 + (yy - 0.5 * r_e) ** 2) / (2 * 2.0**2))
    rgb = light[..., None] * np.asarray(colour)[None, None, :]
    rgb = rgb + 0.05 + 0.008 * rng.standard_normal(rgb.shape)
    return np.clip(rgb, 0.0, 1.0)


def measure(image: np.ndarray, **kwargs) -> dict[str, float]:
    vec, flag = morphometrics(image, **kwargs)
    assert flag == "", flag
    return dict(zip(MORPHOMETRIC_NAMES, vec.tolist()))


def demo_images(n: int, seed: int, class_mix: dict[str, float] | None = None):
    cat = demo.draw_catalog(n, seed, class_mix)
    images = np.stack([resize_rgb(demo.render(row, 128).astype(np.float32) / 255.0, SIZE) for row in cat])
    return cat, images


def test_output_form_and_names():
    vec, flag = morphometrics(galaxy())
    assert vec.dtype == np.float32 and vec.shape == (len(MORPHOMETRIC_NAMES),)
    assert np.all(np.isfinite(vec)) and flag == ""
    assert MORPHOMETRIC_NAMES[:6] == ("concentration", "asymmetry", "smoothness", "gini", "m20", "ellipticity")
    assert "colour_gr" in MORPHOMETRIC_NAMES


def test_concentrated_sersic_is_more_concentrated_and_unequal():
    dev = measure(galaxy(n=4.0, r_e=8.0))
    exp = measure(galaxy(n=1.0, r_e=8.0))
    assert dev["concentration"] > exp["concentration"] + 0.5
    assert dev["gini"] > exp["gini"]
    assert dev["m20"] < exp["m20"]  # light more centrally concentrated
    # an exponential disk has C ≈ 2.7 and a de Vaucouleurs profile C ≈ 5 on ideal images;
    # seeing and the small frame lower both
    assert 2.0 < exp["concentration"] < 3.3


def test_lopsided_is_more_asymmetric():
    sym = measure(galaxy(n=1.0, clump=0.0))
    lop = measure(galaxy(n=1.0, clump=0.6))
    assert abs(sym["asymmetry"]) < 0.05
    assert lop["asymmetry"] > sym["asymmetry"] + 0.1


def test_ellipticity_follows_axis_ratio():
    round_ = measure(galaxy(q=1.0))
    flat = measure(galaxy(q=0.4, theta=1.0))
    assert round_["ellipticity"] < 0.08
    assert flat["ellipticity"] == pytest.approx(0.6, abs=0.12)


def test_colour_index_orders_red_and_blue():
    red = measure(galaxy(colour=(1.0, 0.7, 0.4)))  # bright in R (i), faint in B (g)
    blue = measure(galaxy(colour=(0.5, 0.7, 1.0)))
    grey = measure(galaxy(colour=GREY))
    assert red["colour_gr"] > grey["colour_gr"] > blue["colour_gr"]
    assert red["colour_ri"] > grey["colour_ri"] > blue["colour_ri"]
    assert grey["colour_gr"] == pytest.approx(0.0, abs=0.05)
    assert red["colour_gr"] == pytest.approx(-2.5 * math.log10(0.4 / 0.7), abs=0.1)


def test_clumpy_is_less_smooth():
    rng = np.random.default_rng(3)
    smooth = galaxy(n=1.0, r_e=10.0)
    clumpy = smooth.copy()
    for _ in range(12):  # star-forming knots in the disk
        x, y = rng.uniform(-12, 12, 2) + (SIZE - 1) / 2
        yy, xx = np.mgrid[:SIZE, :SIZE]
        clumpy += 0.25 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / 2.0)[..., None]
    clumpy = np.clip(clumpy, 0, 1)
    assert measure(clumpy)["smoothness"] > measure(smooth)["smoothness"] + 0.02


def test_uint8_input_is_scaled():
    img = galaxy(seed=4)
    as_uint8 = np.round(img * 255).astype(np.uint8)
    a, _ = morphometrics(as_uint8)
    b, _ = morphometrics(as_uint8.astype(np.float64) / 255.0)
    np.testing.assert_array_equal(a, b)


def test_larger_images_are_measured():
    small = measure(galaxy(n=4.0, r_e=8.0))
    large = measure(galaxy(n=4.0, r_e=16.0, size=160))
    assert large["concentration"] == pytest.approx(small["concentration"], abs=0.4)


@pytest.mark.parametrize(
    "image, flag",
    [
        (np.zeros((SIZE, SIZE, 3)), "blank"),
        (np.full((SIZE, SIZE, 3), 0.4), "blank"),
        (np.clip(0.05 + 0.01 * np.random.default_rng(0).standard_normal((SIZE, SIZE, 3)), 0, 1), "no_source"),
        (np.full((SIZE, SIZE, 3), np.nan), "blank"),
    ],
    ids=["black", "constant", "noise", "nan"],
)
def test_empty_frames_are_flagged_not_fatal(image, flag):
    vec, got = morphometrics(image)
    assert got == flag and is_failure(got)
    assert vec.dtype == np.float32 and np.all(vec == 0)
    assert invalid_mask([got]).all()


def test_off_centre_source_is_not_taken():
    img = np.roll(galaxy(r_e=4.0), (30, 30), axis=(0, 1))
    assert morphometrics(img)[1] == "no_source"


def test_bad_shape_raises():
    with pytest.raises(ValueError, match="H, W, 3"):
        morphometrics(np.zeros((80, 80)))
    with pytest.raises(ValueError, match="method"):
        morphometrics(galaxy(), method="magic")


def test_flags_parse_to_masks_and_imputation():
    flags = ["", "invalid:gini,m20", "no_source", "suspect:asymmetry_centre"]
    mask = invalid_mask(flags)
    assert mask.shape == (4, len(MORPHOMETRIC_NAMES))
    assert not mask[0].any() and not mask[3].any() and mask[2].all()
    assert mask[1].tolist() == [name in ("gini", "m20") for name in MORPHOMETRIC_NAMES]
    feats = np.arange(4 * len(MORPHOMETRIC_NAMES), dtype=np.float32).reshape(4, -1) + 1
    feats[2] = 0
    fixed = impute_median(feats, flags)
    assert fixed[2, 0] == np.median(feats[[0, 1, 3], 0])
    assert fixed[1, IDX["gini"]] == np.median(feats[[0, 3], IDX["gini"]])
    np.testing.assert_array_equal(fixed[0], feats[0])


def test_extractor_protocol_and_flags():
    images = np.stack([galaxy(seed=1), np.zeros((SIZE, SIZE, 3)), galaxy(n=4.0, seed=2)]).astype(np.float32)
    ex: Extractor = MorphometricExtractor()  # statically an Extractor (mypy); the protocol's members:
    assert all(callable(getattr(ex, a)) for a in ("output_names", "transform", "describe"))
    assert ex.name == "morphometrics" and ex.output_names() == ["morphometrics", "invalid"]
    out = ex.transform(images)
    assert list(out) == ["morphometrics", "invalid"]
    np.testing.assert_array_equal(out["invalid"], ex.last_invalid.astype(np.float32))
    feats = out["morphometrics"]
    assert feats.shape == (3, len(MORPHOMETRIC_NAMES)) and feats.dtype == np.float32
    assert np.all(np.isfinite(feats))
    assert ex.last_flags == ["", "blank", ""]
    assert ex.last_invalid[1].all() and not ex.last_invalid[[0, 2]].any()
    assert ex.describe()["names"] == list(MORPHOMETRIC_NAMES)
    assert ex.transform(images[:0])["morphometrics"].shape == (0, len(MORPHOMETRIC_NAMES))


def test_demo_ellipticals_more_concentrated_than_spirals():
    cat, images = demo_images(40, 11, {"elliptical": 1.0, "spiral": 1.0})
    feats = MorphometricExtractor().transform(images)["morphometrics"]
    assert np.all(np.isfinite(feats))
    klass = np.asarray(cat["klass"])
    ell, sp = feats[klass == "elliptical"], feats[klass == "spiral"]
    assert len(ell) >= 10 and len(sp) >= 10
    c = IDX["concentration"]
    assert ell[:, c].mean() > sp[:, c].mean() + 0.2
    assert ell[:, IDX["colour_gr"]].mean() > sp[:, IDX["colour_gr"]].mean()  # red vs blue
    assert ell[:, IDX["asymmetry"]].mean() < sp[:, IDX["asymmetry"]].mean()  # spiral arms, knots


@pytest.mark.slow
def test_fast_agrees_with_statmorph():
    """The fast re-implementation measures what statmorph measures (same definitions)."""
    from scipy import stats

    _, images = demo_images(8, 5, {"elliptical": 1, "lenticular": 1, "spiral": 1, "irregular": 1, "edge_on": 1})
    fast = np.stack([morphometrics(im)[0] for im in images])
    ref = np.stack([morphometrics(im, method="statmorph")[0] for im in images])
    for name in ("concentration", "gini", "m20", "ellipticity", "asymmetry"):
        j = IDX[name]
        rho = stats.spearmanr(fast[:, j], ref[:, j])[0]
        assert rho > 0.8, (name, rho, fast[:, j], ref[:, j])
    for name, tol in (("concentration", 0.15), ("m20", 0.1), ("ellipticity", 0.02), ("asymmetry", 0.1)):
        j = IDX[name]
        assert np.median(np.abs(fast[:, j] - ref[:, j])) < tol, name
    np.testing.assert_array_equal(fast[:, 6:], ref[:, 6:])  # colours are computed once, the same way
