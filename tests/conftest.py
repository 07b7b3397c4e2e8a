"""Shared helpers: run the real Snakefile in a temporary directory."""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference" / "sdss_clustering"
TINY = REPO / "config" / "tests" / "tiny.yaml"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def load_example(name: str) -> dict:
    """A config of ``config/examples`` with the paths of the models it ships (relative to the
    repository, as a user runs it) made absolute, for runs in a temporary directory."""
    config = load_yaml(REPO / "config" / "examples" / name)
    for model in (config.get("models") or {}).values():
        if model.get("path") and not Path(model["path"]).is_absolute():
            model["path"] = str(REPO / model["path"])
    return config


def snakemake_env(**extra: str) -> dict[str, str]:
    """The environment of a test's snakemake run: this one, TensorFlow quiet, output unbuffered."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", **extra}


def snakemake(workdir: Path, config: Path, *args: str, timeout: int = 1800,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``snakemake`` on the repository's Snakefile with ``config`` in ``workdir`` (as ``python -m
    snakemake`` would, forked from a process that imported it once: tests/snakezygote.py)."""
    env = snakemake_env(**(env or {}))
    argv = ["--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), "--configfile", str(config), *args]
    return _ZYGOTE.run(argv, cwd=workdir, env=env, timeout=timeout)


class _Zygote:
    """The client of tests/snakezygote.py: one server per pytest process, started on first use,
    one run at a time."""

    def __init__(self) -> None:
        self._server: subprocess.Popen | None = None
        self._lock = threading.Lock()
        atexit.register(self.close)

    def _start(self) -> subprocess.Popen:
        if self._server is None or self._server.poll() is not None:
            self._server = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("snakezygote.py"))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        return self._server

    def close(self) -> None:
        """End the server (it ends at the end of its input) and reap it."""
        if self._server is not None and self._server.poll() is None:
            self._server.stdin.close()
            self._server.wait(timeout=60)

    def _reply(self, server: subprocess.Popen, deadline: float | None) -> dict:
        wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        if not select.select([server.stdout], [], [], wait)[0]:
            raise TimeoutError
        line = server.stdout.readline()
        if not line:
            raise RuntimeError("tests/snakezygote.py ended; its error output is above")
        return json.loads(line)

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
        with self._lock, tempfile.TemporaryDirectory(prefix="galclust-snakemake-") as scratch:
            out, err = Path(scratch, "stdout"), Path(scratch, "stderr")
            server = self._start()
            server.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd), "env": env,
                                           "out": str(out), "err": str(err)}) + "\n")
            server.stdin.flush()
            pid = self._reply(server, None)["pid"]
            try:
                status = self._reply(server, time.monotonic() + timeout)["status"]
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                self._reply(server, None)
                raise subprocess.TimeoutExpired(["snakemake", *argv], timeout) from None
            text = [p.read_text(errors="replace") if p.exists() else "" for p in (out, err)]
        return subprocess.CompletedProcess(["snakemake", *argv], status, *text)


_ZYGOTE = _Zygote()


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    counts: dict[str, int] = {}
    lines = (result.stdout + result.stderr).splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("Job stats:"))
    except StopIteration:
        return counts
    for line in lines[start + 3 :]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        if parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One finished run of the tiny demo config: (workdir, config path, validated config)."""
    from galclust.config import validate_config

    workdir = tmp_path_factory.mktemp("tiny")
    config = load_yaml(TINY)
    config_path = write_config(workdir / "config.yaml", config)
    result = snakemake(workdir, config_path, "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir, config_path, validate_config(config)


@pytest.fixture(scope="session")
def extended_run(tiny_run, tmp_path_factory):
    """The tiny run extended by one config change (a copy of its directory, copy2 keeping the
    mtimes, so only the new jobs run): views of a feature set (t-SNE, LDA), GMM at two k and the
    physical-parameter figures (tests/test_views_workflow.py); a CNN learning the class column,
    a backbone fine-tuned on two columns and a self-supervised CNN monitored against the truth
    (tests/test_supervised.py). One run for both modules, so the jobs that read every
    clustering (comparison, summary, explorer) run once. (workdir, its config, the rule -> job
    count of its dry run)."""
    import shutil

    workdir, config_path, _ = tiny_run
    work = tmp_path_factory.mktemp("extended") / "run"
    shutil.copytree(workdir, work, symlinks=True)
    config = load_yaml(config_path)
    features, models = config["features"], config["models"]
    features["dense_tsne"] = {"from": "cnn_dense", "reduce": {"method": "tsne", "perplexity": 10},
                              "methods": ["kmeans", "dbscan", "gmm"]}
    features["dense_lda"] = {"from": "cnn_dense", "reduce": {"method": "lda", "target": "klass"},
                             "methods": ["kmeans", "gmm"]}
    config["clustering"]["gmm"] = {"k": [2, 3]}  # two k: its information criteria drawn against k
    config["report"]["physical"] = {"pairs": [["ellipticity", "lambda_r"]], "columns": ["lambda_r"]}
    models["classcnn"] = {"train": {"target": "klass", "epochs": 2, "batch_size": 16, "max_galaxies": 60},
                          "layers": {"dense": "dense_128"}}
    models["tuned"] = {"kind": "backbone", "backbone": "efficientnetb0", "weights": "random", "input_size": 32,
                       "fine_tune": True, "layers": {"pool": "global_average_pooling"},
                       "train": {"target": ["lambda_r", "ellipticity"], "epochs": 1, "batch_size": 16,
                                 "max_galaxies": 60}}
    models["ssl"] = {"kind": "simclr", "train": {"epochs": 1, "batch_size": 16, "max_galaxies": 60},
                     "layers": {"dense": "dense_128"}}
    features["ssl_dense"] = {"extractor": "ssl", "layer": "dense", "pca": 5, "methods": ["kmeans"]}
    features["class_dense"] = {"extractor": "classcnn", "layer": "dense", "pca": 5, "methods": ["kmeans"]}
    features["tuned_pool"] = {"extractor": "tuned", "layer": "pool", "pca": 5, "methods": ["kmeans"]}
    path = write_config(work / "extended.yaml", config)
    dry = snakemake(work, path, "--cores", "2", "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    result = snakemake(work, path, "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    return work, config, planned_jobs(dry)


def pytest_collection_finish(session):
    """Start what a selected test would wait minutes for (tests/test_slurm.py's one-node SLURM
    and its runs: mostly job start-ups and status checks) so that it runs beside the tests
    collected before it. Only when such a test is selected (not under ``-m "not slow"``), and
    not in a pytest-xdist worker: there the other worker runs beside it, and only the worker
    that runs those tests may start the one cluster."""
    if session.config.option.collectonly or hasattr(session.config, "workerinput"):
        return
    for item in session.items:
        module = getattr(item, "module", None)
        if hasattr(module, "start_in_background") and "runs" in getattr(item, "fixturenames", ()):
            module.start_in_background()
            _BACKGROUND_MODULES.add(module)


def pytest_configure(config):
    if config.pluginmanager.hasplugin("xdist"):
        from xdist_groups import ModuleGroups

        config.pluginmanager.register(ModuleGroups(config.rootpath), "galclust-xdist-groups")


def pytest_sessionfinish(session):
    for module in _BACKGROUND_MODULES:
        module.stop_background()


_BACKGROUND_MODULES: set = set()
