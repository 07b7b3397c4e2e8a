"""GMM and BIRCH through the Method interface: small blobs, ARI, info keys, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from galclust.config import validate_config
from galclust.errors import ConfigError
from galclust.methods import birch, gmm
from galclust.methods.base import ClusteringResult, Method


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=1200, n_features=4, centers=5, cluster_std=0.8, random_state=2)
    return X.astype(np.float32), y


@pytest.mark.parametrize("module", [gmm, birch])
def test_method_entry(module) -> None:
    entry = module.METHOD
    assert isinstance(entry, Method)
    assert entry.setting == "k" and entry.tag == "k" and entry.needs_k
    assert entry.route({"k": 5}, 1_000_000, 10) in ("exact", "cftree")
    small, large = entry.memory_bytes(1000, 10, {"k": 5}), entry.memory_bytes(100_000, 10, {"k": 5})
    assert 1000 * 10 * 4 < small < large


def test_gmm_fit(blobs) -> None:
    X, y = blobs
    res = gmm.METHOD.fit(X, {"k": 5, "covariance_type": "full", "n_init": 2, "max_iter": 200}, 0)
    assert isinstance(res, ClusteringResult)
    assert res.labels.dtype == np.int64 and res.labels.shape == (1200,)
    assert adjusted_rand_score(y, res.labels) > 0.95
    assert {"route", "bic", "aic", "converged", "n_iter"} <= set(res.info)
    assert res.info["route"] == "exact" and res.info["converged"] is True
    assert res.centres is not None and res.centres.shape == (5, 4)
    assert res.arrays["weights"].shape == (5,)
    again = gmm.fit(X, {"k": 5, "covariance_type": "full", "n_init": 2, "max_iter": 200}, 0)
    assert again.labels.tobytes() == res.labels.tobytes() and again.info == res.info


def test_gmm_bic_prefers_the_true_k(blobs) -> None:
    X, _ = blobs
    bic = {k: gmm.fit(X, {"k": k}, 0).info["bic"] for k in (2, 5, 9)}
    assert min(bic, key=bic.get) == 5


def test_gmm_bad_params(blobs) -> None:
    X, _ = blobs
    with pytest.raises(ConfigError, match=r"clustering\.gmm\.covariance_type"):  # the schema's check
        validate_config({"source": {"kind": "demo"}, "catalog": {}, "batch_size": 10, "features": {"p": {"extractor": "pixels"}},
                         "clustering": {"gmm": {"k": [3], "covariance_type": "round"}}})
    with pytest.raises(ConfigError, match=r"clustering\.gmm\.k"):
        validate_config({"source": {"kind": "demo"}, "catalog": {}, "batch_size": 10, "features": {"p": {"extractor": "pixels"}},
                         "clustering": {"gmm": {"k": [0]}}})
    with pytest.raises(ValueError, match="too few"):
        gmm.fit(X[:3], {"k": 5}, 0)


def test_birch_fit(blobs) -> None:
    X, y = blobs
    res = birch.METHOD.fit(X, {"k": 5, "threshold": 0.5, "branching_factor": 50}, 0)
    assert res.labels.dtype == np.int64 and res.labels.shape == (1200,)
    assert adjusted_rand_score(y, res.labels) > 0.95
    assert res.info["route"] == "cftree" and res.info["n_subclusters"] >= 5
    assert res.centres is not None and res.centres.shape == (5, 4)
    for c in range(5):
        np.testing.assert_allclose(res.centres[c], X[res.labels == c].mean(axis=0), rtol=1e-5, atol=1e-5)
    # a new row takes the label of its nearest subcluster: the arrays suffice
    sub, sub_labels = res.arrays["subcluster_centres"], res.arrays["subcluster_labels"]
    nearest = ((X[:, None, :] - sub[None, :, :]) ** 2).sum(-1).argmin(axis=1)
    np.testing.assert_array_equal(sub_labels[nearest], res.labels)
    again = birch.fit(X, {"k": 5, "threshold": 0.5, "branching_factor": 50}, 99)
    assert again.labels.tobytes() == res.labels.tobytes()


def test_birch_threshold_guards(blobs) -> None:
    X, _ = blobs
    with pytest.raises(ConfigError, match=r"clustering\.birch\.threshold.*fewer than k"):
        birch.fit(X, {"k": 5, "threshold": 1000.0}, 0)
    with pytest.raises(ConfigError, match=r"clustering\.birch\.threshold.*max_subclusters"):
        birch.fit(X, {"k": 5, "threshold": 0.01, "max_subclusters": 100}, 0)


def test_birch_threshold_auto_adapts_to_the_feature_scale(blobs) -> None:
    X, y = blobs
    for scale in (1e-3, 1.0, 1e3):  # the same clusters in other units
        res = birch.fit(X * scale, {"k": 5, "threshold": "auto"}, 0)
        assert 50 <= res.info["n_subclusters"] <= 20_000
        assert adjusted_rand_score(y, res.labels) > 0.9


def test_birch_threshold_searched_on_a_sample_above_search_sample() -> None:
    # each threshold tried is a pass over the rows: above search_sample rows the search runs on
    # a seeded sample, then the tree is built once on all of them
    X, y = make_blobs(n_samples=6000, centers=4, n_features=8, cluster_std=1.0, random_state=3)
    X = X.astype(np.float32)
    whole = birch.fit(X, {"k": 4}, seed=0)
    sampled = birch.fit(X, {"k": 4, "search_sample": 1500}, seed=0)
    assert whole.info["threshold_from"] == "searched on all rows"
    assert sampled.info["threshold_from"] == "searched on 1500 sampled rows"
    assert adjusted_rand_score(y, sampled.labels) > 0.95 and adjusted_rand_score(y, whole.labels) > 0.95
    again = birch.fit(X, {"k": 4, "search_sample": 1500}, seed=0)
    assert np.array_equal(sampled.labels, again.labels) and sampled.info == again.info
