"""The neighbour index: exact answers, HNSW recall, save/load round trips, the top-k table."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from galclust.neighbours import (
    NeighbourIndex,
    all_neighbours,
    read_neighbour_table,
    write_neighbour_table,
)
from galclust.tables import read_table


def _data(n: int = 3000, d: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(10, d))
    return (centres[rng.integers(0, 10, n)] + rng.normal(size=(n, d))).astype(np.float32)


def _brute(X: np.ndarray, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    d = np.sqrt(((Q[:, None, :].astype(np.float64) - X[None, :, :]) ** 2).sum(-1))
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, idx, 1), idx


def test_exact_route_matches_brute_force_with_small_blocks():
    X = _data(500, 8)
    Q = _data(40, 8, seed=1)
    index = NeighbourIndex(max_block_bytes=4 * 500 * 3).fit(X)  # 3 queries per block
    assert index.route_ == "exact"
    dist, idx = index.query(Q, 7)
    ref_d, ref_i = _brute(X, Q, 7)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-5)


def test_cosine_metric_is_one_minus_cosine_on_both_routes():
    X = _data(800, 8)
    Q = _data(20, 8, seed=2)
    cos = (Q @ X.T) / np.linalg.norm(Q, axis=1)[:, None] / np.linalg.norm(X, axis=1)[None, :]
    expect = np.sort(1.0 - cos, axis=1)[:, :5]
    for exact_max_n in (10_000, 10):
        dist, idx = NeighbourIndex("cosine", exact_max_n=exact_max_n, ef=200).fit(X).query(Q, 5)
        np.testing.assert_allclose(dist, expect, atol=1e-4)


def test_hnsw_recall_against_exact():
    X = _data(4000, 16)
    Q = _data(200, 16, seed=3)
    exact = NeighbourIndex().fit(X)
    hnsw = NeighbourIndex(exact_max_n=1000, M=16, ef_construction=100, ef=50, seed=0).fit(X)
    assert (exact.route_, hnsw.route_) == ("exact", "hnsw")
    _, e = exact.query(Q, 10)
    d, h = hnsw.query(Q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(e, h, strict=True)])
    assert recall >= 0.95, recall
    # distances are Euclidean (not hnswlib's squared L2) and sorted
    np.testing.assert_allclose(d[:, 0], np.linalg.norm(X[h[:, 0]] - Q, axis=1), rtol=1e-4)
    assert np.all(np.diff(d, axis=1) >= 0)


@pytest.mark.parametrize("exact_max_n", [10_000, 100])
def test_save_load_round_trip(tmp_path, exact_max_n):
    X = _data(1000, 12)
    ids = np.array([f"gal{i:04d}" for i in range(len(X))])
    index = NeighbourIndex(exact_max_n=exact_max_n, seed=3).fit(X, ids)
    index.save(tmp_path / "index")
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == sorted(
        ["index.json", "ids.npy", "features.npy" if index.route_ == "exact" else "hnsw.bin"])
    loaded = NeighbourIndex.load(tmp_path / "index")
    assert loaded.route_ == index.route_ and loaded.get_params() == index.get_params()
    np.testing.assert_array_equal(loaded.ids_, ids)
    for a, b in zip(index.query(X[:50], 5), loaded.query(X[:50], 5), strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.row_of("gal0123") == 123
    np.testing.assert_allclose(loaded.vectors([123]), X[123:124])
    with pytest.raises(KeyError, match="'nope' is not in the index"):
        loaded.row_of("nope")


def test_hnsw_build_with_one_thread_is_reproducible(tmp_path):
    X = _data(2000, 8)
    digests = []
    for rep in range(2):
        NeighbourIndex(exact_max_n=10, seed=5).fit(X).save(tmp_path / f"i{rep}")
        digests.append(hashlib.sha256((tmp_path / f"i{rep}" / "hnsw.bin").read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_load_names_the_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nothing")):
        NeighbourIndex.load(tmp_path / "nothing")


def test_all_neighbours_leave_the_galaxy_itself_out(tmp_path):
    X = _data(600, 6)
    ids = np.array([f"g{i}" for i in range(len(X))])
    index = NeighbourIndex().fit(X, ids)
    dist, idx = all_neighbours(index, X, 5, block_rows=64)
    assert idx.shape == (600, 5)
    assert not np.any(idx == np.arange(600)[:, None])
    ref_d, ref_i = _brute(X, X, 6)
    np.testing.assert_array_equal(idx, ref_i[:, 1:])
    np.testing.assert_allclose(dist, ref_d[:, 1:], rtol=1e-5)

    write_neighbour_table(tmp_path / "nn.zarr", ids, dist, idx)
    r_ids, r_d, r_i = read_neighbour_table(tmp_path / "nn.zarr")
    np.testing.assert_array_equal(r_ids, ids)
    np.testing.assert_array_equal(r_i, idx)
    np.testing.assert_array_equal(r_d, dist)

    write_neighbour_table(tmp_path / "nn.ecsv", ids, dist, idx)
    table = read_table(tmp_path / "nn.ecsv")
    assert table.colnames == ["id", "rank", "neighbour_id", "distance"]
    assert len(table) == 600 * 5
    assert list(table["rank"][:5]) == [1, 2, 3, 4, 5]
    assert table["neighbour_id"][0] == ids[idx[0, 0]]


def test_bad_inputs_are_named():
    X = _data(50, 4)
    with pytest.raises(ValueError, match="2-D"):
        NeighbourIndex().fit(X[0])
    with pytest.raises(ValueError, match="non-finite"):
        NeighbourIndex().fit(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="metric"):
        NeighbourIndex("manhattan")
    index = NeighbourIndex().fit(X)
    with pytest.raises(ValueError, match="features"):
        index.query(X[:, :3], 2)
    with pytest.raises(ValueError, match="k must be"):
        index.query(X, 51)
    with pytest.raises(RuntimeError, match="not fitted"):
        NeighbourIndex().query(X, 2)
