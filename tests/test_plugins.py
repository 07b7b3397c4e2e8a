"""A toy method, extractor and source, added through the registries alone (an entry point in
the ``galclust.plugins`` group, no edit of galclust), run through the whole workflow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from astropy.table import Table
from sklearn.metrics import adjusted_rand_score

from conftest import REPO, write_config
from galclust.tables import read_table

pytestmark = pytest.mark.integration


def install_plugin(site: os.PathLike) -> None:
    """What ``pip install`` of a distribution declaring the entry point leaves on sys.path."""
    shutil.copy(REPO / "tests" / "plugins" / "toyplugin.py", site)
    info = site / "toyplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[galclust.plugins]\ntoy = toyplugin\n")


@pytest.mark.slow
def test_toy_plugins_run_through_the_workflow(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    work = tmp_path / "run"
    work.mkdir()
    shapes = ["bright", "faint"] * 10
    Table({"id": [f"g{i:02d}" for i in range(20)], "ra": np.zeros(20), "dec": np.zeros(20),
           "r_e": np.ones(20), "shape": shapes}).write(work / "catalog.csv")
    config = write_config(work / "config.yaml", {
        "seed": 1,
        "source": {"kind": "toysquares", "cache_dir": "cache"},
        "catalog": {"path": "catalog.csv", "truth": ["shape"]},
        "batch_size": 10,
        "features": {"toy": {"extractor": "toybright", "pca": False}},
        "clustering": {"toythreshold": {"k": [2]}, "kmeans": {"k": [2]}},
    })
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
         "--configfile", str(config), "--cores", "2"],
        capture_output=True, text=True, env=env, cwd=work, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    labels = read_table(work / "results/clustering/toy/toythreshold-k2/labels.ecsv")
    assert list(labels["id"]) == [f"g{i:02d}" for i in range(20)]
    assert adjusted_rand_score(shapes, labels["label"]) == 1.0
    assert (work / "results/clustering/toy/toythreshold-k2/summary.png").stat().st_size > 0
    assert (work / "results/features/toy/reduced.zarr").is_dir()
    truth = read_table(work / "results/comparison/truth.tsv", format="ascii.ecsv") \
        if (work / "results/comparison/truth.tsv").suffix == ".ecsv" else None
    assert truth is None or len(truth)
    assert "toythreshold-k2" in (work / "results/summary.md").read_text()


@pytest.mark.slow
def test_without_the_plugin_its_names_are_unknown(tmp_path):
    """The same config without the entry point stops at once, naming the key."""
    config = write_config(tmp_path / "config.yaml", {
        "source": {"kind": "demo"}, "catalog": {}, "batch_size": 10,
        "features": {"toy": {"extractor": "pixels", "pca": 5}},
        "clustering": {"toythreshold": {"k": [2]}},
    })
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(config), "-n"], capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert result.returncode != 0
    assert "config key 'clustering.toythreshold'" in result.stdout + result.stderr


@pytest.mark.slow
def test_a_plugins_catalog_reducer_diagnostic_and_assigner_run_through_the_workflow(tmp_path):
    """The second half of the recipes: a source that makes its own catalog, a reducer (a view),
    a method's diagnostic figure and its assigner, each one registration in the toy module."""
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}

    def run(work, config):
        path = write_config(work / "config.yaml", config)
        return subprocess.run(
            [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
             "--configfile", str(path), "--cores", "2"], capture_output=True, text=True, env=env, cwd=work,
            timeout=900)

    ref = tmp_path / "ref"
    ref.mkdir()
    config = {
        "seed": 1,
        "source": {"kind": "toycatalog", "cache_dir": "cache", "toycatalog": {"n_galaxies": 20}},
        "catalog": {"truth": ["shape"]},  # no path: the source's catalog hook draws it
        "batch_size": 10,
        "features": {"toy": {"extractor": "toybright", "pca": False},
                     "toy_first": {"from": "toy", "reduce": {"method": "toyfirst", "n_components": 1},
                                   "methods": ["toyranks"]}},
        "clustering": {"toyranks": {"k": [2, 3]}},
    }
    result = run(ref, config)
    assert result.returncode == 0, result.stderr[-4000:]
    shapes = ["bright", "faint"] * 10
    catalog = read_table(ref / "results/catalog.ecsv")
    assert list(catalog["id"]) == [f"t{i:02d}" for i in range(20)]
    for fs in ("toy", "toy_first"):
        labels = read_table(ref / f"results/clustering/{fs}/toyranks-k2/labels.ecsv")
        assert adjusted_rand_score(shapes, labels["label"]) == 1.0
    # the reducer's view: its first column scaled to unit range
    from galclust.store import read_array

    view = read_array(ref / "results/features/toy_first/reduced.zarr", "features")
    assert view.shape == (20, 1) and np.ptp(view[:, 0]) == pytest.approx(1.0)
    # the diagnostic: measured by the cluster jobs, drawn in the information figure's place
    import json

    metrics = json.loads((ref / "results/clustering/toy/toyranks-k3/metrics.json").read_text())
    assert metrics["toy_spread"] > 0
    assert (ref / "results/features/toy/information.png").stat().st_size > 5000

    # new galaxies placed into the reference's clusters by the method's own assigner (1-NN)
    new = tmp_path / "new"
    new.mkdir()
    config["source"]["toycatalog"]["n_galaxies"] = 6
    config["assign"] = {"reference": str(ref / "results")}
    result = run(new, config)
    assert result.returncode == 0, result.stderr[-4000:]
    assigned = read_table(new / "results/assigned/toy/toyranks-k2/assigned.ecsv")
    reference = read_table(ref / "results/clustering/toy/toyranks-k2/labels.ecsv")
    # the same images as reference galaxies t00..t05: each gets its twin's label
    assert list(assigned["id"]) == [f"t{i:02d}" for i in range(6)]
    assert list(assigned["label"]) == list(reference["label"][:6])
    # by the toy's own assigner, one nearest neighbour: every vote is unanimous (the default
    # 15-neighbour vote would give the ten identical disks of a shape 10 of 15 votes)
    assert set(np.asarray(assigned["confidence"]).tolist()) == {1.0}
