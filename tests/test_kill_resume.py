"""Kill anywhere, lose nothing: SIGKILL the tiny workflow at several moments, resume, compare.

One workdir is killed in turn during acquire, preprocess, training, extraction, PCA,
clustering and a plot (the moment is seen from the job's log file appearing: the job's
script has started and is working), each time Snakemake and every job in its process
group at once. After ``--unlock`` and ``--rerun-incomplete`` it must finish with outputs
identical to an uninterrupted run (the ``tiny_run`` fixture), no temporary file left,
no job marked incomplete, and no cutout rendered twice.

The killed run asks for the figures of every clustering of one CNN feature set (cnn_dense):
that path holds every kill point (acquire, preprocess, training, extraction, PCA, each
clustering method, its figure) at a third of the tiny run's jobs; every file it makes is
compared with the uninterrupted run's.
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
           "--directory", str(workdir), "--configfile", str(config), "--cores", "2", "--rerun-incomplete", *targets]
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


def test_killed_at_every_stage_resumes_to_identical_outputs(tiny_run, tmp_path):
    reference, _, _ = tiny_run
    config = write_config(tmp_path / "config.yaml", load_yaml(TINY))
    targets = sorted(str(p.relative_to(reference)) for p in reference.glob("results/clustering/cnn_dense/*/summary.png"))
    assert len(targets) == 7  # one clustering of each method
    killed: list[str] = []
    rendered: dict[str, tuple[int, int]] = {}
    for rule, folder in KILL_POINTS:
        if kill_during(tmp_path, config, targets, rule, folder):
            killed.append(rule)
        # a cutout, once under its final name, is never rendered (or fetched) again
        now = cutouts(tmp_path)
        assert {k: now.get(k) for k in rendered} == rendered, f"cutouts re-rendered after the kill in {rule}"
        rendered = now
        unlock = snakemake(tmp_path, config, "--unlock")
        assert unlock.returncode == 0, unlock.stderr[-2000:]
    assert len(killed) >= 5, f"only killed during {killed}"

    result = snakemake(tmp_path, config, "--cores", "2", "--rerun-incomplete", *targets)
    assert result.returncode == 0, result.stderr[-4000:]

    assert all((tmp_path / t).is_file() for t in targets)
    assert differences(reference, tmp_path, subset=True) == []
    assert temp_leftovers(tmp_path / "results") == []
    assert temp_leftovers(tmp_path / "resources") == []
    assert incomplete_markers(tmp_path) == []
    now = cutouts(tmp_path)
    assert {k: now.get(k) for k in rendered} == rendered, "cutouts re-rendered by the final run"
    # and a further run has nothing left to do
    dry = snakemake(tmp_path, config, "--cores", "2", "-n", *targets)
    assert "Nothing to be done" in dry.stdout + dry.stderr
