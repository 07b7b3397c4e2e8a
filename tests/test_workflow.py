"""The real Snakefile, end to end, on the tiny demo config (≈ 60 galaxies, 2 batches)."""

from __future__ import annotations

import pytest

import json
import shutil

import numpy as np
from astropy.table import Table
from PIL import Image

from conftest import load_yaml, planned_jobs, snakemake, write_config
from galclust.config import clustering_jobs
from galclust.store import read_array, read_attrs, read_ids

pytestmark = pytest.mark.slow  # runs Snakemake, SLURM or Chromium (make test-fast leaves it out)


def test_every_final_output_exists_and_is_sane(tiny_run):
    workdir, _, config = tiny_run
    res = workdir / "results"
    n = config["source"]["demo"]["n_galaxies"]
    # images: 80x80x3 in [0, 1], ids aligned with the catalog, split in 2 batches
    stores = sorted(res.glob("batches/*/images.zarr"))
    assert len(stores) == 2
    images = np.concatenate([read_array(s, "images") for s in stores])
    assert images.shape == (n, 80, 80, 3) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0 and images.std() > 0.01
    catalog = Table.read(res / "catalog.ecsv")
    ids = np.concatenate([read_ids(s) for s in stores])
    assert list(ids) == list(catalog["id"])
    # features: the pixel baseline and both cuts of the CNN, per batch
    feats = read_array(res / "batches/b0000/features/refcnn.zarr", "conv")
    assert feats.shape == (30, 37632)
    assert read_array(res / "batches/b0000/features/refcnn.zarr", "dense").shape == (30, 128)
    assert read_array(res / "batches/b0000/features/pixels.zarr", "pixels").shape == (30, 19200)
    attrs = read_attrs(res / "batches/b0000/features/refcnn.zarr")
    assert attrs["layers"] == {"conv": "flatten", "dense": "dense_128"}
    assert len(attrs["config_hash"]) == 12 and attrs["provenance"]["galclust"]
    # the model, its history and loss plot
    assert (res / "models/refcnn/model.keras").stat().st_size > 1_000_000
    history = Table.read(res / "models/refcnn/history.tsv", format="ascii.basic", delimiter="\t")
    assert len(history) == config["models"]["refcnn"]["train"]["epochs"]
    # reduced feature sets named like the study
    assert read_attrs(res / "features/cnn_dense/reduced.zarr")["label"] == "CNN-128_PCA-8"
    conv = read_attrs(res / "features/cnn_conv/reduced.zarr")
    assert conv["label"].startswith("CNN-37632_PCA-") and conv["explained_variance"] >= 0.9
    # every clustering: labels for every galaxy, metrics, figures
    for fs in config["features"]:
        for job in clustering_jobs(config):
            d = res / "clustering" / fs / job
            labels = Table.read(d / "labels.ecsv")
            assert len(labels) == n and set(labels["id"]) == set(ids)
            metrics = json.loads((d / "metrics.json").read_text())
            assert metrics["n_galaxies"] == n
            if job.startswith(("kmeans", "agglomerative", "spectral")):
                assert metrics["n_clusters"] == int(job.split("-k")[1])
            for png in ("summary.png", "sizes.png"):
                with Image.open(d / png) as img:
                    assert img.size[0] > 100 and img.size[1] > 100
        with Image.open(res / "clustering" / fs / "agglomerative-k6" / "dendrogram.png") as img:
            assert img.size[0] > 300
        for png in ("variance.png", "elbow.png", "eigengap.png"):
            assert (res / "features" / fs / png).stat().st_size > 5000
    members = sorted((res / "clustering/pixels/kmeans-k6/members").glob("*.pdf"))
    assert [p.name for p in members] == [f"cluster_{i}_of_6.pdf" for i in range(6)]
    assert all(p.read_bytes().startswith(b"%PDF") for p in members)
    for png in ("ari.png", "ami.png", "truth.png", "quality.png"):
        assert (res / "comparison" / png).stat().st_size > 5000
    assert "| feature set | clustering |" in (res / "summary.md").read_text()
    # logs and benchmarks for every rule
    assert (workdir / "logs/train_model/refcnn.log").exists()
    assert (workdir / "benchmarks/compare.tsv").exists()
    # nothing half-written anywhere
    assert not [p for p in res.rglob("*") if ".tmp" in p.name]


def test_clusters_beat_chance_against_the_demo_truth(tiny_run):
    workdir, _, _ = tiny_run
    truth = Table.read(workdir / "results/comparison/truth.tsv", format="ascii.basic", delimiter="\t")
    image_based = [r for r in truth if r["clustering"].split("/")[0] in ("pixels", "cnn_conv", "cnn_dense")]
    assert len(image_based) > 0
    assert max(float(r["ari"]) for r in image_based) > 0.1


def test_second_run_does_nothing(tiny_run):
    workdir, config_path, _ = tiny_run
    result = snakemake(workdir, config_path, "--cores", "2", "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_changing_one_clustering_parameter_reruns_only_that_branch(tiny_run, tmp_path):
    workdir, config_path, _ = tiny_run
    config = load_yaml(config_path)
    config["clustering"]["dbscan"]["min_samples"] = 4
    changed = write_config(tmp_path / "changed.yaml", config)
    result = snakemake(workdir, changed, "--cores", "2", "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = planned_jobs(result)
    n_fs = len(config["features"])
    assert jobs == {
        "cluster": n_fs,  # dbscan-epsauto on each feature set
        "plot_clustering": n_fs,
        "maps": n_fs,  # every clustering of a feature set is drawn on its map
        "explorer": 1,  # which colours the explorer by every clustering of its feature set
        "compare": 1,
        "summary": 1,
        "manifest": 1,
        "all": 1,
    }, jobs


def test_the_same_config_gives_the_same_labels(tiny_run, tmp_path):
    """Re-running clustering from the same reduced features reproduces the labels exactly."""
    workdir, config_path, config = tiny_run
    copy = tmp_path / "copy"
    shutil.copytree(workdir / "results", copy / "results")
    for job in ("kmeans-k6", "spectral-k6", "affinity_propagation-d0.8"):
        target = copy / f"results/clustering/cnn_dense/{job}/labels.ecsv"
        target.unlink()
        result = snakemake(copy, config_path, "--cores", "1", str(target.relative_to(copy)),
                           "--rerun-triggers", "mtime")
        assert result.returncode == 0, result.stderr[-3000:]
        a = Table.read(workdir / f"results/clustering/cnn_dense/{job}/labels.ecsv")
        b = Table.read(target)
        assert list(a["label"]) == list(b["label"])
