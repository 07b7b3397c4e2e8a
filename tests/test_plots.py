"""Tests of galclust.plots: files are valid, named right, deterministic and atomic."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from galclust import plots
from galclust.plots._common import group_labels, mosaic

SIZE = 80


def blobs(n: int, seed: int = 0, size: int = SIZE) -> np.ndarray:
    """Elliptical coloured blobs on black, float32 (n, size, size, 3) in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = (np.mgrid[:size, :size] / size - 0.5).astype(np.float32)
    a = rng.uniform(0.03, 0.2, (n, 1, 1))
    b = rng.uniform(0.03, 0.2, (n, 1, 1))
    th = rng.uniform(0, np.pi, (n, 1, 1))
    u = np.cos(th) * xx + np.sin(th) * yy
    v = -np.sin(th) * xx + np.cos(th) * yy
    g = np.exp(-(u**2 / (2 * a * a) + v**2 / (2 * b * b)))
    col = rng.uniform(0.4, 1.0, (n, 1, 1, 3))
    return (g[..., None] * col).astype(np.float32)


def pdf_pages(path: Path) -> int:
    """Number of page objects in a PDF (matplotlib writes uncompressed object headers)."""
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", path.read_bytes()))


def assert_png(path: Path) -> tuple[int, int]:
    assert path.is_file()
    with Image.open(path) as im:
        assert im.format == "PNG"
        im.load()
        return im.size


def assert_pdf(path: Path) -> None:
    assert path.is_file()
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"%%EOF" in data[-64:]


def no_temp_files(directory: Path) -> None:
    leftovers = [p.name for p in directory.rglob("*") if ".tmp" in p.name]
    assert leftovers == []


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return blobs(130)


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    # three clusters with non-contiguous label values (2, 5, 9) plus noise;
    # label 5 has 70 members, enough for 3 pages of 30.
    lab = np.full(130, 5, dtype=np.int64)
    lab[:20] = 2
    lab[20:45] = 9
    lab[45:60] = -1
    return np.random.default_rng(3).permutation(lab)


# --- helpers -----------------------------------------------------------------


def test_group_labels_orders_clusters_then_noise(labels: np.ndarray) -> None:
    groups, n = group_labels(labels)
    assert n == 3
    assert [g.label for g in groups] == [2, 5, 9, -1]
    assert [g.name for g in groups] == ["0", "1", "2", "noise"]
    assert [len(g.members) for g in groups] == [20, 70, 25, 15]
    for g in groups:
        assert np.all(labels[g.members] == g.label)
        assert np.all(np.diff(g.members) > 0)


def test_mosaic_layout() -> None:
    tiles = np.arange(5 * 4 * 4 * 3, dtype=np.uint8).reshape(5, 4, 4, 3)
    grid = mosaic(tiles, 3, sep=1, fill=255)
    assert grid.shape == (2 * 5 - 1, 3 * 5 - 1, 3)
    assert np.array_equal(grid[0:4, 5:9], tiles[1])
    assert np.array_equal(grid[5:9, 5:9], tiles[4])
    assert np.all(grid[5:9, 10:14] == 255)  # empty cell
    assert np.all(grid[4, :] == 255)  # separator


def test_pick_examples_deterministic_and_valid(labels: np.ndarray) -> None:
    a = plots.pick_examples(labels, 5, seed=7)
    b = plots.pick_examples(labels, 5, seed=7)
    c = plots.pick_examples(labels, 5, seed=8)
    assert set(a) == {2, 5, 9, -1}
    for key in a:
        assert np.array_equal(a[key], b[key])
        assert len(a[key]) == 5 and len(set(a[key].tolist())) == 5
        assert np.all(labels[a[key]] == key)
    assert any(not np.array_equal(a[k], c[k]) for k in a)
    # a cluster's choice does not depend on the other clusters
    other = labels.copy()
    other[other == 9] = 2
    assert np.array_equal(plots.pick_examples(other, 5, seed=7)[5], a[5])
    # small clusters give all their members
    small = np.array([0, 0, 1, 1, 1, 1, 1, 1])
    assert plots.pick_examples(small, 5)[0].tolist() == [0, 1]


# --- cluster member PDFs -------------------------------------------------------


def test_cluster_member_pdfs(tmp_path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    out = tmp_path / "members"
    paths = plots.cluster_member_pdfs(
        images, labels, out, columns=6, max_per_page=30, title_prefix="kmeans",
        ids=[f"G{i}" for i in range(len(labels))],
    )
    names = ["cluster_0_of_3.pdf", "cluster_1_of_3.pdf", "cluster_2_of_3.pdf",
             "cluster_noise_of_3.pdf"]
    assert [p.name for p in paths] == names
    assert all(p.parent == out for p in paths)
    assert sorted(p.name for p in out.iterdir()) == names
    for p in paths:
        assert_pdf(p)
    # 20 -> 1 page, 70 -> 3 pages of 30, 25 -> 1, noise 15 -> 1
    assert [pdf_pages(p) for p in paths] == [1, 3, 1, 1]
    assert sorted(q.name for q in tmp_path.iterdir()) == ["members"]
    no_temp_files(tmp_path)


def test_cluster_member_pdfs_replaces_directory(tmp_path: Path, images: np.ndarray) -> None:
    out = tmp_path / "members"
    out.mkdir()
    (out / "cluster_7_of_8.pdf").write_bytes(b"stale")
    lab = np.zeros(len(images), dtype=int)
    paths = plots.cluster_member_pdfs(images, lab, out)
    assert [p.name for p in out.iterdir()] == ["cluster_0_of_1.pdf"] == [p.name for p in paths]
    assert pdf_pages(paths[0]) == 2  # 130 members, 100 per page
    no_temp_files(tmp_path)


def test_cluster_member_pdfs_mismatch_writes_nothing(tmp_path: Path, images: np.ndarray) -> None:
    out = tmp_path / "members"
    with pytest.raises(ValueError, match=r"130 images, 129 labels"):
        plots.cluster_member_pdfs(images, np.zeros(129, dtype=int), out)
    assert list(tmp_path.iterdir()) == []


def test_cluster_member_pdfs_error_midway_leaves_old_output(
    tmp_path: Path, images: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "members"
    out.mkdir()
    (out / "old.pdf").write_bytes(b"%PDF old")
    from galclust.plots import members

    calls = {"n": 0}
    real = members._write_member_pdf

    def failing(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        real(*args, **kwargs)

    monkeypatch.setattr(members, "_write_member_pdf", failing)
    lab = np.repeat([0, 1, 2], [40, 40, 50])
    with pytest.raises(RuntimeError, match="disk full"):
        plots.cluster_member_pdfs(images, lab, out)
    assert [p.name for p in tmp_path.iterdir()] == ["members"]
    assert [p.name for p in out.iterdir()] == ["old.pdf"]


def test_cluster_member_pdfs_only_noise(tmp_path: Path, images: np.ndarray) -> None:
    paths = plots.cluster_member_pdfs(images[:5], np.full(5, -1), tmp_path / "m")
    assert [p.name for p in paths] == ["cluster_noise_of_0.pdf"]
    assert pdf_pages(paths[0]) == 1


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([0, 1, -2]), r">= -1"),
        (np.array([0.5, 1.0, 2.0]), r"integers"),
        (np.zeros((3, 1), dtype=int), r"one-dimensional"),
    ],
)
def test_bad_labels(tmp_path: Path, labels: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plots.cluster_member_pdfs(blobs(3), labels, tmp_path / "m")
    with pytest.raises(ValueError, match=message):
        plots.cluster_sizes(labels, tmp_path / "s.png")
    assert list(tmp_path.iterdir()) == []


def test_bad_images(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"shape \(N, height, width, 3\)"):
        plots.cluster_summary(np.zeros((4, 8, 8, 2)), np.zeros(4, dtype=int), tmp_path / "s.png")
    assert list(tmp_path.iterdir()) == []


# --- summary and sizes -----------------------------------------------------------


def test_cluster_summary_png_and_pdf(tmp_path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    png = plots.cluster_summary(images, labels, tmp_path / "summary.png", title="test",
                                ids=np.arange(len(labels)))
    w, h = assert_png(png)
    assert 300 < w < 3000 and 300 < h < 3000
    pdf = plots.cluster_summary(images, labels, tmp_path / "summary.pdf", n_examples=3)
    assert_pdf(pdf)
    assert pdf_pages(pdf) == 1
    no_temp_files(tmp_path)


def test_cluster_summary_from_the_examples_images_only(tmp_path: Path, images: np.ndarray,
                                                       labels: np.ndarray) -> None:
    """Given only the picked examples' images (image_rows), the figure is the same, byte for byte."""
    ids = np.array([f"g{i}" for i in range(len(labels))])
    full = plots.cluster_summary(images, labels, tmp_path / "full.png", n_examples=2, seed=3, ids=ids)
    rows = np.unique(np.concatenate(list(plots.pick_examples(labels, 2, seed=3).values())))
    assert len(rows) < len(labels)
    part = plots.cluster_summary(images[rows], labels, tmp_path / "part.png", n_examples=2, seed=3,
                                 ids=ids, image_rows=rows)
    assert full.read_bytes() == part.read_bytes()
    with pytest.raises(ValueError, match="lacks the examples"):
        plots.cluster_summary(images[rows[1:]], labels, tmp_path / "bad.png", n_examples=2, seed=3,
                              image_rows=rows[1:])
    assert not (tmp_path / "bad.png").exists()


def test_cluster_summary_many_clusters_stays_bounded(tmp_path: Path) -> None:
    imgs = blobs(400, seed=1, size=16)
    lab = np.arange(400) % 177
    path = plots.cluster_summary(imgs, lab, tmp_path / "ap.png", n_examples=3)
    w, h = assert_png(path)
    # 177 rows -> 3 blocks of 59 rows of 0.4 inch at 110 dpi
    assert h < 3000
    assert w > 3 * 110 * (1.3 + 3 * 0.4) * 0.9


def test_cluster_summary_bad_suffix_writes_nothing(tmp_path: Path, images: np.ndarray,
                                                   labels: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"\.jpg"):
        plots.cluster_summary(images, labels, tmp_path / "summary.jpg")
    assert list(tmp_path.iterdir()) == []


def test_cluster_sizes(tmp_path: Path, labels: np.ndarray) -> None:
    assert_png(plots.cluster_sizes(labels, tmp_path / "sizes.png", title="t"))
    assert_png(plots.cluster_sizes(np.arange(600) % 177, tmp_path / "many.png"))
    assert_pdf(plots.cluster_sizes(labels, tmp_path / "sizes.pdf"))
    no_temp_files(tmp_path)


# --- dendrogram -----------------------------------------------------------------------


def test_dendrogram_with_images(tmp_path: Path, images: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(len(images), 12)) + np.repeat(np.eye(4, 12) * 6, [30, 30, 30, 40], axis=0)
    z = plots.dendrogram_with_images(feats, images, tmp_path / "dendro.png", n_leaves=16, title="t")
    assert z.shape == (len(images) - 1, 4)
    assert z[-1, 3] == len(images)
    assert np.all(np.diff(z[:, 2]) >= 0)
    w, h = assert_png(tmp_path / "dendro.png")
    assert w >= 900 and h >= 700
    z2 = plots.dendrogram_with_images(feats, images, tmp_path / "dendro.pdf", n_image_levels=2)
    assert np.array_equal(z, z2)
    assert_pdf(tmp_path / "dendro.pdf")
    no_temp_files(tmp_path)


def test_dendrogram_over_micro_clusters(tmp_path: Path, images: np.ndarray) -> None:
    """At scale the tree is drawn over weighted micro-clusters (the ward job's scalable route):
    unit weights give scipy's own tree; with micro-clusters the counts are galaxies."""
    from scipy.cluster.hierarchy import linkage

    from galclust.methods._scale import microclusters
    from galclust.methods._ward import ward_linkage

    rng = np.random.default_rng(0)
    feats = rng.normal(size=(len(images), 12)) + np.repeat(np.eye(4, 12) * 6, [30, 30, 30, 40], axis=0)
    exact = linkage(feats, "ward")
    np.testing.assert_allclose(ward_linkage(feats, np.ones(len(feats))), exact, rtol=1e-12, atol=1e-12)
    centres, weights, assign = microclusters(feats.astype(np.float32), 40, 0)
    units = (ward_linkage(centres, weights), assign)
    z = plots.dendrogram_with_images(feats, images, tmp_path / "micro.png", n_leaves=16, units=units)
    assert z.shape == (len(centres) - 1, 4) and z[-1, 3] == len(centres)
    assert_png(tmp_path / "micro.png")
    with pytest.raises(ValueError, match="assignments"):
        plots.dendrogram_with_images(feats, images, tmp_path / "bad.png", units=(units[0], assign[:-1]))


def test_dendrogram_small_and_errors(tmp_path: Path) -> None:
    imgs = blobs(5, size=16)
    z = plots.dendrogram_with_images(np.arange(10.0).reshape(5, 2) ** 2, imgs, tmp_path / "d.png")
    assert z.shape == (4, 4)
    with pytest.raises(ValueError, match=r"5 images, 4 rows of features"):
        plots.dendrogram_with_images(np.zeros((4, 2)), imgs, tmp_path / "e.png")
    bad = np.ones((5, 2))
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        plots.dendrogram_with_images(bad, imgs, tmp_path / "e.png")
    assert [p.name for p in tmp_path.iterdir()] == ["d.png"]


# --- heat maps and curves ------------------------------------------------------------------


def test_score_heatmap(tmp_path: Path) -> None:
    names = ["kmeans_k10", "agglomerative_ward", "ap"]
    m = np.array([[1.0, 0.5, np.nan], [0.5, 1.0, 0.2], [0.3, 0.2, 1.0]])
    w_small, _ = assert_png(plots.score_heatmap(m, names, names, tmp_path / "small.png", title="ARI"))
    many = [f"run_{i}" for i in range(30)]
    w_big, _ = assert_png(plots.score_heatmap(np.random.default_rng(0).random((30, 30)), many, many,
                                              tmp_path / "big.png"))
    assert w_big > w_small
    assert_pdf(plots.score_heatmap(m[:2], names[:2], names, tmp_path / "rect.pdf"))
    with pytest.raises(ValueError, match=r"2 row names x 3 column names"):
        plots.score_heatmap(m, names[:2], names, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()
    no_temp_files(tmp_path)


def test_curves(tmp_path: Path) -> None:
    ks = np.arange(2, 21)
    assert_png(plots.elbow(ks, 1000.0 / ks, tmp_path / "elbow.png", title="elbow"))
    ev = np.r_[np.zeros(4), np.linspace(0.5, 1.0, 30)]
    assert_png(plots.eigengap(ev, tmp_path / "eigengap.png"))
    ratio = np.sort(np.random.default_rng(0).dirichlet(np.ones(60)))[::-1][:40]
    assert_png(plots.pca_variance(ratio, tmp_path / "pca.png", label="37632 -> 40"))
    hist = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "lr": [1e-3, 1e-3, 5e-4]}
    assert_png(plots.loss_history(hist, tmp_path / "loss.png"))
    # non-positive values fall back to a linear axis; no learning rate is fine
    assert_pdf(plots.loss_history({"loss": [0.5, 0.0, -0.1]}, tmp_path / "loss.pdf"))
    no_temp_files(tmp_path)


def test_curves_errors_write_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="differ in length"):
        plots.elbow([2, 3, 4], [1.0, 2.0], tmp_path / "e.png")
    with pytest.raises(ValueError, match="empty"):
        plots.loss_history({}, tmp_path / "l.png")
    with pytest.raises(ValueError, match="besides the learning rate"):
        plots.loss_history({"lr": [0.1]}, tmp_path / "l.png")
    with pytest.raises(ValueError, match=">= 0"):
        plots.pca_variance([0.5, -0.1], tmp_path / "p.png")
    assert list(tmp_path.iterdir()) == []


def test_save_figure_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    fig.add_subplot().plot([0, 1])

    def boom(*args: object, **kwargs: object) -> None:
        Path(args[0]).write_bytes(b"partial")
        raise OSError("interrupted")

    monkeypatch.setattr(fig, "savefig", boom)
    with pytest.raises(OSError, match="interrupted"):
        plots.save_figure(fig, tmp_path / "f.png")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="suffix"):
        plots.save_figure(Figure(), tmp_path / "f.svg")
    assert list(tmp_path.iterdir()) == []


def test_member_pdfs_of_a_thousand_galaxies(tmp_path: Path) -> None:
    # its speed is measured in bench/bench_limits.py (no wall-time assert in tests)
    imgs = blobs(1000, seed=2)
    lab = np.random.default_rng(0).integers(0, 10, 1000)
    paths = plots.cluster_member_pdfs(imgs, lab, tmp_path / "m")
    assert len(paths) == 10
    assert all(Path(p).stat().st_size > 0 for p in paths)
