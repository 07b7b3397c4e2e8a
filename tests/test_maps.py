"""Map figures (clusters, truth, thumbnails), the BIC/AIC plot and clusters against physical
parameters: files written, one thumbnail per occupied cell, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table
from PIL import Image

from galclust import demo
from galclust.errors import ConfigError
from galclust.plots.information import information_criteria
from galclust.plots.maps import cluster_maps, grid_cells, pick_thumbnails, thumbnail_map, truth_maps
from galclust.plots.physical import physical_columns, physical_pairs


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray, Table]:
    cat = demo.draw_catalog(600, seed=5)
    rng = np.random.default_rng(0)
    klass = np.searchsorted(np.array(sorted(set(cat["klass"]))), np.asarray(cat["klass"]))
    xy = rng.normal(size=(600, 2)) + 4.0 * np.stack([np.cos(klass), np.sin(klass)], axis=1)
    labels = klass.astype(np.int64)
    labels[::17] = -1  # some noise
    return xy, labels, cat


def _png(path: Path) -> tuple[int, int]:
    assert path.exists() and path.stat().st_size > 1000
    with Image.open(path) as im:
        return im.size


def test_cluster_and_truth_maps(tmp_path, sample) -> None:
    xy, labels, cat = sample
    out = cluster_maps(xy, {"kmeans-k6": labels, "dbscan": np.where(labels > 2, labels, -1), "one": np.zeros(600, int)},
                       tmp_path / "clusters.png", "tSNE-2")
    assert out == tmp_path / "clusters.png"
    _png(out)
    lam = np.ma.masked_array(np.asarray(cat["lambda_r"]), mask=np.arange(600) % 50 == 0)
    _png(truth_maps(xy, {"klass": cat["klass"], "lambda_r": lam, "n_stars": cat["n_stars"]}, tmp_path / "truth.png"))
    with pytest.raises(ValueError, match="3 labels for 600"):
        cluster_maps(xy, {"bad": np.zeros(3, int)}, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_same_inputs_same_bytes(tmp_path, sample) -> None:
    xy, labels, _ = sample
    a = cluster_maps(xy, {"a": labels}, tmp_path / "a.png").read_bytes()
    assert cluster_maps(xy, {"a": labels}, tmp_path / "b.png").read_bytes() == a


def test_pick_thumbnails_one_per_occupied_cell(sample) -> None:
    xy, _, _ = sample
    grid = (12, 9)
    row, col, centres = grid_cells(xy, grid)
    cells, chosen = pick_thumbnails(xy, grid, seed=1)
    occupied = np.unique(row * grid[1] + col)
    np.testing.assert_array_equal(cells, occupied)  # exactly one per occupied cell
    assert len(np.unique(chosen)) == len(chosen)
    for c, i in zip(cells.tolist(), chosen.tolist()):
        members = np.flatnonzero(row * grid[1] + col == c)
        centre = centres[divmod(c, grid[1])]
        span = (xy.max(0) - xy.min(0)) / np.array([grid[1], grid[0]])
        d = (((xy[members] - centre) / span) ** 2).sum(1)
        assert i in members and d[members.tolist().index(i)] == d.min()
    again = pick_thumbnails(xy, grid, seed=1)
    np.testing.assert_array_equal(again[1], chosen)


def test_pick_thumbnails_ties_are_seeded() -> None:
    corners = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])  # all equidistant from the centre
    picks = [int(pick_thumbnails(corners, (1, 1), seed=s)[1][0]) for s in range(20)]
    assert len(set(picks)) > 1  # the tie is broken by the seed, not by position in the input
    assert picks == [int(pick_thumbnails(corners, (1, 1), seed=s)[1][0]) for s in range(20)]
    centred = np.vstack([corners, [[0.5, 0.5]]])
    assert {int(pick_thumbnails(centred, (1, 1), seed=s)[1][0]) for s in range(20)} == {4}


def test_thumbnail_map(tmp_path, sample) -> None:
    xy, labels, _ = sample
    rng = np.random.default_rng(1)
    images = rng.random((600, 20, 20, 3)).astype(np.float32)
    out = thumbnail_map(xy, images, tmp_path / "thumbs.png", grid=(10, 10), seed=0)
    _png(out)
    with pytest.raises(ValueError, match="differ in length"):
        thumbnail_map(xy, images[:10], tmp_path / "x.png")


def test_thumbnail_map_places_each_image_in_its_cell(tmp_path) -> None:
    # 4 points in the corners of a 2 x 2 grid, each image one flat colour: the picture
    # must show red top-left, green top-right, blue bottom-left, white bottom-right.
    xy = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], np.uint8)
    images = np.broadcast_to(colours[:, None, None, :], (4, 8, 8, 3)).copy()
    out = thumbnail_map(xy, images, tmp_path / "corners.png", grid=(2, 2), tile_pixels=40)
    with Image.open(out) as im:
        arr = np.asarray(im.convert("RGB")).astype(int)
    def count(c):
        return int((np.abs(arr - np.array(c)).sum(-1) < 30).sum())
    assert all(count(c) > 500 for c in colours.tolist())
    ys, xs = np.nonzero((np.abs(arr - [255, 0, 0]).sum(-1) < 30))
    yb, xb = np.nonzero((np.abs(arr - [0, 0, 255]).sum(-1) < 30))
    assert ys.mean() < yb.mean()  # red (y = 1) above blue (y = 0)
    yg, xg = np.nonzero((np.abs(arr - [0, 255, 0]).sum(-1) < 30))
    assert xs.mean() < xg.mean()  # red (x = 0) left of green (x = 1)


def test_information_criteria(tmp_path) -> None:
    _png(information_criteria([2, 3, 4, 5], [10.0, 8.0, 7.5, 9.0], tmp_path / "bic.png", aic=[9, 7, 6, 6.5]))
    with pytest.raises(ValueError, match="differ in length"):
        information_criteria([2, 3], [1.0], tmp_path / "x.png")


def test_physical_pairs_and_columns(tmp_path, sample) -> None:
    xy, labels, cat = sample
    ids = np.asarray(cat["id"])[::-1]  # any order: rows are matched by id
    labels = labels[::-1]
    _png(physical_pairs(cat, ids, labels, [("ellipticity", "lambda_r"), ("sersic_n", "lambda_r")],
                        tmp_path / "pairs.png"))
    _png(physical_columns(cat, ids, labels, ["lambda_r", "ellipticity"], tmp_path / "violins.png"))
    _png(physical_columns(cat, ids, labels, ["lambda_r"], tmp_path / "boxes.png", kind="box"))


def test_physical_missing_column_is_a_config_error(tmp_path, sample) -> None:
    _, labels, cat = sample
    with pytest.raises(ConfigError, match=r"report\.physical.*'stellar_mass'"):
        physical_pairs(cat, cat["id"], labels, [("ellipticity", "stellar_mass")], tmp_path / "p.png")
    with pytest.raises(ConfigError, match=r"report\.physical.*'sigma'"):
        physical_columns(cat, cat["id"], labels, ["lambda_r", "sigma"], tmp_path / "c.png")
    assert not (tmp_path / "p.png").exists() and not (tmp_path / "c.png").exists()
    with pytest.raises(ValueError, match="not in the catalog"):
        physical_pairs(cat, np.array(["nobody"] * len(labels)), labels, [("ellipticity", "lambda_r")], tmp_path / "p.png")


def test_a_large_map_is_fitted_on_a_sample_and_the_rest_placed_by_neighbours() -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from galclust.stages.maps import map_xy

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 8, (3, 10))
    truth = rng.integers(0, 3, 900)
    X = (centres[truth] + rng.normal(size=(900, 10))).astype(np.float32)
    settings = {"method": "tsne", "perplexity": 20, "n_neighbors": 10, "sample": 300}
    xy, how = map_xy(X, settings, seed=3)
    assert xy.shape == (900, 2) and "300" in how
    assert np.array_equal(xy, map_xy(X, settings, seed=3)[0])
    # sampled rows keep their fitted positions; the others fall among their own kind on the map
    rows = np.sort(np.random.default_rng(3).choice(900, size=300, replace=False))
    fitted, _ = map_xy(X[rows], {**settings, "sample": 1000}, seed=3)
    np.testing.assert_array_equal(xy[rows], fitted)
    assert adjusted_rand_score(truth, KMeans(3, n_init=4, random_state=0).fit_predict(xy)) > 0.95


def test_a_one_column_feature_set_is_mapped_on_a_line() -> None:
    """A 1-D view (a plugin reducer's, an LDA of two classes) has nothing to embed: t-SNE's PCA
    start cannot make two columns of it, so the map is the feature itself against zero."""
    from galclust.stages.maps import map_xy

    X = np.arange(12, dtype=np.float64).reshape(-1, 1)
    xy, how = map_xy(X, {"method": "tsne", "perplexity": 5, "n_neighbors": 5}, seed=0)
    assert xy.shape == (12, 2) and xy.dtype == np.float32
    assert np.array_equal(xy[:, 0], X[:, 0]) and not xy[:, 1].any()
    assert "on a line" in how
