"""Kill anywhere, lose nothing; and one core gives the bytes of two.

One workdir runs the tiny config with ``--cores 1`` and is SIGKILLed in turn during acquire,
preprocess, training, extraction, PCA, clustering and a plot (the moment is seen from the
job's log file appearing: the job's script has started and is working), each time Snakemake
and every job in its process group at once. After ``--unlock`` and ``--rerun-incomplete`` it
must finish with outputs identical to the uninterrupted ``--cores 2`` run (the ``tiny_run``
fixture), no temporary file left, no job marked incomplete, and no cutout rendered twice.

The run asks for every number the tiny run computes (models, features, PCA, labels and
metrics of every clustering) and the figures of one CNN feature set's clusterings
(cnn_dense): that path holds every kill point. Its outputs are then compared with the
two-core run's, byte for byte (labels, metrics) and array for array (every Zarr store, the
CNN's weights: when they differ, the message names the first differing weights, the first
place where a TensorFlow op was not deterministic on the CPU). One run for both checks: a
fresh one-core run of the same targets is the same jobs again, and a killed and resumed job
starts over from nothing, so a one-core difference still shows, named by the file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, TINY, load_yaml, snakemake, write_config
from outputs import differences, incomplete_markers, temp_leftovers

pytestmark = [pytest.mark.slow, pytest.mark.integration]

# (rule, its log folder or file): the job is killed shortly after its log appears.
KILL_POINTS = [
    ("acquire", "logs/acquire"),
    ("preprocess", "logs/preprocess"),
    ("train_model", "logs/train_model"),
    ("extract", "logs/extract"),
    ("reduce", "logs/reduce"),
    ("cluster", "logs/cluster"),
    ("plot_clustering", "logs/plot_clustering"),
]
# Seconds between the log appearing and the kill: inside the job's work, not at its start.
DELAY = {"train_model": 3.0, "extract": 1.5}


def logs_of(workdir: Path, folder: str) -> set[str]:
    root = workdir / folder
    return {str(p) for p in root.rglob("*.log")} if root.is_dir() else set()


def cutouts(workdir: Path) -> dict[str, tuple[int, int]]:
    """Cutout file -> (inode, mtime): a cutout rendered again gets a new inode (atomic rename)."""
    root = workdir / "resources"
    return {str(p): (p.stat().st_ino, p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file() and not p.name.startswith(".")} if root.is_dir() else {}


def start(workdir: Path, config: Path, targets: list[str]) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(config), "--cores", "1", "--rerun-incomplete", *targets]
    # a session of its own: one killpg reaches Snakemake and every job it started
    return subprocess.Popen(cmd, cwd=workdir, env=env, start_new_session=True,
                            stdout=open(workdir / "snakemake.out", "a"), stderr=subprocess.STDOUT)


def kill_during(workdir: Path, config: Path, targets: list[str], rule: str, folder: str) -> bool:
    """Run until ``rule``'s next job has started, then SIGKILL the whole group. False: it never started."""
    seen = logs_of(workdir, folder)
    proc = start(workdir, config, targets)
    try:
        while proc.poll() is None:
            if logs_of(workdir, folder) - seen:
                time.sleep(DELAY.get(rule, 0.4))
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.05)
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def targets_of(reference: Path) -> list[str]:
    """Every number of the tiny run (models, features, PCA, labels, metrics; not the figures,
    half the jobs, which hold nothing the numbers do not) and the figures of cnn_dense's
    clusterings (the plot kill point)."""
    results = reference / "results"
    numbers = [p for p in results.glob("clustering/*/*/*") if p.name in ("labels.ecsv", "metrics.json")]
    numbers += list(results.glob("models/*/metrics.json"))
    figures = list(results.glob("clustering/cnn_dense/*/summary.png"))
    assert len(figures) == 7 and len(numbers) > 20  # one clustering of each method
    return sorted(str(p.relative_to(reference)) for p in numbers + figures)


@pytest.fixture(scope="module")
def resumed(tiny_run, tmp_path_factory):
    """The killed, resumed one-core run: (its workdir, config, targets, the rules killed, the
    cutouts seen before the final run, its differences from the two-core run). The comparison
    reads every Zarr store of both runs, so it is made once for the two tests that assert it."""
    reference, _, _ = tiny_run
    work = tmp_path_factory.mktemp("killed")
    config = write_config(work / "config.yaml", load_yaml(TINY))
    targets = targets_of(reference)
    killed: list[str] = []
    rendered: dict[str, tuple[int, int]] = {}
    for rule, folder in KILL_POINTS:
        if kill_during(work, config, targets, rule, folder):
            killed.append(rule)
        # a cutout, once under its final name, is never rendered (or fetched) again
        now = cutouts(work)
        assert {k: now.get(k) for k in rendered} == rendered, f"cutouts re-rendered after the kill in {rule}"
        rendered = now
        unlock = snakemake(work, config, "--unlock")
        assert unlock.returncode == 0, unlock.stderr[-2000:]
    result = snakemake(work, config, "--cores", "1", "--rerun-incomplete", *targets)
    assert result.returncode == 0, result.stderr[-4000:]
    return work, config, targets, killed, rendered, differences(reference, work, subset=True)


def test_killed_at_every_stage_resumes_to_identical_outputs(resumed):
    work, config, targets, killed, rendered, differing = resumed
    assert len(killed) >= 5, f"only killed during {killed}"
    assert all((work / t).is_file() for t in targets)
    assert differing == []
    assert temp_leftovers(work / "results") == []
    assert temp_leftovers(work / "resources") == []
    assert incomplete_markers(work) == []
    now = cutouts(work)
    assert {k: now.get(k) for k in rendered} == rendered, "cutouts re-rendered by the final run"
    # and a further run has nothing left to do
    dry = snakemake(work, config, "--cores", "1", "-n", *targets)
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_one_core_and_two_cores_give_identical_outputs(tiny_run, resumed):
    """Every number the tiny run computes, with one core, equals the two-core run's."""
    reference, _, _ = tiny_run
    work, differing = resumed[0], resumed[-1]
    assert (work / "results/features").is_dir() and (work / "results/batches").is_dir()
    feature_sets = [p.name for p in (reference / "results/clustering").iterdir()]
    assert len(feature_sets) >= 3
    assert all((work / "results/features" / fs / "reduced.zarr").is_dir() for fs in feature_sets)
    assert differing == []
