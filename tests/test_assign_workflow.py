"""New galaxies into the clusterings of a finished run (assign.reference), end to end.

The tiny run is the reference; 40 new demo galaxies of the same classes (another seed, other
ids) go through acquisition, preprocessing, the reference's CNN and projections, and each
reference clustering's assigner. Nothing of the reference is rerun or rewritten.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from conftest import load_yaml, snakemake, write_config
from galclust.demo import draw_catalog
from galclust.store import read_array, read_ids
from galclust.tables import read_table

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def checksums(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def assigned_run(tiny_run, tmp_path_factory):
    ref_dir, ref_config_path, ref_config = tiny_run
    before = checksums(ref_dir / "results")
    work = tmp_path_factory.mktemp("assign")
    mix = ref_config["source"]["demo"]["class_mix"]
    new = draw_catalog(40, 1234, mix)
    new["id"] = [f"new-{i:03d}" for i in range(len(new))]
    new.write(work / "new.ecsv")
    config = load_yaml(ref_config_path)
    config["catalog"] = {"path": "new.ecsv", "truth": ["klass"]}
    config["assign"] = {"reference": str(ref_dir / "results")}
    config_path = write_config(work / "config.yaml", config)
    result = snakemake(work, config_path, "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    return ref_dir, work, config, before


def test_every_reference_clustering_gets_an_assignment_and_the_reference_is_untouched(assigned_run):
    ref_dir, work, config, before = assigned_run
    tables = sorted((work / "results/assigned").glob("*/*/assigned.ecsv"))
    assert len(tables) == 3 * 7
    for path in tables:
        table = read_table(path)
        assert list(table.colnames) == ["id", "label", "confidence", "distance", "outlier"]
        assert list(table["id"]) == [f"new-{i:03d}" for i in range(40)]
    assert not (work / "results/models").exists()  # the reference's CNN, never retrained
    assert not list((work / "results").glob("clustering/*"))  # nothing refitted
    assert checksums(ref_dir / "results") == before


@pytest.mark.parametrize("fs, job", [("cnn_dense", "kmeans-k3")])
def test_assigned_labels_agree_with_clustering_the_union(assigned_run, fs, job):
    """What clustering the reference and the new galaxies together gives, on the new galaxies
    (k-means, whose centroids barely move with 40 more galaxies; ward's cut of 100 galaxies into
    6 moves more, and its k-NN vote agreed at ARI 0.54-0.61 when measured)."""
    ref_dir, work, config, _ = assigned_run
    X_ref = read_array(ref_dir / f"results/features/{fs}/reduced.zarr", "features")
    X_new = read_array(work / f"results/assigned/{fs}/projected.zarr", "features")
    assert list(read_ids(work / f"results/assigned/{fs}/projected.zarr")) == [f"new-{i:03d}" for i in range(40)]
    assigned = np.asarray(read_table(work / f"results/assigned/{fs}/{job}/assigned.ecsv")["label"])
    union = np.vstack([X_ref, X_new])
    k = int(job.rsplit("-k", 1)[1])
    if job.startswith("kmeans"):
        labels = KMeans(k, n_init=config["clustering"]["kmeans"]["n_init"], random_state=config["seed"]).fit_predict(union)
    else:
        from sklearn.cluster import AgglomerativeClustering

        labels = AgglomerativeClustering(k, linkage="ward").fit_predict(union)
    ari = adjusted_rand_score(labels[len(X_ref):], assigned)
    assert ari >= 0.8, ari
