"""What a change re-runs, on the finished tiny run (dry runs against a modified config).

Snakemake's own rerun triggers (params, input, code, software-env) decide; the expected
job counts follow from the tiny config: 2 batches of 30, 3 feature sets (pixels and two
cuts of the CNN ``refcnn``), 7 clusterings per feature set, one agglomerative, member PDFs
for one clustering of ``pixels``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import load_yaml, planned_jobs, snakemake, write_config
from galclust.config import clustering_jobs

pytestmark = pytest.mark.slow  # runs Snakemake, SLURM or Chromium (make test-fast leaves it out)


def dry_run(tiny_run, tmp_path, change: Callable[[dict], None]) -> tuple[dict[str, int], dict]:
    """Job counts of ``snakemake -n`` on the tiny run's directory with a changed config."""
    workdir, config_path, _ = tiny_run
    config = load_yaml(config_path)
    change(config)
    changed = write_config(tmp_path / "changed.yaml", config)
    result = snakemake(workdir, changed, "--cores", "2", "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    return planned_jobs(result), config


def downstream_of_features(config: dict, feature_sets: list[str]) -> dict[str, int]:
    """Jobs from PCA on, when the features of ``feature_sets`` change."""
    jobs = clustering_jobs(config)
    n_fs, n_jobs = len(feature_sets), len(jobs)
    members = [t for t in config["report"]["member_pdfs"] if t.split("/")[0] in feature_sets]
    explorer_fs = config.get("report", {}).get("explorer", {}).get("features") or next(iter(config["features"]))
    counts = {
        "reduce": n_fs,
        "cluster": n_fs * n_jobs,
        "plot_clustering": n_fs * n_jobs,
        "neighbour_index": n_fs,
        "maps": n_fs,
        "quality": n_fs,
        "quality_plot": 1,
        "explorer": int(explorer_fs in feature_sets),
        "dendrogram": n_fs * sum(j.method == "agglomerative" for j in jobs.values()),
        "member_pdfs": len(members),
        "elbow_eigengap": n_fs,
        "compare": 1,
        "summary": 1,
        "manifest": 1,
        "all": 1,
    }
    return {rule: n for rule, n in counts.items() if n}


@pytest.mark.parametrize("key, value", [("size", 64), ("normalise", {"mode": "recentre"})])
def test_changing_preprocessing_reruns_it_and_everything_downstream_but_downloads_nothing(
    tiny_run, tmp_path, key, value
):
    def change(config):
        assert config["preprocess"].get(key) != value
        config["preprocess"][key] = value

    jobs, config = dry_run(tiny_run, tmp_path, change)
    assert jobs == {
        "preprocess": 2,  # both batches
        "train_model": 1,
        "extract": 4,  # pixels and refcnn, both batches
        **downstream_of_features(config, list(config["features"])),
    }, jobs
    assert "acquire" not in jobs and "catalog" not in jobs  # the cutouts are reused


def test_appending_galaxies_processes_only_the_new_batch(tiny_run, tmp_path):
    def change(config):
        assert config["source"]["demo"]["n_galaxies"] == 60 and config["batch_size"] == 30
        config["source"]["demo"]["n_galaxies"] = 90  # a third batch, b0002

    jobs, config = dry_run(tiny_run, tmp_path, change)
    assert jobs == {
        "catalog": 1,
        "acquire": 1,  # b0002 only
        "preprocess": 1,
        "extract": 2,  # pixels and refcnn of b0002; the CNN trains on the first 60 galaxies
        **downstream_of_features(config, list(config["features"])),
    }, jobs


def test_changing_cnn_training_retrains_and_reextracts_without_preprocessing(tiny_run, tmp_path):
    def change(config):
        config["models"]["refcnn"]["train"]["epochs"] = 3

    jobs, config = dry_run(tiny_run, tmp_path, change)
    cnn_sets = [fs for fs, s in config["features"].items() if s["extractor"] == "refcnn"]
    assert cnn_sets == ["cnn_conv", "cnn_dense"]
    assert jobs == {
        "train_model": 1,
        "extract": 2,  # refcnn of both batches; pixels untouched
        **downstream_of_features(config, cnn_sets),
    }, jobs


def _set(config: dict, key: str, value) -> None:
    *parents, last = key.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    assert node.get(last) != value, key
    node[last] = value


AGGREGATES = {"summary": 1, "manifest": 1, "all": 1}


CNN_SETS = ["cnn_conv", "cnn_dense"]


@pytest.mark.parametrize("key, value, expected", [
    # each setting reaches its step through the rule's params, and only there
    ("report.summary_examples", 2, {"plot_clustering": 21, **AGGREGATES}),
    ("report.dendrogram_leaves", 10, {"dendrogram": 3, **AGGREGATES}),
    ("report.maps.grid", 12, {"maps": 3, "explorer": 1, **AGGREGATES}),
    ("similarity.k", 9, {"neighbour_index": 3, "explorer": 1, **AGGREGATES}),
    ("clustering.dbscan.min_samples", 4, {"cluster": 3, "plot_clustering": 3, "maps": 3,
                                          "explorer": 1, "compare": 1, **AGGREGATES}),
    ("clustering.kmeans.n_init", 5, {"cluster": 6, "plot_clustering": 6, "maps": 3, "explorer": 1,
                                     "elbow_eigengap": 3, "member_pdfs": 1, "compare": 1, **AGGREGATES}),
    ("catalog.truth", [], {"compare": 1, "maps": 3, "quality": 3, "quality_plot": 1, "explorer": 1,
                           **AGGREGATES}),
    ("models.refcnn.batch_size", 8, "cnn"),
    ("source.download.max_attempts", 2, "all"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_each_setting_reruns_exactly_the_steps_that_read_it(tiny_run, tmp_path, key, value, expected):
    jobs, config = dry_run(tiny_run, tmp_path, lambda config: _set(config, key, value))
    if expected == "cnn":  # the CNN's features of both batches, and what follows from them
        expected = {"extract": 2, **downstream_of_features(config, CNN_SETS)}
    elif expected == "all":  # how cutouts are fetched: everything from acquisition on
        expected = {"acquire": 2, "preprocess": 2, "train_model": 1, "extract": 4,
                    **downstream_of_features(config, list(config["features"]))}
    assert jobs == expected, jobs
