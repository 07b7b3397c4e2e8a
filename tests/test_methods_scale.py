"""The per-method modules (galclust.methods.<name>): exact route equals today's
scikit-learn call bit for bit, the scalable route agrees with it, routes are chosen and
refused as configured."""

from __future__ import annotations

import importlib
import logging

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from galclust.config import validate_config
from galclust.errors import ConfigError
from galclust.methods._scale import canonical_labels, knn
from galclust.methods._ward import ward_cut

SEED = 3

#: method -> (params for a job on the mixture below)
PARAMS = {
    "kmeans": {"k": 6, "n_init": 4},
    "agglomerative": {"k": 6},
    "affinity_propagation": {"damping": 0.9, "max_iter": 200, "convergence_iter": 15},
    "dbscan": {"eps": 9.5, "min_samples": 5},
    "hdbscan": {"min_cluster_size": 25},
    "spectral": {"k": 6, "n_neighbors": 10},
}


def mixture(n: int, d: int = 16, k: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Separated isotropic Gaussian clusters, float32, with their true labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0, (k, d))
    truth = rng.integers(0, k, n)
    X = (centres[truth] + rng.normal(size=(n, d))).astype(np.float32)
    return X, truth


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return mixture(1500, d=16)


def module(name: str):
    return importlib.import_module(f"galclust.methods.{name}")


@pytest.mark.parametrize("name", list(PARAMS))
def test_method_entry(name: str) -> None:
    mod = module(name)
    expected = {
        "kmeans": ("k", "k"), "agglomerative": ("k", "k"), "affinity_propagation": ("damping", "d"),
        "dbscan": ("eps", "eps"), "hdbscan": ("min_cluster_size", "m"), "spectral": ("k", "k"),
    }[name]
    assert (mod.METHOD.name, mod.METHOD.setting, mod.METHOD.tag) == (name, *expected)
    assert mod.METHOD.fit is mod.fit and mod.METHOD.route is mod.route


def sklearn_reference(name: str, p: dict, seed: int):
    """The plain scikit-learn estimator each method was before routes existed (the reference
    study's affinity propagation on float32 included)."""
    from sklearn import cluster

    return {
        "kmeans": lambda: cluster.KMeans(n_clusters=p["k"], n_init=p.get("n_init", 10), random_state=seed),
        "agglomerative": lambda: cluster.AgglomerativeClustering(n_clusters=p["k"], linkage="ward"),
        "affinity_propagation": lambda: cluster.AffinityPropagation(
            damping=p["damping"], max_iter=p.get("max_iter", 200), convergence_iter=p.get("convergence_iter", 15),
            random_state=seed),
        "dbscan": lambda: cluster.DBSCAN(eps=p["eps"], min_samples=p.get("min_samples", 5)),
        "hdbscan": lambda: cluster.HDBSCAN(min_cluster_size=p["min_cluster_size"], copy=True),
        "spectral": lambda: cluster.SpectralClustering(n_clusters=p["k"], affinity="nearest_neighbors",
                                                       n_neighbors=p.get("n_neighbors", 10), random_state=seed,
                                                       assign_labels="kmeans"),
    }[name]()


@pytest.mark.parametrize("name", list(PARAMS))
def test_exact_route_is_todays_sklearn_call(name: str, data) -> None:
    X, _ = data
    params = PARAMS[name]
    result = module(name).fit(X, params, SEED)
    reference = sklearn_reference(name, dict(params), SEED).fit_predict(X)
    assert result.info["route"] == "exact"
    assert result.labels.dtype == np.int64
    np.testing.assert_array_equal(result.labels, np.asarray(reference, dtype=np.int64))


@pytest.mark.parametrize(
    ("name", "extra", "min_ari"),
    [
        ("kmeans", {"batch_size": 256}, 0.95),
        ("agglomerative", {"n_microclusters": 200}, 0.8),
        ("affinity_propagation", {"part_size": 200}, 0.9),  # exact AP in k-means parts
        ("affinity_propagation", {"n_microclusters": 300, "partition_max_n": 100}, 0.8),  # on micro-clusters
        ("spectral", {}, 0.8),
        ("dbscan", {}, 0.9),
        ("hdbscan", {}, 0.8),
    ],
)
def test_scalable_route_agrees_with_exact(name: str, extra: dict, min_ari: float, data, caplog) -> None:
    X, _ = data
    if name == "affinity_propagation":
        # AP's median preference splits 6 broad blobs arbitrarily (exact and scalable alike);
        # on many compact clusters its answer is well defined, and that is what must agree.
        X, _ = mixture(1500, d=16, k=30)
    mod = module(name)
    exact = mod.fit(X, PARAMS[name], SEED).labels
    params = {**PARAMS[name], **extra, "exact_max_n": 100}  # auto, forced scalable by size
    assert mod.route(params, len(X), X.shape[1]) == "scalable"
    with caplog.at_level(logging.INFO, logger="galclust.methods._scale"):
        result = mod.fit(X, params, SEED)
    assert result.info["route"] == "scalable"
    assert any("scalable route" in r.getMessage() for r in caplog.records)
    assert len(result.labels) == len(X) and result.labels.dtype == np.int64
    assert adjusted_rand_score(exact, result.labels) >= min_ari
    again = mod.fit(X, params, SEED).labels
    np.testing.assert_array_equal(result.labels, again)  # same seed, same labels


def test_ward_on_singletons_is_scipy_ward(data) -> None:
    X, _ = data
    X = X[:400]
    exact = module("agglomerative").fit(X, {"k": 5}, SEED).labels
    ours = ward_cut(X.astype(np.float64), np.ones(len(X)), 5)
    assert adjusted_rand_score(exact, ours) == 1.0


def test_ward_weights_count_as_members() -> None:
    # Two heavy points far apart and a light one between, nearer the left: weighted Ward
    # joins the light point to the heavy one at the least cost w_a·w_b/(w_a+w_b)·d².
    centres = np.array([[0.0], [4.0], [10.0]])
    assert list(ward_cut(centres, np.array([100, 1, 100]), 2)) == [0, 0, 1]
    # With the middle point heavy, the light left point joins it instead of the far right.
    assert list(ward_cut(centres, np.array([1, 100, 100]), 2)) == [0, 0, 1]


def test_microcluster_labels_propagate_to_members(data) -> None:
    X, _ = data
    result = module("agglomerative").fit(X, {"k": 6, "route": "scalable", "n_microclusters": 50}, SEED)
    assert result.info["n_microclusters"] <= 50
    # Rows of one micro-cluster share one label: at most 50 distinct (row-label) groups.
    from galclust.methods._scale import microclusters

    _, _, assign = microclusters(X, 50, SEED, 3)
    for m in np.unique(assign):
        assert len(np.unique(result.labels[assign == m])) == 1


def test_route_choice() -> None:
    mod = module("affinity_propagation")
    assert mod.route({"damping": 0.5}, 20_000, 64) == "exact"
    assert mod.route({"damping": 0.5}, 20_001, 64) == "scalable"
    assert mod.route({"damping": 0.5, "exact_max_n": 10}, 11, 64) == "scalable"
    assert mod.route({"damping": 0.5, "route": "exact"}, 10**6, 64) == "exact"
    assert mod.route({"damping": 0.5, "route": "scalable"}, 10, 64) == "scalable"
    with pytest.raises(ConfigError, match="clustering.affinity_propagation.route"):  # the schema's check
        validate_config({"source": {"kind": "demo"}, "catalog": {}, "batch_size": 10, "features": {"p": {"extractor": "pixels"}},
                         "clustering": {"affinity_propagation": {"damping": [0.5], "route": "fast"}}})


@pytest.mark.parametrize("name", ["affinity_propagation", "agglomerative", "spectral"])
def test_forced_exact_past_memory_is_refused(name: str) -> None:
    mod = module(name)
    params = {**PARAMS[name], "route": "exact"}
    n = 1_000_000
    need = mod.memory_bytes(n, 64, params)
    X = np.zeros((n, 1), dtype=np.float32)  # fit refuses before touching the data
    with pytest.raises(ConfigError) as err:
        mod.fit(X, {**params, "available_bytes": need // 2}, SEED)
    msg = str(err.value)
    assert "\n" not in msg and "N=1000000" in msg and f"clustering.{name}.route" in msg


def test_scalable_memory_is_linear_in_n() -> None:
    for name, params in PARAMS.items():
        mod = module(name)
        p = {**params, "route": "scalable"}
        small, large = mod.memory_bytes(100_000, 64, p), mod.memory_bytes(1_000_000, 64, p)
        assert large < 12 * small, name


def test_knn_matches_brute_force(data) -> None:
    from sklearn.neighbors import NearestNeighbors

    X, _ = data
    ref_d, ref_i = NearestNeighbors(n_neighbors=8, algorithm="brute").fit(X.astype(np.float64)).kneighbors(
        X.astype(np.float64)
    )
    dist, ind = knn(X, 8, SEED)
    assert (ind[:, 0] == np.arange(len(X))).all() and (dist[:, 0] == 0).all()
    recall = np.mean([len(set(a) & set(b)) / 8 for a, b in zip(ind, ref_i)])
    assert recall > 0.98  # approximate at the default probe count
    dist, ind = knn(X, 8, SEED, n_probe=16)  # probing enough buckets makes it exact
    np.testing.assert_array_equal(ind, ref_i)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-4, atol=1e-4)


def test_canonical_labels() -> None:
    assert list(canonical_labels(np.array([5, -1, 5, 2, 7, 2]))) == [0, -1, 0, 1, 2, 1]


def test_check_method_fits_at_plan_time() -> None:
    from galclust.methods import affinity_propagation
    from galclust.methods._scale import check_method_fits

    entry = affinity_propagation.METHOD
    check_method_fits(entry, 10**6, 64, {"damping": 0.5}, available_bytes=8 * 2**30)  # scalable fits
    with pytest.raises(ConfigError, match=r"N=1000000 .*clustering\.affinity_propagation\.route"):
        check_method_fits(entry, 10**6, 64, {"damping": 0.5, "route": "exact"}, available_bytes=8 * 2**30)


@pytest.mark.parametrize("route", ["exact", "scalable"])
def test_a_given_preference_is_used(route: str, data) -> None:
    """A preference nearer 0 than the median (exemplars cheaper) gives more clusters."""
    ap = module("affinity_propagation")
    X, _ = data
    X = X[:600]
    base = {**PARAMS["affinity_propagation"], "route": route, "n_microclusters": 200}
    median = ap.fit(X, base, SEED)
    cheap = ap.fit(X, {**base, "preference": -50.0}, SEED)
    assert len(np.unique(cheap.labels)) > len(np.unique(median.labels))
    if route == "scalable":
        assert cheap.info["preference"] == -50.0
    else:
        from sklearn.cluster import AffinityPropagation

        expected = AffinityPropagation(damping=0.9, preference=-50.0, random_state=SEED).fit(X).labels_
        np.testing.assert_array_equal(cheap.labels, expected)


def test_hdbscan_reduces_further_above_large_n() -> None:
    hdbscan = module("hdbscan")
    assert hdbscan.reduce_dims({}, 200_000) == 16
    assert hdbscan.reduce_dims({}, 200_001) == 8
    assert hdbscan.reduce_dims({"reduce_dims": "auto"}, 10**6) == 8
    assert hdbscan.reduce_dims({"reduce_dims": 12}, 10**6) == 12
    assert hdbscan.memory_bytes(10**6, 64, {"min_cluster_size": 50}) < hdbscan.memory_bytes(
        10**6, 64, {"min_cluster_size": 50, "reduce_dims": 16})


def test_affinity_propagation_in_parts_keeps_exemplars_with_their_clusters() -> None:
    X, _ = mixture(3000, d=16, k=30)
    ap = module("affinity_propagation")
    result = ap.fit(X, {**PARAMS["affinity_propagation"], "route": "scalable", "part_size": 400}, SEED)
    assert result.info["scalable_as"] == "partitions" and result.info["largest_part"] <= 600
    assert result.info["n_parts"] >= 5
    labels = result.labels
    assert labels.min() == 0 and np.array_equal(np.unique(labels), np.arange(labels.max() + 1))
    # exemplar j belongs to cluster j: nearly every galaxy's nearest exemplar is its own cluster's
    nearest = ((X[:, None, :] - result.centres[None]) ** 2).sum(-1).argmin(axis=1)
    assert np.mean(nearest == labels) > 0.95
    above = ap.fit(X, {**PARAMS["affinity_propagation"], "route": "scalable", "partition_max_n": 1000,
                       "n_microclusters": 300}, SEED)
    assert above.info["scalable_as"] == "microclusters"
