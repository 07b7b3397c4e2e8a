"""Tests of the embedded demo sample (galclust.demo): catalog truth and rendered cutouts."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from scipy.stats import spearmanr

from galclust import demo
from galclust.errors import ConfigError, ImageError


@pytest.fixture(scope="module")
def catalog():
    return demo.draw_catalog(3000, seed=11)


def _rows_of(catalog, klass, k, kind=None):
    rows = [
        r
        for r in catalog
        if r["klass"] == klass and (kind is None or demo.artefact_kind(r) == kind)
    ]
    assert len(rows) >= k, f"not enough {klass} rows in the fixture catalog"
    return rows[:k]


# --- random numbers --------------------------------------------------------


def test_philox_known_answers():
    # Random123 known-answer vectors for Philox4x32-10.
    cases = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        (
            (0xFFFFFFFF,) * 4,
            (0xFFFFFFFF, 0xFFFFFFFF),
            (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
        ),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ]
    for ctr, key, expected in cases:
        out = demo._philox4x32(np.array([ctr], dtype=np.uint64), key)[0]
        assert tuple(int(w) for w in out) == expected


# --- catalog ---------------------------------------------------------------


def test_catalog_is_deterministic_and_prefix_stable():
    a = demo.draw_catalog(500, seed=3)
    b = demo.draw_catalog(500, seed=3)
    longer = demo.draw_catalog(1234, seed=3)
    for name in a.colnames:
        assert np.array_equal(a[name], b[name]), name
        assert np.array_equal(a[name], longer[name][:500]), name
    # The class of a row does not depend on n, even for a single row.
    assert demo.draw_catalog(1, seed=3)["klass"][0] == a["klass"][0]
    other = demo.draw_catalog(500, seed=4)
    assert not np.array_equal(a["r_e"], other["r_e"])
    assert not np.array_equal(a["render_seed"], other["render_seed"])


def test_catalog_columns_and_dtypes(catalog):
    expected = [
        "id",
        "ra",
        "dec",
        "r_e",
        "klass",
        "sersic_n",
        "ellipticity",
        "bulge_fraction",
        "lambda_r",
        "position_angle",
        "pa_bin",
        "inclination",
        "frame_fraction",
        "x_offset",
        "y_offset",
        "snr",
        "psf_fwhm",
        "g_r",
        "n_stars",
        "render_seed",
    ]
    assert catalog.colnames == expected
    assert catalog["id"].dtype.kind == "U" and catalog["klass"].dtype.kind == "U"
    assert catalog["n_stars"].dtype == np.int64 and catalog["render_seed"].dtype == np.int64
    for name in expected:
        if name not in ("id", "klass", "n_stars", "render_seed", "pa_bin"):
            assert catalog[name].dtype == np.float64, name
            assert np.all(np.isfinite(catalog[name])), name
    assert catalog["id"][0] == "demo-000000" and catalog["id"][42] == "demo-000042"
    assert all(re.fullmatch(r"demo-\d{6}", s) for s in catalog["id"])
    assert len(set(catalog["id"])) == len(catalog)
    assert len(set(catalog["render_seed"])) == len(catalog)


def test_catalog_value_ranges(catalog):
    c = catalog
    assert np.all((c["ra"] >= 0) & (c["ra"] < 360))
    assert np.all((c["dec"] >= -90) & (c["dec"] <= 90))
    assert np.all(c["r_e"] > 0)
    assert set(c["klass"]) <= set(demo.CLASSES)
    assert np.all((c["ellipticity"] >= 0) & (c["ellipticity"] < 1))
    assert np.all((c["bulge_fraction"] >= 0) & (c["bulge_fraction"] <= 1))
    assert np.all((c["lambda_r"] >= 0) & (c["lambda_r"] <= 1))
    assert np.all((c["position_angle"] >= 0) & (c["position_angle"] < 180))
    assert np.array_equal(c["pa_bin"], np.asarray(c["position_angle"]) // 45)
    assert np.all((c["inclination"] >= 0) & (c["inclination"] <= 90))
    assert np.all((c["frame_fraction"] > 0) & (c["frame_fraction"] < 0.5))
    # Centred on the reference scale (frame = 8.48 R_e) with scatter.
    assert abs(np.median(c["frame_fraction"]) - 1 / 8.48) < 0.01
    assert np.std(c["frame_fraction"]) > 0.005
    assert np.all((c["snr"] > 0) & (c["psf_fwhm"] > 0) & (c["sersic_n"] > 0))
    assert set(np.unique(c["n_stars"])) <= {0, 1, 2, 3}
    assert np.all(c["render_seed"] >= 0)
    galaxies = c[c["klass"] != "artefact"]
    assert np.all(np.abs(galaxies["x_offset"]) <= 10) and np.all(np.abs(galaxies["y_offset"]) <= 10)
    assert (
        np.mean(np.hypot(galaxies["x_offset"], galaxies["y_offset"]) > 1) > 0.3
    )  # some off-centre

    def of(k):
        return c[c["klass"] == k]

    e, s0, sp, eo = of("elliptical"), of("lenticular"), of("spiral"), of("edge_on")
    assert np.all((e["sersic_n"] >= 3.5) & (e["sersic_n"] <= 6)) and np.all(
        e["bulge_fraction"] >= 0.85
    )
    assert np.mean(e["ellipticity"] <= 0.4) > 0.9
    assert np.all(e["lambda_r"] <= 0.25)
    assert np.all((s0["bulge_fraction"] >= 0.4) & (s0["bulge_fraction"] <= 0.7))
    assert np.all((s0["lambda_r"] >= 0.3) & (s0["lambda_r"] <= 0.7))
    assert np.all(sp["inclination"] < 60.5) and np.all(sp["lambda_r"] >= 0.5)
    assert np.all(eo["inclination"] > 75) and np.all(eo["ellipticity"] >= 0.6)
    assert np.all(of("artefact")["lambda_r"] <= 0.1)
    kinds = {demo.artefact_kind(r) for r in of("artefact")}
    assert kinds == {"star", "noise"}


def test_class_mix_honoured():
    n = 3000
    c = demo.draw_catalog(n, seed=5)
    probs = np.array([demo.DEFAULT_CLASS_MIX[k] for k in demo.CLASSES])
    probs = probs / probs.sum()
    for k, p in zip(demo.CLASSES, probs):
        count = int(np.sum(c["klass"] == k))
        assert abs(count - n * p) < 4 * np.sqrt(n * p * (1 - p)), (k, count)
    custom = demo.draw_catalog(n, seed=5, class_mix={"spiral": 3, "artefact": 1})
    assert set(custom["klass"]) == {"spiral", "artefact"}
    assert abs(np.mean(custom["klass"] == "spiral") - 0.75) < 0.04


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"class_mix": {"foo": 1.0}}, "demo.class_mix: unknown class 'foo'"),
        ({"class_mix": {"spiral": -1.0}}, "demo.class_mix.spiral"),
        ({"class_mix": {"spiral": "many"}}, "demo.class_mix.spiral"),
        ({"class_mix": {"spiral": 0.0}}, "demo.class_mix"),
        ({"class_mix": [0.5, 0.5]}, "demo.class_mix"),
        ({"seed": -1}, "demo.seed"),
        ({"seed": 1.5}, "demo.seed"),
        ({"n": 0}, "demo.n"),
        ({"n": -5}, "demo.n"),
        ({"n": 2.0}, "demo.n"),
    ],
)
def test_bad_arguments_raise_config_error(kwargs, needle):
    args = {"n": 10, "seed": 1, **kwargs}
    with pytest.raises(ConfigError) as info:
        demo.draw_catalog(**args)
    assert needle in str(info.value)


def test_lambda_r_correlates_with_ellipticity(catalog):
    galaxies = catalog[catalog["klass"] != "artefact"]
    rho = spearmanr(galaxies["ellipticity"], galaxies["lambda_r"]).statistic
    assert rho > 0.3
    # Fast rotators with a disk rise with epsilon, roughly as sqrt(epsilon).
    disks = galaxies[np.isin(galaxies["klass"], ["lenticular", "edge_on"])]
    assert spearmanr(disks["ellipticity"], disks["lambda_r"]).statistic > 0.5
    # Ellipticals are slow rotators (below the Emsellem et al. 2011 line 0.31 sqrt(eps) + margin).
    e = galaxies[galaxies["klass"] == "elliptical"]
    assert np.median(e["lambda_r"]) < 0.2
    fast = galaxies[np.isin(galaxies["klass"], ["lenticular", "spiral", "edge_on"])]
    assert np.mean(fast["lambda_r"] > 0.31 * np.sqrt(fast["ellipticity"])) > 0.95


def test_colour_ordering(catalog):
    med = {k: np.median(catalog["g_r"][catalog["klass"] == k]) for k in demo.CLASSES}
    assert med["elliptical"] > med["spiral"] + 0.2
    assert med["lenticular"] > med["spiral"] + 0.15
    assert med["spiral"] > med["irregular"]
    assert 0.75 <= med["elliptical"] <= 0.85


# --- rendering -------------------------------------------------------------


def _axis_ratio(image, row):
    """b/a from flux-weighted second moments inside a Gaussian window around the galaxy."""
    grey = image.astype(np.float64).mean(axis=2)
    grey = grey - np.median(grey)
    grey[grey < 25] = 0.0  # only the galaxy: sky noise at large radius would dominate moments
    size = image.shape[0]
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    cx = (size - 1) / 2 + row["x_offset"]
    cy = (size - 1) / 2 + row["y_offset"]
    re_px = row["frame_fraction"] * size
    w = grey * np.exp(-0.5 * ((x - cx) ** 2 + (y - cy) ** 2) / (1.5 * re_px) ** 2)
    dx, dy = x - cx, y - cy
    mxx, myy, mxy = (np.sum(w * a) / w.sum() for a in (dx * dx, dy * dy, dx * dy))
    lo, hi = np.linalg.eigvalsh(np.array([[mxx, mxy], [mxy, myy]]))
    return float(np.sqrt(lo / hi))


def test_render_shape_dtype_deterministic(catalog):
    row = catalog[0]
    a = demo.render(row)
    b = demo.render(row)
    assert a.shape == (424, 424, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    # A plain dict works as a row too, and gives the same image.
    assert np.array_equal(demo.render({k: row[k] for k in catalog.colnames}), a)
    assert not np.array_equal(a, demo.render(catalog[1]))
    small = demo.render(row, image_size=64)
    assert small.shape == (64, 64, 3) and small.dtype == np.uint8


def test_render_images_look_like_cutouts(catalog):
    for klass in demo.CLASSES:
        for row in _rows_of(catalog, klass, 2, "star" if klass == "artefact" else None):
            img = demo.render(row)
            grey = img.mean(axis=2)
            # Near-black sky with visible noise, a brighter source near the centre.
            assert grey.std() > 2, klass
            if klass == "artefact":  # a bright star may fill the frame
                continue
            border = np.concatenate([grey[:20].ravel(), grey[-20:].ravel()])
            assert np.median(border) < 40, klass
            c = 212
            centre = grey[c - 25 : c + 25, c - 25 : c + 25].mean()
            assert centre > np.median(grey) + 30, klass


def test_render_differs_between_rows(catalog):
    imgs = [demo.render(r) for r in catalog[:6]]
    for i in range(len(imgs)):
        for j in range(i + 1, len(imgs)):
            assert np.mean(np.abs(imgs[i].astype(int) - imgs[j].astype(int))) > 1.0


def test_edge_on_more_elongated_than_ellipticals(catalog):
    q_edge = [_axis_ratio(demo.render(r), r) for r in _rows_of(catalog, "edge_on", 10)]
    q_ell = [_axis_ratio(demo.render(r), r) for r in _rows_of(catalog, "elliptical", 10)]
    # Measured on the stretched image (PSF, saturation and dust lane round it up),
    # so only a clear separation is required, not the catalog b/a.
    assert np.mean(q_edge) < np.mean(q_ell) - 0.2
    assert np.mean(q_edge) < 0.55


def test_spirals_bluer_than_ellipticals_in_the_image(catalog):
    def blue_minus_red(row):
        img = demo.render(row).astype(np.float64)
        c = 212
        patch = img[c - 40 : c + 40, c - 40 : c + 40]
        return float(np.mean(patch[..., 2] - patch[..., 0]))

    sp = np.mean([blue_minus_red(r) for r in _rows_of(catalog, "spiral", 6)])
    el = np.mean([blue_minus_red(r) for r in _rows_of(catalog, "elliptical", 6)])
    assert sp > el + 10


def test_artefact_star_frames_have_saturated_core(catalog):
    rows = _rows_of(catalog, "artefact", 4, "star")
    for row in rows:
        img = demo.render(row)
        x = int(round(211.5 + row["x_offset"]))
        y = int(round(211.5 + row["y_offset"]))
        core = img[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2]
        assert core.size and core.min() >= 250
    # Noise frames have no saturated core and little structure.
    for row in _rows_of(catalog, "artefact", 4, "noise"):
        img = demo.render(row)
        assert np.mean(img.min(axis=2) >= 250) < 0.01


def test_render_rejects_bad_rows(catalog):
    row = {k: catalog[0][k] for k in catalog.colnames}
    with pytest.raises(ConfigError, match="klass"):
        demo.render({**row, "klass": "blob"})
    with pytest.raises(ConfigError, match="snr"):
        demo.render({k: v for k, v in row.items() if k != "snr"})
    with pytest.raises(ConfigError, match="image_size"):
        demo.render(row, image_size=4)


# --- JPEG output -----------------------------------------------------------


def test_write_cutout_writes_valid_jpeg(catalog, tmp_path):
    row = catalog[2]
    path = tmp_path / "cut" / "demo-000002.jpg"
    demo.write_cutout(row, path)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left
    with Image.open(path) as im:
        assert im.format == "JPEG" and im.mode == "RGB" and im.size == (424, 424)
        decoded = np.asarray(im)
    # Lossy, but close to the rendered image.
    assert np.mean(np.abs(decoded.astype(int) - demo.render(row).astype(int))) < 4.0
    raw = path.read_bytes()
    assert raw[:2] == b"\xff\xd8" and raw[-2:] == b"\xff\xd9"


def test_encode_jpeg_validates():
    with pytest.raises(ImageError):
        demo.encode_jpeg(np.zeros((8, 8), dtype=np.uint8))
    with pytest.raises(ImageError):
        demo.encode_jpeg(np.zeros((8, 8, 3), dtype=np.float32))
    with pytest.raises(ConfigError, match="quality"):
        demo.encode_jpeg(np.zeros((8, 8, 3), dtype=np.uint8), quality=0)
    data = demo.encode_jpeg(np.full((16, 16, 3), 128, dtype=np.uint8), quality=75)
    assert data[:2] == b"\xff\xd8"
