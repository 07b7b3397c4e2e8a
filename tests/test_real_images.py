"""The whole workflow on 60 real SDSS cutouts (Galaxy Zoo 2: 30 spirals, 30 not), as a user with
a folder of images and a table of labels would run it: config/examples/local.yaml's feature sets
and galaxy finding, the labels as truth."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_example, REPO, load_yaml, snakemake, write_config
from galclust.store import read_array
from galclust.tables import read_table

pytestmark = [pytest.mark.slow, pytest.mark.integration]
GZ2 = REPO / "tests" / "data" / "gz2_small"


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("gz2")
    config = load_example("local.yaml")
    config["source"]["local"]["directory"] = str(GZ2 / "images")
    config["catalog"] = {"path": str(GZ2 / "labels.csv"), "truth": ["label"]}
    config["batch_size"] = 30
    config["clustering"] = {"kmeans": {"k": [2, 3]}, "spectral": {"k": [2], "n_neighbors": 8},
                            "agglomerative": {"k": [2]}, "hdbscan": {"min_cluster_size": [8], "min_samples": 5}}
    config["report"] = {"member_pdfs": ["profiles/spectral-k2"], "similar": ["101654"]}
    # the encoder's two feature sets (extracted, combined, mapped, scored like the others) with
    # k-means only: every method runs on the profiles and the pixels, which the tests read
    for fs in ("encoder", "encoder_profiles"):
        config["features"][fs]["methods"] = ["kmeans"]
    path = write_config(work / "config.yaml", config)
    result = snakemake(work, path, "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    return work


def test_every_output_exists_for_real_images(real_run):
    results = real_run / "results"
    for fs in ("profiles", "pixels"):
        assert read_array(results / f"features/{fs}/reduced.zarr", "features").shape[0] == 60
        for job in ("kmeans-k2", "kmeans-k3", "spectral-k2", "agglomerative-k2"):
            assert len(read_table(results / f"clustering/{fs}/{job}/labels.ecsv")) == 60
            assert (results / f"clustering/{fs}/{job}/summary.png").stat().st_size > 0
        for figure in ("cluster_map.png", "thumbnail_map.png", "truth_map.png", "quality.tsv"):
            assert (results / f"features/{fs}" / figure).stat().st_size > 0
    # the density route of local.yaml: HDBSCAN on the UMAP view only
    assert len(read_table(results / "clustering/profiles_map/hdbscan-m8/labels.ecsv")) == 60
    assert not (results / "clustering/profiles/hdbscan-m8").exists()
    assert list((results / "clustering/profiles/spectral-k2/members").glob("*.pdf"))
    assert (results / "features/profiles/similar/101654.png").is_file()
    assert (results / "explorer/index.html").stat().st_size > 100_000
    summary = (results / "summary.md").read_text()
    assert "k-NN accuracy" in summary and "ARI label" in summary


def test_galaxy_finding_rarely_fails_on_real_cutouts(real_run):
    tables = sorted((real_run / "results/batches").glob("*/preprocess.ecsv"))
    n, failed, flags = 0, 0, set()
    for path in tables:
        column = read_table(path)["detection"]  # empty (masked once read back) when detection worked
        empty = np.asarray(getattr(column, "mask", np.zeros(len(column), bool)), bool)
        values = np.asarray(column).astype(str)
        bad = ~empty & (values != "")
        n, failed = n + len(column), failed + int(bad.sum())
        flags |= set(values[bad].tolist())
    assert n == 60
    assert failed <= 3, f"{failed} of 60 real galaxies flagged as failed detections: {sorted(flags)}"


def test_profiles_hold_the_morphology_better_than_pixels(real_run):
    """On these 60 the profile features must at least beat chance; pixels are the baseline."""
    quality = {str(r["feature_set"]): float(r["knn_accuracy"])
               for fs in ("profiles", "pixels")
               for r in read_table(real_run / f"results/features/{fs}/quality.tsv")}
    assert quality["profiles"] > 0.6, quality
