"""DBSCAN's ``eps: auto``: eps from the knee of the sorted k-distance curve, on both routes."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from galclust.config import ConfigError, clustering_jobs, validate_config
from galclust.methods import METHODS
from galclust.methods.dbscan import knee_eps
from test_config import minimal


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(3000, n_features=8, centers=5, cluster_std=1.0, random_state=0)
    return X.astype(np.float32), y


@pytest.mark.parametrize("route", ["exact", "scalable"])
def test_auto_eps_finds_the_blobs(blobs, route):
    X, y = blobs
    result = METHODS["dbscan"].fit(X, {"eps": "auto", "min_samples": 5, "route": route}, 0)
    assert adjusted_rand_score(y, result.labels) > 0.9
    assert (result.labels == -1).mean() < 0.1
    assert result.info["eps_from"].startswith("knee") and result.info["eps"] == knee_eps(X, 5, 0)


def test_knee_scales_with_the_features(blobs):
    """eps is a length in feature units: scaling the features scales it, and a fixed eps
    too small for the data (everything noise) is what auto avoids."""
    X, _ = blobs
    eps = knee_eps(X, 5, 0)
    assert knee_eps(X * 10, 5, 0) == pytest.approx(10 * eps, rel=1e-4)
    fixed = METHODS["dbscan"].fit(X * 10, {"eps": eps, "min_samples": 5, "route": "exact"}, 0)
    assert (fixed.labels == -1).mean() > 0.9
    auto = METHODS["dbscan"].fit(X * 10, {"eps": "auto", "min_samples": 5, "route": "exact"}, 0)
    assert (auto.labels == -1).mean() < 0.1


def test_knee_sample_is_seeded_and_bounded(blobs):
    X, _ = blobs
    assert knee_eps(X, 5, 3, sample=500) == knee_eps(X, 5, 3, sample=500)
    assert knee_eps(X, 5, 0, sample=500) == pytest.approx(knee_eps(X, 5, 0), rel=0.3)


def test_identical_features_are_a_clear_error():
    with pytest.raises(ValueError, match="identical"):
        knee_eps(np.ones((50, 4), np.float32), 5, 0)


def test_auto_in_the_config_names_a_job():
    raw = minimal()
    raw["clustering"]["dbscan"] = {"eps": ["auto", 0.5], "min_samples": 4}
    config = validate_config(copy.deepcopy(raw))
    jobs = clustering_jobs(config)
    assert jobs["dbscan-epsauto"].params["eps"] == "auto"
    assert jobs["dbscan-eps0.5"].params == {"eps": 0.5, "min_samples": 4, **{
        k: v for k, v in jobs["dbscan-eps0.5"].params.items() if k not in ("eps", "min_samples")}}
    raw["clustering"]["dbscan"] = {"eps": ["knee"]}
    with pytest.raises(ConfigError, match="clustering.dbscan.eps"):
        validate_config(copy.deepcopy(raw))
