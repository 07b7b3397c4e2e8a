"""A job's own parse (a SLURM job: `snakemake --mode remote`) skips the checks against the catalog
and the user's files that the submitting parse made (Plan.check), reads no catalog (the
submitting parse kept what it measured in .snakemake/galclust/), gives every job the same params,
files and memory as the submitting parse, and the config is validated once per parse."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, TINY

pytestmark = pytest.mark.slow  # parses the Snakefile (make test-fast leaves it out)

#: snakemake in this process, counting Plan.check, catalog reads and config validations, and
#: describing every job it made (params, files, memory)
COUNTING = """
import json, sys
import galclust.catalog, galclust.config, galclust.workflow
import snakemake.jobs
import galclust.modelcard
counts = {"check": 0, "catalog": 0, "validate": 0, "model_file": 0}
def counted(key, func):
    def wrapper(*args, **kwargs):
        counts[key] += 1
        return func(*args, **kwargs)
    return wrapper
galclust.workflow.Plan.check = counted("check", galclust.workflow.Plan.check)
galclust.catalog.load_catalog = counted("catalog", galclust.catalog.load_catalog)
galclust.workflow.validate_config = counted("validate", galclust.workflow.validate_config)
galclust.config.validate_config = counted("validate", galclust.config.validate_config)
# a model file's layers and SHA-256 (config._check_model_cards imports them when it runs)
galclust.modelcard.keras_layer_names = counted("model_file", galclust.modelcard.keras_layer_names)
galclust.modelcard.check_model_file = counted("model_file", galclust.modelcard.check_model_file)
jobs = []
made = snakemake.jobs.Job.__init__
def collect(self, *args, **kwargs):
    made(self, *args, **kwargs)
    jobs.append(self)
snakemake.jobs.Job.__init__ = collect
def described():
    out = {}
    for job in jobs:
        spec = job.rule.name + ":" + ",".join(f"{k}={v}" for k, v in sorted(job.wildcards_dict.items()))
        out[spec] = {"params": dict(job.params.items()), "input": sorted(map(str, job.input)),
                     "output": sorted(map(str, job.output)), "mem_mb": job.resources.get("mem_mb")}
    return json.loads(json.dumps(out, sort_keys=True, default=str))
from snakemake.cli import main
try:
    main(sys.argv[1:])
finally:
    print("COUNTS " + json.dumps(counts), file=sys.stderr)
    print("JOBS " + json.dumps(described()), file=sys.stderr)
"""


def parse(workdir: Path, *args: str, configs: tuple[Path, ...] = (TINY,)) -> tuple[dict[str, int], dict[str, dict]]:
    """Counts and jobs of one dry-run parse in ``workdir``."""
    cmd = [sys.executable, "-c", COUNTING, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", *map(str, configs), "--cores", "1", "-n", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, timeout=600)
    lines = {l.split(" ", 1)[0]: l.split(" ", 1)[1] for l in result.stderr.splitlines()
             if l.startswith(("COUNTS ", "JOBS "))}
    assert result.returncode == 0 and "COUNTS" in lines, result.stderr[-3000:]
    return json.loads(lines["COUNTS"]), json.loads(lines["JOBS"])


def remote(workdir: Path, specs: list[str], configs: tuple[Path, ...] = (TINY,)) -> tuple[dict[str, int], dict[str, dict]]:
    """As snakemake-executor-plugin-slurm runs jobs: the same Snakefile, `--mode remote`, targets."""
    return parse(workdir, "--mode", "remote", "--target-jobs", *specs, configs=configs)


def test_a_remote_job_reads_no_catalog_and_plans_as_the_parse_that_submitted_it(tmp_path):
    counts, planned = parse(tmp_path)
    assert counts == {"check": 1, "catalog": 1, "validate": 1, "model_file": 0}, counts  # the catalog read once
    assert list((tmp_path / ".snakemake" / "galclust").glob("facts-*.json")), "the facts kept for the jobs"
    specs = [s for s in planned if not s.startswith(("all:", "manifest:"))]
    assert {s.split(":")[0] for s in specs} >= {"catalog", "acquire", "train_model", "reduce", "cluster"}
    counts, jobs = remote(tmp_path, specs)
    assert counts == {"check": 0, "catalog": 0, "validate": 1, "model_file": 0}, counts
    assert set(jobs) == set(specs)
    for spec in specs:  # params (row digests too), files and memory: the submitter's, exactly
        assert jobs[spec] == planned[spec], spec


def test_a_remote_job_without_the_submitters_facts_measures_them_alike(tmp_path):
    _, planned = parse(tmp_path)
    shutil.rmtree(tmp_path / ".snakemake" / "galclust")  # e.g. no shared .snakemake folder
    specs = ["acquire:batch=b0001", "train_model:model=refcnn", "cluster:fs=pixels,job=kmeans-k6"]
    counts, jobs = remote(tmp_path, specs)
    assert counts["catalog"] == 1 and counts["check"] == 0, counts
    assert all(jobs[s] == planned[s] for s in specs)


def test_a_remote_job_trusts_the_model_file_the_submitter_checked(tmp_path):
    """A network given by path with its card: the submitting parse reads its layers and checks its
    SHA-256 against the card; a job's parse only reads the card (its preprocessing is the run's)."""
    overlay = tmp_path / "encoder.yaml"
    overlay.write_text(f"""
preprocess: {{from_model: enc}}
models:
  enc: {{kind: encoder, path: {REPO / 'models' / 'gz2_five_encoder.keras'}, layers: {{embedding: embedding}}}}
features:
  encoder: {{extractor: enc, layer: embedding, pca: false, methods: [kmeans]}}
""")
    configs = (TINY, overlay)
    counts, planned = parse(tmp_path, configs=configs)
    assert counts["model_file"] == 2, counts  # its layer names, then its SHA-256
    specs = [s for s in planned if s.startswith(("extract:extractor=enc", "reduce:fs=encoder"))]
    assert specs, sorted(planned)
    counts, jobs = remote(tmp_path, specs, configs)
    assert counts["model_file"] == 0 and counts["catalog"] == 0, counts
    assert all(jobs[s] == planned[s] for s in specs)  # the card's preprocessing included


def test_the_facts_file_belongs_to_one_config():
    from galclust.workflow import CatalogFacts

    facts = CatalogFacts(60, ("id", "ra"), "d0", {"b0000": "d1"}, {"refcnn": "d2"}, {"mine": (50, 7)})
    text = facts.to_json("abc")
    assert CatalogFacts.from_json(text, "abc") == facts
    assert CatalogFacts.from_json(text, "another config") is None
