"""What a change re-runs, on the finished tiny run (dry runs against a modified config).

Snakemake's own rerun triggers (params, input, code, software-env) decide. Each case names the
jobs a change reaches directly (rules, or their outputs); what follows from them is not listed
here but taken from the workflow: the dry run that forces exactly those jobs (``-R``) on the
unchanged config. The tiny config: 2 batches of 30, 3 feature sets (pixels and two cuts of the
CNN ``refcnn``), 7 clusterings per feature set, one agglomerative, member PDFs for one
clustering of ``pixels``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import load_yaml, planned_jobs, snakemake, write_config
from galclust import paths
from galclust.workflow import Plan

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


def downstream(tiny_run, *targets: str) -> dict[str, int]:
    """The workflow's own answer to what follows from ``targets`` (rules or output files): job
    counts of the dry run that forces them on the finished run, config unchanged."""
    workdir, config_path, _ = tiny_run
    result = snakemake(workdir, config_path, "--cores", "2", "-n", "--forcerun", *targets)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = planned_jobs(result)
    assert jobs, f"forcing {targets} planned nothing"
    return jobs


def reduced(tiny_run, feature_sets: list[str] | None = None) -> list[str]:
    """The reduced stores of ``feature_sets`` (all): what changed features reach first."""
    plan = Plan(tiny_run[2])
    return [paths.fill(paths.REDUCED, fs=fs) for fs in feature_sets or plan.features]


def clusterings_of(tiny_run, method: str) -> list[str]:
    """The labels of every clustering by ``method``."""
    plan = Plan(tiny_run[2])
    return [paths.fill(paths.LABELS, fs=fs, job=job) for fs in plan.features for job in plan.jobs_for(fs)
            if plan.jobs[job].method == method]


def stores_of(tiny_run, extractor: str) -> list[str]:
    """The feature stores of ``extractor``, every batch."""
    plan = Plan(tiny_run[2])
    return [paths.fill(paths.FEATURE_STORE, batch=b, extractor=extractor) for b in plan.batches]


@pytest.mark.parametrize("key, value", [("size", 64), ("normalise", {"mode": "recentre"})])
def test_changing_preprocessing_reruns_it_and_everything_downstream_but_downloads_nothing(
    tiny_run, tmp_path, key, value
):
    def change(config):
        assert config["preprocess"].get(key) != value
        config["preprocess"][key] = value

    jobs, config = dry_run(tiny_run, tmp_path, change)
    assert jobs == downstream(tiny_run, "preprocess"), jobs
    assert (jobs["preprocess"], jobs["extract"]) == (2, 4)  # both batches; pixels and refcnn
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
        **downstream(tiny_run, *reduced(tiny_run)),
    }, jobs


def test_changing_cnn_training_retrains_and_reextracts_without_preprocessing(tiny_run, tmp_path):
    def change(config):
        config["models"]["refcnn"]["train"]["epochs"] = 3

    jobs, config = dry_run(tiny_run, tmp_path, change)
    assert jobs == downstream(tiny_run, "train_model"), jobs
    assert jobs["extract"] == 2 and jobs["reduce"] == 2  # refcnn of both batches, its two feature sets


def _set(config: dict, key: str, value) -> None:
    *parents, last = key.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    assert node.get(last) != value, key
    node[last] = value


@pytest.mark.parametrize("key, value, reaches", [
    # each setting reaches its step through the rule's params, and only there; the rest follows
    ("report.summary_examples", 2, ["plot_clustering"]),
    ("report.dendrogram_leaves", 10, ["dendrogram"]),
    ("report.maps.grid", 12, ["maps"]),
    ("similarity.k", 9, ["neighbour_index"]),
    ("clustering.dbscan.min_samples", 4, lambda run: clusterings_of(run, "dbscan")),
    ("clustering.kmeans.n_init", 5, lambda run: clusterings_of(run, "kmeans")),
    ("catalog.truth", [], ["compare", "maps", "quality"]),
    ("models.refcnn.batch_size", 8, lambda run: stores_of(run, "refcnn")),
    ("source.download.max_attempts", 2, ["acquire"]),  # how cutouts are fetched: all from there on
], ids=lambda v: v if isinstance(v, str) else "")
def test_each_setting_reruns_exactly_the_steps_that_read_it(tiny_run, tmp_path, key, value, reaches):
    jobs, config = dry_run(tiny_run, tmp_path, lambda config: _set(config, key, value))
    targets = reaches(tiny_run) if callable(reaches) else reaches
    assert jobs == downstream(tiny_run, *targets), jobs


def test_summary_reruns_only_when_what_it_reads_changes(tiny_run, tmp_path):
    """Not for any config change (it reads no config hash), but when a clustering's metrics do."""
    unrelated, _ = dry_run(tiny_run, tmp_path, lambda c: _set(c, "report.summary_examples", 2))
    assert unrelated["plot_clustering"] == 21 and "summary" not in unrelated, unrelated
    read, _ = dry_run(tiny_run, tmp_path, lambda c: _set(c, "clustering.kmeans.n_init", 5))
    assert read["cluster"] == 6 and read["summary"] == 1, read


def test_editing_the_ids_of_a_user_feature_file_reruns_the_jobs_that_read_it(tmp_path):
    """``features.<fs>.ids`` is an input of the jobs that read it, like the feature file."""
    import numpy as np

    rng = np.random.default_rng(0)
    np.save(tmp_path / "feat.npy", rng.normal(size=(12, 4)).astype(np.float32))
    np.save(tmp_path / "ids.npy", np.array([f"g{i}" for i in range(12)]))
    config = write_config(tmp_path / "config.yaml", {
        "seed": 1, "source": {"kind": "demo", "cache_dir": "cache"}, "catalog": {}, "batch_size": 1000,
        "features": {"f": {"extractor": "file", "file": "feat.npy", "ids": "ids.npy", "pca": 3}},
        "clustering": {"kmeans": {"k": [2]}},
        "report": {"member_pdfs": [], "summary_examples": 2, "dendrogram_leaves": 4},
    })
    target = paths.fill(paths.REDUCED, fs="f")
    done = snakemake(tmp_path, config, "--cores", "1", target)
    assert done.returncode == 0, done.stderr[-3000:]
    assert planned_jobs(snakemake(tmp_path, config, "-n", target)) == {}
    np.save(tmp_path / "ids.npy", np.array([f"h{i}" for i in range(12)]))
    assert planned_jobs(snakemake(tmp_path, config, "-n", target)) == {"reduce": 1}
