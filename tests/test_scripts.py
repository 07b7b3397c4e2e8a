"""Every ``scripts/<rule>.py`` is one call through the runner (galclust.stages.runner): its keyword
arguments fit its stage's signature, and a job imports only its stage's module."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from galclust.stages import runner

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


class Anything(list):
    """Stands for snakemake.input/output/params/wildcards/log: any item, any attribute."""

    def __init__(self) -> None:
        super().__init__(["x.log"])

    def __getattr__(self, name: str) -> str:
        return f"{name}.x"


class FakeSnakemake:
    def __init__(self) -> None:
        self.input, self.output, self.params, self.wildcards, self.log = (Anything() for _ in range(5))
        self.threads = 1


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("[!_]*.py")))
def test_each_script_calls_its_stage_with_keywords_that_fit(script, monkeypatch):
    called: dict[str, Any] = {}

    def bind(smk, stage, *, foreground=False, **kwargs):
        module, _, function = stage.partition(":")
        func = getattr(importlib.import_module(f"galclust.{module}"), function)
        inspect.signature(func).bind(**kwargs)  # raises on a missing or unknown argument
        called["stage"] = stage

    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.setattr(runner, "run", bind)
    monkeypatch.delitem(sys.modules, "_run", raising=False)
    code = compile((SCRIPTS / script).read_text(), script, "exec")
    exec(code, {"snakemake": FakeSnakemake(), "__name__": "__main__"})
    assert called["stage"].split(":")[1] in {script[:-3], "write_manifest"}


def test_a_clustering_job_imports_neither_tensorflow_nor_matplotlib(tmp_path):
    """The runner imports the stage's module only, inside the job's log, and scikit-learn
    without pandas (galclust.leanimports, installed by the runner)."""
    code = f"""
import sys
sys.path.insert(0, {str(SCRIPTS)!r})
from _run import run
class Smk:
    log = [{str(tmp_path / 'job.log')!r}]
    output = []
run(Smk(), "stages.cluster:ClusteringJob", name="kmeans-k2", method="kmeans", params={{}})
import sklearn.cluster  # as the clustering stage does
print(sorted(m for m in ("tensorflow", "matplotlib", "keras", "pandas") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    assert (tmp_path / "job.log").is_file()


@pytest.mark.parametrize("foreground, raised", [(True, 0), (False, runner.BACKGROUND_NICENESS)])
def test_jobs_off_the_training_path_yield_the_cpu(tmp_path, foreground, raised):
    """Jobs that feed the training keep their priority; any other job is niced, so that on a
    workstation the network trains on the cores it can use and the rest fill what it leaves."""
    code = f"""
import os, sys
sys.path.insert(0, {str(SCRIPTS)!r})
from _run import run
class Smk:
    log = [{str(tmp_path / 'job.log')!r}]
    output = []
before = os.nice(0)
run(Smk(), "stages.cluster:ClusteringJob", foreground={foreground}, name="kmeans-k2", method="kmeans", params={{}})
print(os.nice(0) - before)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) == raised, out.stdout + out.stderr
