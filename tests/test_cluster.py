"""Tests of galclust.cluster (methods, scores, Laplacian spectrum) and galclust.compare."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from galclust.cluster import NOISE, fit_predict, laplacian_spectrum, scores
from galclust.compare import against, align, pairwise
from galclust.config import ClusteringJob
from galclust.errors import GalclustError

CENTERS = [[0, 0, 0, 0], [10, 0, 0, 0], [0, 10, 0, 0]]

JOBS = [
    ClusteringJob("kmeans-k3", "kmeans", {"k": 3, "n_init": 10}),
    ClusteringJob("agglomerative-k3", "agglomerative", {"k": 3}),
    ClusteringJob("affinity_propagation-d0.9", "affinity_propagation", {"damping": 0.9}),
    ClusteringJob("dbscan-eps1.5", "dbscan", {"eps": 1.5, "min_samples": 5}),
    ClusteringJob("hdbscan-m10", "hdbscan", {"min_cluster_size": 10}),
    ClusteringJob("spectral-k3", "spectral", {"k": 3, "n_neighbors": 10}),
]


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=300, centers=CENTERS, cluster_std=0.8, random_state=1)
    return X.astype(np.float32), y


@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_every_method_recovers_blobs(blobs, job):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. spectral: k-NN graph not fully connected
        result = fit_predict(X, job, seed=0)
    labels = result.labels
    assert labels.dtype == np.int64
    assert labels.shape == (len(X),)
    assert adjusted_rand_score(y, labels) > 0.9
    assert len(set(labels) - {NOISE}) == 3
    assert result.info["route"] == "exact"


@pytest.mark.parametrize("name", ["kmeans-k3", "spectral-k3"])
def test_same_seed_same_labels(blobs, name):
    X, _ = blobs
    # overlapping blobs, so that the result does depend on the random start
    Xo, _ = make_blobs(n_samples=250, centers=6, cluster_std=3.0, random_state=3)
    job = next(j for j in JOBS if j.name == name)
    job = ClusteringJob(job.name.replace("k3", "k5"), job.method, {**job.params, "k": 5})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fit_predict(Xo, job, seed=7).labels
        b = fit_predict(Xo, job, seed=7).labels
    np.testing.assert_array_equal(a, b)
    assert len(set(a)) == 5


def test_methods_pass_seed_and_params_to_scikit_learn(blobs, monkeypatch):
    """Each method builds its scikit-learn estimator from the job's params and the seed."""
    from sklearn import cluster as skc

    seen = {}

    def spy(cls):
        def make(**kw):
            seen[cls.__name__] = kw
            return cls(**kw)
        # the methods import their estimator when they fit (scikit-learn is not imported with
        # the registry), so the spy replaces it where they look it up
        monkeypatch.setattr(skc, cls.__name__, make)

    spy(skc.KMeans)
    spy(skc.AffinityPropagation)
    spy(skc.SpectralClustering)
    X, _ = blobs
    fit_predict(X, ClusteringJob("kmeans-k4", "kmeans", {"k": 4, "n_init": 3}), seed=11)
    fit_predict(X, ClusteringJob("affinity_propagation-d0.8", "affinity_propagation",
                                 {"damping": 0.8, "max_iter": 50}), seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_predict(X, ClusteringJob("spectral-k6", "spectral", {"k": 6}), seed=2)
    assert seen["KMeans"] == {"n_clusters": 4, "n_init": 3, "random_state": 11}
    assert seen["AffinityPropagation"] == {"damping": 0.8, "max_iter": 50, "convergence_iter": 15,
                                           "random_state": 5}
    assert (seen["SpectralClustering"]["n_neighbors"], seen["SpectralClustering"]["random_state"]) == (10, 2)


def test_unknown_method():
    with pytest.raises(KeyError, match="x"):
        fit_predict(np.zeros((5, 2)), ClusteringJob("x-k2", "x", {"k": 2}), 0)


def test_too_few_rows(blobs):
    X, _ = blobs
    with pytest.raises(GalclustError, match="kmeans-k3.*too few"):
        fit_predict(X[:2], JOBS[0], 0)


# --- scores --------------------------------------------------------------------------


def test_scores_keys_and_values(blobs):
    X, y = blobs
    result = fit_predict(X, JOBS[0], 0)
    labels = result.labels
    s = scores(X, labels, inertia=result.info["inertia"])
    assert set(s) == {
        "n_galaxies", "n_clusters", "n_noise", "silhouette", "calinski_harabasz", "davies_bouldin", "inertia",
        "largest_fraction",
    }
    assert s["n_galaxies"] == 300 and s["n_clusters"] == 3 and s["n_noise"] == 0
    assert 0.7 < s["silhouette"] <= 1
    assert s["calinski_harabasz"] > 100
    assert 0 < s["davies_bouldin"] < 0.5
    assert s["inertia"] == pytest.approx(result.info["inertia"]) and s["inertia"] > 0
    # without a method defining inertia, it is NaN
    assert math.isnan(scores(X, y)["inertia"])


def test_scores_single_cluster_is_nan(blobs):
    X, _ = blobs
    s = scores(X, np.zeros(len(X), dtype=int))
    assert s["n_clusters"] == 1
    for key in ("silhouette", "calinski_harabasz", "davies_bouldin"):
        assert math.isnan(s[key]), key


def test_scores_every_point_its_own_cluster_is_nan():
    X = np.random.default_rng(0).random((5, 2))
    assert math.isnan(scores(X, np.arange(5))["silhouette"])


def test_scores_exclude_noise(blobs):
    X, y = blobs
    clean = scores(X, y)
    noisy_labels = y.copy()
    noisy_labels[:20] = NOISE
    noisy_X = X.copy()
    noisy_X[:20] = 1000.0  # would wreck every score if it were counted
    s = scores(noisy_X, noisy_labels)
    assert s["n_noise"] == 20
    assert s["n_clusters"] == 3
    assert s["n_galaxies"] == 300
    ref = scores(X[20:], y[20:])
    for key in ("silhouette", "calinski_harabasz", "davies_bouldin"):
        assert s[key] == pytest.approx(ref[key])
    assert s["silhouette"] == pytest.approx(clean["silhouette"], abs=0.05)


def test_scores_all_noise():
    X = np.random.default_rng(0).random((10, 2))
    s = scores(X, np.full(10, NOISE))
    assert s["n_clusters"] == 0 and s["n_noise"] == 10
    assert math.isnan(s["silhouette"])


# --- Laplacian spectrum ----------------------------------------------------------------


def test_laplacian_spectrum_gap_after_third(blobs):
    X, _ = blobs
    values = laplacian_spectrum(X, n_neighbors=10, n_eigenvalues=10)
    assert values.shape == (10,)
    assert np.all(np.diff(values) >= -1e-12)  # sorted ascending
    assert np.all(values >= 0)
    gaps = np.diff(values)
    assert int(np.argmax(gaps)) + 1 == 3  # largest gap right after the 3rd eigenvalue
    np.testing.assert_allclose(values[:3], 0, atol=1e-6)  # three connected components


def test_laplacian_spectrum_few_rows():
    X, _ = make_blobs(n_samples=8, centers=2, random_state=0)
    values = laplacian_spectrum(X, n_neighbors=3, n_eigenvalues=20)
    assert len(values) == 6  # capped at n - 2


# --- compare -------------------------------------------------------------------------


def test_align_common_ids_in_one_order():
    order, aligned = align(
        {
            "a": (np.array(["g3", "g1", "g2", "g9"]), np.array([3, 1, 2, 9])),
            "b": (np.array(["g1", "g2", "g3"]), np.array([10, 20, 30])),
            "c": (np.array(["g2", "g3", "g1", "g4"]), np.array([200, 300, 100, 400])),
        }
    )
    assert list(order) == ["g1", "g2", "g3"]
    assert list(aligned["a"]) == [1, 2, 3]
    assert list(aligned["b"]) == [10, 20, 30]
    assert list(aligned["c"]) == [100, 200, 300]


def test_align_disjoint():
    order, aligned = align({"a": (np.array(["x"]), np.array([1])), "b": (np.array(["y"]), np.array([2]))})
    assert len(order) == 0 and len(aligned["a"]) == 0


def test_pairwise_symmetric_with_unit_diagonal():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 4, 200)
    labelings = {
        "base": base,
        "renamed": (base + 1) % 4,  # same partition, other names
        "random": rng.integers(0, 4, 200),
        "coarse": base // 2,
    }
    ari, ami = pairwise(labelings)
    for m in (ari, ami):
        assert m.shape == (4, 4)
        np.testing.assert_allclose(m, m.T)
        np.testing.assert_allclose(np.diag(m), 1.0)
    assert ari[0, 1] == pytest.approx(1.0) and ami[0, 1] == pytest.approx(1.0)
    assert abs(ari[0, 2]) < 0.1
    assert 0.2 < ari[0, 3] < 0.9
    # scored two pairs at a time: the same matrices, bit for bit
    ari2, ami2 = pairwise(labelings, threads=2)
    assert ari2.tobytes() == ari.tobytes() and ami2.tobytes() == ami.tobytes()


def test_against_shapes_and_values():
    truth = {"klass": np.repeat([0, 1, 2], 10), "other": np.tile([0, 1], 15)}
    labelings = {"perfect": np.repeat([5, 6, 7], 10), "half": np.repeat([0, 0, 1], 10), "x": np.tile([1, 0], 15)}
    ari, ami = against(labelings, truth)
    assert ari.shape == ami.shape == (3, 2)
    assert ari[0, 0] == pytest.approx(1.0) and ami[0, 0] == pytest.approx(1.0)
    assert ari[2, 1] == pytest.approx(1.0)
    assert ari[1, 0] < 1.0
    ari1, _ = against({"only": labelings["perfect"]}, {"klass": truth["klass"]})
    assert ari1.shape == (1, 1)


def test_degenerate_clusterings_are_named():
    from galclust.cluster import degenerate

    X = np.random.default_rng(0).normal(size=(100, 2))
    assert degenerate(scores(X, np.full(100, -1))) == "100% noise"
    assert degenerate(scores(X, np.r_[np.zeros(95, int), np.ones(5, int)])) == "one cluster holds 95%"
    assert degenerate(scores(X, np.r_[np.zeros(50, int), np.ones(50, int)])) is None
    assert degenerate(scores(X, np.zeros(100, int))) == "a single cluster"


def test_laplacian_spectrum_of_a_large_set_uses_a_seeded_sample():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 6, (4, 8))
    X = (centres[rng.integers(0, 4, 3000)] + rng.normal(size=(3000, 8))).astype(np.float32)
    sampled = laplacian_spectrum(X, n_neighbors=10, n_eigenvalues=8, seed=1, sample=1000)
    assert np.array_equal(sampled, laplacian_spectrum(X, n_neighbors=10, n_eigenvalues=8, seed=1, sample=1000))
    # four separated clusters: four (near) zero eigenvalues and the gap after them, in the sample too
    assert np.all(sampled[:4] < 1e-6) and sampled[4] > 1e-3


def test_hdbscan_fractional_min_cluster_size_resolves_against_n():
    from galclust.methods import METHODS
    from galclust.methods.hdbscan import min_cluster_size, min_samples

    assert min_cluster_size({"min_cluster_size": 0.05}, 2000) == 100
    assert min_cluster_size({"min_cluster_size": 0.02}, 30) == 2  # never below 2
    assert min_cluster_size({"min_cluster_size": 25}, 30) == 25  # a count stays a count
    assert min_samples({"min_cluster_size": 0.05, "min_samples": None}, 2000) == 100
    assert min_samples({"min_cluster_size": 0.05, "min_samples": 10}, 2000) == 10
    assert min_samples({"min_cluster_size": 0.05, "min_samples": 10}, 9) == 8  # a tiny folder

    X, y = make_blobs(n_samples=300, centers=3, cluster_std=0.5, random_state=0)
    result = METHODS["hdbscan"].fit(X, {"min_cluster_size": 0.2, "min_samples": 10}, 0)
    assert result.info["min_cluster_size"] == 60 and result.info["min_samples"] == 10
    assert adjusted_rand_score(y, result.labels) > 0.95
