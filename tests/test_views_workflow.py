"""Views of a feature set (t-SNE, LDA), GMM, maps, clusters against catalog columns and the
views comparison, through the workflow: the tiny run extended by a config change (a copy of
its directory, so only the new jobs run)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import load_yaml, planned_jobs, snakemake, write_config
from galclust.store import read_array, read_attrs, read_ids
from galclust.tables import read_table

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def views_run(tiny_run, tmp_path_factory):
    workdir, config_path, _ = tiny_run
    work = tmp_path_factory.mktemp("views") / "run"
    shutil.copytree(workdir, work, symlinks=True)  # copy2: mtimes kept, nothing old reruns
    config = load_yaml(config_path)
    config["features"]["dense_tsne"] = {"from": "cnn_dense", "reduce": {"method": "tsne", "perplexity": 10},
                                        "methods": ["kmeans", "dbscan", "gmm"]}
    config["features"]["dense_lda"] = {"from": "cnn_dense", "reduce": {"method": "lda", "target": "klass"},
                                       "methods": ["kmeans", "gmm"]}
    config["clustering"]["gmm"] = {"k": [2, 3]}  # two k: its information criteria drawn against k
    config["report"]["physical"] = {"pairs": [["ellipticity", "lambda_r"]], "columns": ["lambda_r"]}
    path = write_config(work / "views.yaml", config)
    dry = snakemake(work, path, "--cores", "2", "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    result = snakemake(work, path, "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    return work, planned_jobs(dry)


def test_only_the_new_views_and_what_reads_every_clustering_run(views_run):
    _, jobs = views_run
    assert "train_model" not in jobs and "extract" not in jobs and "acquire" not in jobs
    assert jobs["reduce"] == 2  # the two views; cnn_dense itself is reused
    # the views' k-means (2), DBSCAN (1 on t-SNE) and GMM (2 each), GMM on the 3 feature sets
    assert jobs["cluster"] == (2 + 1 + 2) + (2 + 2) + 3 * 2


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
