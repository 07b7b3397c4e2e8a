"""Reducers behind the Reducer interface: shapes, seeding (same seed, same bytes), LDA's
errors, and transform round trips where a reducer has one. Small data only."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from conftest import REPO
from galclust.errors import ConfigError
from galclust.reducers import lda, pca, tsne, umap
from galclust.reducers.base import Embedding, Reducer


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=400, n_features=12, centers=5, cluster_std=1.5, random_state=1)
    return X.astype(np.float32), y


@pytest.mark.parametrize("module", [pca, tsne, umap, lda])
def test_reducer_entry(module) -> None:
    entry = module.REDUCER
    assert isinstance(entry, Reducer)
    assert entry.supervised is (module is lda)
    assert (entry.transform is None) is (module in (tsne, umap))
    assert entry.memory_bytes(10_000, 64, {"n_components": 2, "target": "klass"}) > 10_000 * 64 * 4


def test_pca_shape_state_and_transform(blobs) -> None:
    X, _ = blobs
    emb = pca.REDUCER.fit_transform(X, {"n_components": 7}, 0, None)
    assert isinstance(emb, Embedding)
    assert emb.values.shape == (400, 7) and emb.values.dtype == np.float32
    assert emb.info["label"] == "PCA-7"
    assert set(emb.state) == {"components", "mean", "explained_variance_ratio"}
    assert np.all(np.diff(emb.state["explained_variance_ratio"]) <= 1e-12)
    np.testing.assert_allclose(pca.REDUCER.transform(emb.state, X, {}), emb.values, atol=1e-5)
    # agrees with exact PCA up to the sign of each axis
    Xc = X.astype(np.float64) - X.mean(axis=0)
    exact = Xc @ np.linalg.svd(Xc, full_matrices=False)[2][:7].T
    np.testing.assert_allclose(np.abs(emb.values), np.abs(exact), atol=1e-3)


def test_pca_variance_fraction(blobs) -> None:
    X, _ = blobs
    emb = pca.fit_transform(X, {"n_components": 0.9}, 0)
    assert emb.info["explained_variance"] >= 0.9
    assert emb.values.shape[1] == emb.info["n_components"] < 12


def test_tsne_shape_route_and_seed(blobs) -> None:
    X, y = blobs
    params = {"perplexity": 30, "learning_rate": 50, "n_iter": 250}
    a = tsne.REDUCER.fit_transform(X, params, 7, None)
    b = tsne.REDUCER.fit_transform(X, params, 7, None)
    assert a.values.shape == (400, 2) and a.values.dtype == np.float32
    assert a.info["route"] == "bh" and a.info["label"] == "tSNE-2"
    assert a.values.tobytes() == b.values.tobytes()
    c = tsne.fit_transform(X, params, 8)
    assert c.values.tobytes() != a.values.tobytes()
    assert a.state == {}
    # blobs stay apart on the map: every point's nearest map neighbour is in its blob
    d = ((a.values[:, None, :] - a.values[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert np.mean(y[d.argmin(axis=1)] == y) > 0.95


def test_tsne_answers_opentsnes_pynndescent_probe_without_the_import_and_the_same_bytes() -> None:
    """openTSNE imports pynndescent on every fit only to see whether it is installed; for the
    euclidean metric galclust answers "no" without importing it, and the map is the same. In a
    fresh process, as a job is (re-importing pynndescent here would recompile its kernels)."""
    code = f"""
import sys
sys.path.insert(0, {str(REPO / "src")!r})
import numpy as np
from sklearn.datasets import make_blobs
from galclust.reducers.tsne import fit_transform
X = make_blobs(n_samples=120, n_features=12, centers=5, random_state=1)[0].astype(np.float32)
answered = fit_transform(X, {{"perplexity": 10, "n_iter": 50}}, 3).values.tobytes()
print("pynndescent" in sys.modules)
import pynndescent  # importable afterwards (a UMAP map in the same job)
probed = fit_transform(X, {{"perplexity": 10, "n_iter": 50}}, 3).values.tobytes()  # openTSNE's own probe
print(answered == probed)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["False", "True"]


def test_tsne_routes_and_perplexity_clamp() -> None:
    assert tsne.route({}, 50_000, 10) == "fft"
    assert tsne.route({}, 5_000, 10) == "bh"
    assert tsne.route({"n_components": 3}, 50_000, 10) == "bh"
    with pytest.raises(ConfigError, match="negative_gradient_method"):
        tsne.route({"negative_gradient_method": "fft", "n_components": 3}, 100, 10)
    X = np.random.default_rng(0).normal(size=(60, 5))
    emb = tsne.fit_transform(X, {"perplexity": 200, "n_iter": 50, "negative_gradient_method": "fft"}, 0)
    assert emb.info["route"] == "fft"
    assert emb.info["perplexity"] == pytest.approx(59 / 3)


@pytest.mark.slow
def test_umap_shape_and_seed(blobs) -> None:
    X, _ = blobs
    params = {"n_neighbors": 10, "min_dist": 0.1, "n_epochs": 100}
    a = umap.REDUCER.fit_transform(X, params, 3, None)
    b = umap.REDUCER.fit_transform(X, params, 3, None)
    assert a.values.shape == (400, 2) and a.values.dtype == np.float32
    assert a.info["label"] == "UMAP-2"
    assert a.values.tobytes() == b.values.tobytes()
    # a folder smaller than the neighbourhood: every other galaxy, as t-SNE's perplexity
    small = umap.fit_transform(X[:12], {"n_neighbors": 30, "n_components": 3}, 0)
    assert small.values.shape == (12, 3) and np.isfinite(small.values).all()
    assert small.info["n_neighbors"] == 11 and small.info["n_neighbors_asked"] == 30
    assert "n_neighbors_asked" not in a.info


def _classes(y: np.ndarray) -> np.ndarray:
    return np.array([f"class{v}" for v in y], dtype=object)


def test_lda_shape_state_transform_and_missing_labels(blobs) -> None:
    X, y = blobs
    target = _classes(y)
    target[:20] = None  # unlabelled rows: not fitted, still projected
    emb = lda.REDUCER.fit_transform(X, {"target": "klass"}, 0, target)
    assert emb.values.shape == (400, 4)  # 5 classes -> 4 axes by default
    assert emb.info["label"] == "LDA-4" and emb.info["n_fitted"] == 380 and emb.info["n_missing_target"] == 20
    assert set(emb.state) == {"scalings", "xbar", "means", "classes"}
    assert emb.state["classes"].dtype.kind == "U"
    np.testing.assert_allclose(lda.REDUCER.transform(emb.state, X, {}), emb.values, atol=1e-5)
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    ref = LinearDiscriminantAnalysis(n_components=4).fit(X[20:], target[20:].astype(str)).transform(X)
    np.testing.assert_allclose(emb.values, ref, atol=1e-3)
    # the same bytes again
    assert lda.fit_transform(X, {"target": "klass"}, 0, target).values.tobytes() == emb.values.tobytes()


def test_lda_masked_and_nan_targets(blobs) -> None:
    X, y = blobs
    masked = np.ma.masked_array(y, mask=np.arange(400) < 10)
    assert lda.fit_transform(X, {"target": "t", "n_components": 2}, 0, masked).info["n_fitted"] == 390
    floats = y.astype(float)
    floats[:7] = np.nan
    assert lda.fit_transform(X, {"target": "t", "n_components": 2}, 0, floats).info["n_fitted"] == 393


@pytest.mark.parametrize(
    ("params", "target", "key", "words"),
    [
        ({"target": "klass", "n_components": 5}, "five", "features.cnn.reduce.n_components", "at most"),
        ({"target": "klass"}, None, "features.cnn.reduce.target", "no column 'klass'"),
        ({}, "five", "features.cnn.reduce.target", "supervised"),
        ({"target": "klass"}, "one", "features.cnn.reduce.target", "1 distinct"),
    ],
)
def test_lda_errors_name_the_key(blobs, params, target, key, words) -> None:
    X, y = blobs
    values = {"five": _classes(y), "one": np.array(["spiral"] * 400), None: None}[target]
    with pytest.raises(ConfigError) as err:
        lda.fit_transform(X, {**params, "_key": "features.cnn.reduce"}, 0, values)
    assert key in str(err.value) and words in str(err.value)


def test_lda_default_key_in_messages(blobs) -> None:
    X, y = blobs
    with pytest.raises(ConfigError, match=r"features\.<name>\.reduce\.n_components"):
        lda.fit_transform(X, {"target": "klass", "n_components": 9}, 0, _classes(y))
