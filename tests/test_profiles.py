"""Profile features (galclust.profiles): invariances and what they see on real galaxies."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from galclust.imageio import read_rgb, resize_rgb
from galclust.profiles import ProfileExtractor, feature_names, n_features, profile_features

GZ2 = Path(__file__).parent / "data" / "gz2_small"


def _galaxy(size: int = 80, q: float = 0.6, arms: float = 0.0, angle: float = 0.3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] - (size - 1) / 2
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = (-xx * np.sin(angle) + yy * np.cos(angle)) / q
    r = np.hypot(u, v)
    phi = np.arctan2(v, u)
    lum = 0.6 * np.exp(-r / 6.0) * (1 + arms * np.cos(2 * phi - 0.5 * r))
    img = np.stack([lum * 1.1, lum, lum * 0.8], axis=-1) + 0.05 + rng.normal(0, 0.005, (size, size, 3))
    return np.clip(img, 0, 1)


def test_shapes_names_and_extractor_protocol() -> None:
    images = np.stack([_galaxy(), _galaxy(arms=0.5)])
    ex = ProfileExtractor()
    out = ex.transform(images)
    assert ex.output_names() == ["profiles", "profile_summary"]
    assert out["profile_summary"].shape == (2, 12) and np.isfinite(out["profile_summary"]).all()
    assert out["profiles"].shape == (2, n_features()) and out["profiles"].dtype == np.float32
    assert len(feature_names()) == n_features() == len(set(feature_names()))
    assert np.isfinite(out["profiles"]).all()
    assert ex.describe()["names"] == feature_names()
    assert ex.last_flags == ["", ""]


def test_invariant_to_rotation_flip_and_close_under_rescaling() -> None:
    img = _galaxy(arms=0.4)
    f = profile_features(img)[0]
    for view in (np.rot90(img), img[:, ::-1], img[::-1]):
        np.testing.assert_allclose(profile_features(np.ascontiguousarray(view))[0], f, atol=0.05)
    big = profile_features(resize_rgb(_galaxy(size=160, arms=0.4), 80))[0]
    names = feature_names()
    shape_cols = [i for i, n in enumerate(names) if n.startswith(("sb_", "col_", "q"))]
    np.testing.assert_allclose(big[shape_cols], f[shape_cols], atol=0.15)


def test_arms_raise_m2_power_and_residuals() -> None:
    names = feature_names()
    smooth, armed = profile_features(_galaxy(arms=0.0))[0], profile_features(_galaxy(arms=0.6))[0]
    f2 = [i for i, n in enumerate(names) if n.startswith("f2_") and float(n[3:]) >= 1.0]
    res = [i for i, n in enumerate(names) if n.startswith("res1_")]
    assert armed[f2].mean() > smooth[f2].mean() + 0.3
    assert armed[res].mean() > smooth[res].mean()
    assert abs(smooth[names.index("q")] - 0.6) < 0.1


def test_blank_frame_is_flagged_not_fatal() -> None:
    feats, flag = profile_features(np.full((40, 40, 3), 0.1))
    assert flag == "no source" and np.isfinite(feats).all()


def test_real_spirals_are_bluer_and_more_structured_than_non_spirals() -> None:
    with open(GZ2 / "labels.csv") as fh:
        rows = list(csv.DictReader(fh))
    images = np.stack([resize_rgb(read_rgb(GZ2 / "images" / f"{r['id']}.jpg"), 80) for r in rows])
    y = np.array([r["label"] for r in rows])
    ex = ProfileExtractor()
    F = ex.transform(images)["profiles"]
    assert sum(1 for f in ex.last_flags if f) <= 3  # the central galaxy is found in (nearly) all
    names = feature_names()
    bg = names.index("col_bg_1.2-2.2")
    assert np.median(F[y == "spiral", bg]) > np.median(F[y == "non_spiral", bg])
    from galclust.quality import knn_accuracy

    assert knn_accuracy(F, y, k=5, seed=0) > 0.6


def test_real_ellipticals_spirals_and_edge_on_disks_separate_without_labels() -> None:
    """36 real cutouts of the three classes the features are judged on elsewhere (12 each, sorted
    by eye; tests/data/gz2_three), preprocessed as local.yaml does: edge-on disks stand out by
    their axis ratio, the profile summary holds the classes (5-NN) better than pixels, and a
    plain k = 3 clustering of it recovers them."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import StandardScaler

    from galclust.normalise import NormaliseSettings
    from galclust.preprocess import load_image
    from galclust.profiles import SUMMARY_NAMES
    from galclust.quality import knn_accuracy

    three = Path(__file__).parent / "data" / "gz2_three"
    with open(three / "labels.csv") as fh:
        rows = list(csv.DictReader(fh))
    settings = NormaliseSettings(mode="full", radius_multiple=6)
    loaded = [load_image(three / "images" / f"{r['id']}.jpg", 80, None, settings) for r in rows]
    assert sum(1 for _, flag in loaded if flag) <= 1
    images = np.stack([image for image, _ in loaded])
    y = np.array([r["class"] for r in rows])
    S = ProfileExtractor().transform(images)["profile_summary"]
    q = S[:, list(SUMMARY_NAMES).index("q")]
    assert np.median(q[y == "edge_on"]) < 0.5 * min(np.median(q[y == c]) for c in ("elliptical", "face_on_spiral"))
    Z = StandardScaler().fit_transform(S)
    pixels = images.reshape(len(images), -1)
    summary_knn, pixels_knn = knn_accuracy(Z, y, k=5, seed=0), knn_accuracy(pixels, y, k=5, seed=0)
    # measured: 5-NN 0.94 (pixels 0.81), k-means ARI 0.56 (on all 290 sorted: spectral 0.63)
    assert summary_knn >= 0.8 and summary_knn > pixels_knn
    labels = KMeans(3, n_init=10, random_state=0).fit_predict(Z)
    assert adjusted_rand_score(y, labels) >= 0.4
