"""Views of a feature set (t-SNE, LDA), GMM, maps, clusters against catalog columns and the
views comparison, through the workflow: the tiny run extended by a config change (conftest's
``extended_run``: a copy of its directory, so only the new jobs run)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from galclust.store import read_array, read_attrs, read_ids
from galclust.tables import read_table

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def views_run(extended_run):
    """conftest's ``extended_run``: the tiny run plus these views (and the supervised models of
    tests/test_supervised.py, in the same run)."""
    work, _, jobs = extended_run
    return work, jobs


def test_only_the_new_views_and_what_reads_every_clustering_run(views_run):
    _, jobs = views_run
    assert "acquire" not in jobs and "preprocess" not in jobs
    # refcnn and its features are reused: only the three new models train, and extract 2 batches
    assert jobs["train_model"] == 3 and jobs["extract"] == 3 * 2
    # the two views and the PCA of the 3 trained models' sets; cnn_dense itself is reused
    assert jobs["reduce"] == 2 + 3
    # the views' k-means (2), DBSCAN (1 on t-SNE) and GMM (2 each), GMM on the 3 feature sets
    # of the tiny run; k-means (2) on each trained model's set
    assert jobs["cluster"] == (2 + 1 + 2) + (2 + 2) + 3 * 2 + 3 * 2


def test_views_are_stored_like_any_reduced_feature_set(views_run):
    work, _ = views_run
    tsne = work / "results/features/dense_tsne/reduced.zarr"
    lda = work / "results/features/dense_lda/reduced.zarr"
    base = work / "results/features/cnn_dense/reduced.zarr"
    assert read_array(tsne, "features").shape == (60, 2)
    assert read_array(lda, "features").shape == (60, 3)  # four classes: at most 3 axes
    assert list(read_ids(tsne)) == list(read_ids(base))
    assert read_attrs(tsne)["label"].endswith("_tSNE-2") and read_attrs(lda)["label"].endswith("_LDA-3")
    assert (work / "results/features/dense_lda/projection/scalings.npy").is_file()  # places new galaxies


def test_clusterings_of_views_gmm_and_figures(views_run):
    work, _ = views_run
    labels = read_table(work / "results/clustering/dense_tsne/kmeans-k3/labels.ecsv")
    assert len(labels) == 60 and len(set(labels["label"])) == 3
    gmm = json.loads((work / "results/clustering/pixels/gmm-k3/metrics.json").read_text())
    assert {"bic", "aic", "converged"} <= set(gmm) and gmm["method"] == "gmm"
    for path in ["features/dense_tsne/cluster_map.png", "features/pixels/thumbnail_map.png",
                 "features/pixels/truth_map.png", "features/pixels/information.png", "comparison/views.png",
                 "clustering/pixels/kmeans-k6/physical_pairs.png", "clustering/pixels/kmeans-k6/physical_columns.png",
                 "explorer/index.html"]:
        assert (work / "results" / path).stat().st_size > 1000, path
    pairwise = read_table(work / "results/comparison/pairwise.tsv")
    names = set(pairwise["a"]) | set(pairwise["b"])
    assert {"dense_lda/kmeans-k3", "dense_tsne/kmeans-k3", "cnn_dense/kmeans-k3"} <= names
    xy = read_array(work / "results/features/dense_tsne/map.zarr", "xy")
    np.testing.assert_array_equal(xy, read_array(work / "results/features/dense_tsne/reduced.zarr", "features"))
