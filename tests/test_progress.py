"""Steps that can take minutes log their progress (done/total, rate, time left) as extraction
does: the PCA's fit and transform, the neighbour index's build and its all-neighbours pass, the
t-SNE and UMAP maps. Tested on the lines' content, not their timing."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from galclust.neighbours import NeighbourIndex, all_neighbours
from galclust.reduce import ChunkedPCA


def progress_lines(caplog, label: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(label)]


def blocks_of(X: np.ndarray, rows: int):
    return lambda: (X[i:i + rows] for i in range(0, len(X), rows))


def test_pca_logs_its_fit_block_by_block(caplog):
    X = np.random.default_rng(0).normal(size=(300, 8))
    with caplog.at_level(logging.INFO, logger="galclust.progress"):
        ChunkedPCA(3, block_rows=50, progress_interval=0).fit(blocks_of(X, 50), 300, 8)
    lines = progress_lines(caplog, "PCA fit (8 features):")
    assert lines[0].startswith("PCA fit (8 features): 50/300 galaxies (17 %)") and "left" in lines[0]
    assert lines[-1].startswith("PCA fit (8 features): 300/300 galaxies (100 %)")


def test_neighbour_index_logs_its_build_and_the_all_neighbours_pass(caplog):
    X = np.random.default_rng(1).normal(size=(200, 5)).astype(np.float32)
    with caplog.at_level(logging.INFO, logger="galclust.progress"):
        index = NeighbourIndex(exact_max_n=0).fit(X)  # the HNSW route
        all_neighbours(index, X, 3, block_rows=64, progress_interval=0)
    assert progress_lines(caplog, "neighbour index (HNSW build):")[-1].startswith(
        "neighbour index (HNSW build): 200/200 galaxies (100 %)")
    lines = progress_lines(caplog, "3 nearest neighbours:")
    assert [line.split(" galaxies")[0] for line in lines[:-1]] == [
        "3 nearest neighbours: 64/200", "3 nearest neighbours: 128/200", "3 nearest neighbours: 192/200"]
    assert lines[-1].startswith("3 nearest neighbours: 200/200 galaxies (100 %)")


@pytest.mark.parametrize("method, label, total", [("tsne", "t-SNE:", "750/750 iterations"),
                                                  ("umap", "UMAP:", "/200 epochs")])
def test_maps_log_their_iterations_and_stay_seeded(caplog, method, label, total):
    from galclust.reducers import REDUCERS

    X = np.random.default_rng(2).normal(size=(120, 6)).astype(np.float32)
    params = {"n_components": 2, "n_epochs": 200} if method == "umap" else {"n_components": 2}
    with caplog.at_level(logging.INFO, logger="galclust.progress"):
        first = REDUCERS[method].fit_transform(X, params, 7, None).values
    again = REDUCERS[method].fit_transform(X, params, 7, None).values
    lines = progress_lines(caplog, label)
    assert lines and total in lines[-1] and "left" in lines[-1], lines
    assert np.array_equal(first, again)
