"""Tests of galclust.reduce: ChunkedPCA against full PCA, re-blocking, bounded memory."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA, IncrementalPCA

from galclust.reduce import ChunkedPCA, _reblock


def low_rank(n: int = 600, d: int = 40, rank: int = 6, noise: float = 0.05, seed: int = 0) -> np.ndarray:
    """Rows near a rank-``rank`` subspace with well-separated variances."""
    rng = np.random.default_rng(seed)
    scales = np.array([10.0, 7.0, 5.0, 3.5, 2.5, 1.8, 1.2, 0.9])[:rank]
    latent = rng.standard_normal((n, rank)) * scales
    basis, _ = np.linalg.qr(rng.standard_normal((d, rank)))
    return (latent @ basis.T + noise * rng.standard_normal((n, d)) + 3.0).astype(np.float32)


def blocks_of(X: np.ndarray, size: int):
    """A block source: a callable returning a generator of row blocks."""
    return lambda: (X[i : i + size] for i in range(0, len(X), size))


def align_signs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a`` with each column's sign flipped to best match ``b``."""
    signs = np.sign(np.sum(a * b, axis=0))
    signs[signs == 0] = 1
    return a * signs


def test_int_components_match_full_pca():
    X = low_rank()
    pca = ChunkedPCA(5, block_rows=64).fit(blocks_of(X, 50), len(X), X.shape[1])
    full = PCA(5).fit(X.astype(np.float64))
    assert pca.n_components_ == 5
    assert pca.components_.shape == (5, X.shape[1])
    np.testing.assert_allclose(pca.explained_variance_ratio_, full.explained_variance_ratio_, rtol=1e-2, atol=1e-5)
    np.testing.assert_allclose(pca.mean_, X.mean(axis=0), rtol=1e-5, atol=1e-5)
    Z = pca.transform(X)
    assert Z.dtype == np.float32 and Z.shape == (len(X), 5)
    Zfull = full.transform(X.astype(np.float64))
    np.testing.assert_allclose(align_signs(Z, Zfull), Zfull, atol=0.02 * np.abs(Zfull).max())


def test_variance_fraction_picks_same_count_as_full_pca():
    X = low_rank(rank=8, d=30)
    full = PCA().fit(X.astype(np.float64))
    cum = np.cumsum(full.explained_variance_ratio_)
    for fraction in (0.5, 0.8, 0.95, 0.999):
        expected = int(np.searchsorted(cum, fraction) + 1)
        pca = ChunkedPCA(fraction, max_components=20, block_rows=64).fit(blocks_of(X, 100), len(X), X.shape[1])
        assert pca.n_components_ == expected, fraction
        assert pca.explained_variance_ratio_.sum() >= fraction
        assert pca.explained_variance_ratio_[:-1].sum() < fraction
        assert pca.transform(X[:3]).shape == (3, expected)


def test_variance_fraction_capped_by_max_components():
    X = low_rank(rank=8, d=30)
    pca = ChunkedPCA(0.9999, max_components=3, block_rows=64).fit(blocks_of(X, 100), len(X), X.shape[1])
    assert pca.n_components_ == 3


def test_blocks_smaller_than_components():
    # 7-row blocks, 12 components: IncrementalPCA alone would refuse such partial fits.
    X = low_rank(n=300, d=20, rank=8)
    pca = ChunkedPCA(12, block_rows=4).fit(blocks_of(X, 7), len(X), X.shape[1])
    full = PCA(12).fit(X.astype(np.float64))
    assert pca.n_components_ == 12
    np.testing.assert_allclose(pca.explained_variance_ratio_[:8], full.explained_variance_ratio_[:8], rtol=5e-3)


def test_fewer_rows_than_components():
    X = low_rank(n=6, d=20, rank=4)
    pca = ChunkedPCA(10, block_rows=2).fit(blocks_of(X, 2), len(X), X.shape[1])
    assert pca.n_components_ == 6
    assert pca.transform(X).shape == (6, 6)


def test_fewer_features_than_components():
    X = low_rank(n=100, d=4, rank=4)
    pca = ChunkedPCA(10).fit(blocks_of(X, 30), len(X), X.shape[1])
    assert pca.n_components_ == 4
    assert pca.explained_variance_ratio_.sum() == pytest.approx(1.0, abs=1e-6)


def test_too_few_rows():
    with pytest.raises(ValueError, match="at least 2"):
        ChunkedPCA(2).fit(blocks_of(np.ones((1, 3)), 1), 1, 3)


@pytest.mark.parametrize("bad", [0, -3, 0.0, -0.5, 1.0, 1.5, True, False])
def test_bad_n_components(bad):
    with pytest.raises(ValueError):
        ChunkedPCA(bad)


def test_fit_feeds_bounded_blocks(monkeypatch):
    """The fit never sees all rows at once: each partial fit gets a bounded block."""
    X = low_rank(n=1000, d=12, rank=6)
    sizes: list[int] = []
    original = IncrementalPCA.partial_fit

    def spy(self, block, *args, **kwargs):
        sizes.append(len(block))
        return original(self, block, *args, **kwargs)

    monkeypatch.setattr(IncrementalPCA, "partial_fit", spy)
    requested: list[int] = []

    def source():
        for i in range(0, len(X), 40):
            requested.append(i)
            yield X[i : i + 40]

    block_rows = 64
    ChunkedPCA(5, block_rows=block_rows).fit(source, len(X), X.shape[1])
    assert sum(sizes) == len(X)
    assert len(sizes) > 5
    assert max(sizes) < 2 * block_rows + 40
    assert min(sizes) >= block_rows
    assert len(requested) == 25  # the source was read once


# --- _reblock ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sizes, min_rows",
    [
        ([3, 3, 3, 3, 3], 5),
        ([1] * 50, 7),
        ([100], 10),
        ([2, 0, 50, 1, 1, 30], 8),
        ([10, 10, 10], 10),
        ([9], 10),
        ([4, 4], 10),
    ],
)
def test_reblock(sizes, min_rows):
    total = sum(sizes)
    X = np.arange(total * 2).reshape(total, 2)
    blocks, start = [], 0
    for s in sizes:
        blocks.append(X[start : start + s])
        start += s
    out = list(_reblock(iter(blocks), min_rows))
    np.testing.assert_array_equal(np.concatenate(out), X)  # every row once, in order
    if total < min_rows:
        assert len(out) == 1
    else:
        assert all(len(b) >= min_rows for b in out)
    biggest = max(sizes)
    assert all(len(b) < min_rows + biggest + min_rows for b in out)


def test_reblock_empty():
    assert list(_reblock(iter([]), 5)) == []
    assert list(_reblock(iter([np.zeros((0, 3))]), 5)) == []


@pytest.mark.parametrize("n_components", [3, 0.9])
def test_features_without_variance(n_components):
    X = np.ones((50, 6), np.float32)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pca = ChunkedPCA(n_components, block_rows=8).fit(blocks_of(X, 10), len(X), X.shape[1])
    assert np.all(np.isfinite(pca.explained_variance_ratio_))
    assert np.all(pca.explained_variance_ratio_ == 0)
    Z = pca.transform(X)
    assert np.all(np.isfinite(Z)) and np.allclose(Z, 0)
