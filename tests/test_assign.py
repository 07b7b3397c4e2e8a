"""Placing new galaxies in existing clusterings: agreement on held-out points, outliers, files."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score

from galclust.assign import (
    CentroidAssigner,
    HDBSCANAssigner,
    KNNAssigner,
    assigner_for,
    load_assigner,
    write_assignments,
)
from galclust.methods import METHODS
from galclust.neighbours import NeighbourIndex
from galclust.tables import read_table


def _blobs(n: int = 1500, d: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four well separated blobs (centres 20 apart, unit scatter) and their true classes."""
    rng = np.random.default_rng(seed)
    centres = np.eye(4, d) * 20.0
    truth = rng.integers(0, 4, n)
    return (centres[truth] + rng.normal(size=(n, d))).astype(np.float32), truth


@pytest.fixture(scope="module")
def split():
    X, truth = _blobs()
    return X[:1200], truth[:1200], X[1200:], truth[1200:]


def _far(d: int = 8) -> np.ndarray:
    return np.full((3, d), 100.0, np.float32) * np.array([[1], [-1], [0.5]], np.float32)


def test_nearest_centroid_agrees_with_kmeans_on_held_out_points(split):
    Xr, _, Xn, _ = split
    km = KMeans(4, n_init=4, random_state=0).fit(Xr)
    a = CentroidAssigner().fit(Xr, km.labels_, km.cluster_centers_).predict(Xn)
    np.testing.assert_array_equal(a.labels, km.predict(Xn))
    assert a.outlier.mean() < 0.05  # the 99th percentile of the reference: about 1% beyond it
    assert np.all((a.confidence > 0.5) & (a.confidence <= 1))
    far = CentroidAssigner().fit(Xr, km.labels_, km.cluster_centers_).predict(_far())
    assert far.outlier.all()


@pytest.mark.parametrize("clusterer", [
    AgglomerativeClustering(4, linkage="ward"),
    DBSCAN(eps=3.0, min_samples=5),
])
def test_knn_vote_agrees_with_the_clustering_on_held_out_points(split, clusterer):
    Xr, _, Xn, _ = split
    X = np.concatenate([Xr, Xn])
    full = clusterer.fit_predict(X)  # the clustering had it seen the new points too
    a = KNNAssigner(k=10).fit(Xr, full[: len(Xr)]).predict(Xn)
    assert adjusted_rand_score(full[len(Xr):], a.labels) > 0.99
    assert np.mean(a.confidence == 1.0) > 0.95
    assert a.outlier.mean() < 0.05  # the 99th percentile of the reference: about 1% beyond it
    assert KNNAssigner(k=10).fit(Xr, full[: len(Xr)]).predict(_far()).outlier.all()


def test_knn_vote_breaks_ties_by_distance_then_label():
    X = np.array([[0.0], [1.0], [10.0], [12.0]], np.float32)
    labels = np.array([3, 1, 2, 0])
    a = KNNAssigner(k=2, scale_sample=4).fit(X, labels).predict(np.array([[0.4], [11.0]], np.float32))
    np.testing.assert_array_equal(a.labels, [3, 0])  # the nearer voter; at equal distance the lower label
    np.testing.assert_allclose(a.confidence, [0.5, 0.5])


def test_hdbscan_approximate_predict_and_noise(split):
    Xr, _, Xn, truth_n = split
    ref = HDBSCAN(min_cluster_size=20, min_samples=5, copy=True).fit_predict(Xr)
    assert len(set(ref) - {-1}) == 4
    assigner = HDBSCANAssigner(5).fit(Xr, ref)
    a = assigner.predict(Xn)
    clustered = a.labels != -1
    assert clustered.mean() > 0.95
    assert adjusted_rand_score(truth_n[clustered], a.labels[clustered]) > 0.99
    far = assigner.predict(_far())
    np.testing.assert_array_equal(far.labels, [-1, -1, -1])
    assert far.outlier.all()


def test_assigner_for_chooses_the_route(split):
    Xr, truth_r, _, _ = split
    assert isinstance(assigner_for(METHODS["kmeans"], Xr, truth_r), CentroidAssigner)
    assert isinstance(assigner_for(METHODS["birch"], Xr, truth_r, centres=np.eye(4, 8) * 20), CentroidAssigner)
    assert isinstance(assigner_for(METHODS["hdbscan"], Xr, truth_r, params={"min_samples": 4}), HDBSCANAssigner)
    assert isinstance(assigner_for(METHODS["spectral"], Xr, truth_r, k=5), KNNAssigner)


@pytest.mark.parametrize("kind", ["kmeans", "spectral", "hdbscan"])
def test_save_load_round_trip_and_table(tmp_path, split, kind):
    Xr, truth_r, Xn, _ = split
    index = NeighbourIndex(exact_max_n=500, seed=1).fit(Xr)  # HNSW route, shared index
    assigner = assigner_for(METHODS[kind], Xr, truth_r, index=index, params={"min_samples": 5})
    before = assigner.predict(Xn)
    if kind == "kmeans":
        assigner.save(tmp_path / "a")
    else:
        index.save(tmp_path / "index")
        assigner.save(tmp_path / "a", index_path=tmp_path / "index")
        assert not (tmp_path / "a" / "index").exists()
    assert not list((tmp_path / "a").glob("*.pkl"))
    after = load_assigner(tmp_path / "a").predict(Xn)
    for field in ("labels", "confidence", "distance", "outlier"):
        np.testing.assert_array_equal(getattr(before, field), getattr(after, field))
    ids = [f"new{i}" for i in range(len(Xn))]
    write_assignments(tmp_path / "assigned.ecsv", ids, after, {"clustering": kind})
    table = read_table(tmp_path / "assigned.ecsv")
    assert table.colnames == ["id", "label", "confidence", "distance", "outlier"]
    assert table.meta["clustering"] == kind
    np.testing.assert_array_equal(table["label"], after.labels)


def test_errors_name_the_problem(tmp_path, split):
    Xr, truth_r, _, _ = split
    with pytest.raises(ValueError, match="one value per reference galaxy"):
        CentroidAssigner().fit(Xr, truth_r[:5])
    with pytest.raises(ValueError, match="no clusters"):
        CentroidAssigner().fit(Xr, np.full(len(Xr), -1))
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        load_assigner(tmp_path)
