"""The reference study's published clusterings are reproduced from its published features.

Data: ../shared/reference/sdss_clustering (6,437 MaNGA galaxies; see its README). The
study's affinity propagation ran on the float32 features with scikit-learn's old fixed
random_state=0 ("seed 000"), so the fits here use seed 0. Affinity propagation on the
100-wide features (AP-176, half a minute) is fitted once in the suite, through the workflow:
tests/test_workflow_inputs.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from galclust.cluster import fit_predict
from galclust.config import ClusteringJob

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "sdss_clustering"
SEED = 0
N_GALAXIES = 6437

AFFINITY = ClusteringJob("affinity_propagation-d0.8", "affinity_propagation", {"damping": 0.8})
AGGLOMERATIVE = ClusteringJob("agglomerative-k32", "agglomerative", {"k": 32})
KMEANS = ClusteringJob("kmeans-k10", "kmeans", {"k": 10, "n_init": 10})


def load(name: str) -> np.ndarray:
    path = REFERENCE / name
    assert path.is_file(), f"reference data missing: {path}"
    return np.load(path, allow_pickle=False)


@pytest.fixture(scope="module")
def features() -> dict[str, np.ndarray]:
    assert REFERENCE.is_dir(), f"reference data missing: {REFERENCE}"
    out = {name: load(f"{name}_features.npy") for name in ("CNN-37632_PCA-100", "CNN-128_PCA-20")}
    assert out["CNN-37632_PCA-100"].shape == (N_GALAXIES, 100)
    assert out["CNN-128_PCA-20"].shape == (N_GALAXIES, 20)
    assert all(x.dtype == np.float32 for x in out.values())
    return out


def test_affinity_propagation_cnn_128(features):
    """On the 20-wide features (about 30 s). On the 100-wide ones (AP-176) it runs once, through
    the workflow: tests/test_workflow_inputs.py reproduces the published AP-176 and ward-32
    labels (ARI 1) from the published features with the ``file`` extractor."""
    labels = fit_predict(features["CNN-128_PCA-20"], AFFINITY, SEED).labels
    published = load("affinity_propagation-52_CNN-128_PCA-20.npy")
    assert len(np.unique(labels)) == 53
    assert adjusted_rand_score(published, labels) == pytest.approx(1.0)


def test_agglomerative_32_cnn_37632(features):
    labels = fit_predict(features["CNN-37632_PCA-100"], AGGLOMERATIVE, SEED).labels
    published = load("agglomerative-32_CNN-37632_PCA-100.npy")
    assert len(np.unique(labels)) == 32
    assert adjusted_rand_score(published, labels) == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["CNN-37632_PCA-100", "CNN-128_PCA-20"])
def test_kmeans_10_agrees_broadly(features, name):
    # k-means depends on its initialisation: compare by ARI, not equality.
    labels = fit_predict(features[name], KMEANS, SEED).labels
    published = load(f"KMeans-10_{name}.npy")
    assert len(np.unique(labels)) == len(np.unique(published)) == 10
    assert adjusted_rand_score(published, labels) > 0.5
