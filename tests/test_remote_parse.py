"""A job's own parse (a SLURM job: `snakemake --mode remote`) skips the checks against the catalog
and the user's files that the submitting parse made (Plan.check), and the config is validated
once per parse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, TINY

pytestmark = pytest.mark.slow  # parses the Snakefile (make test-fast leaves it out)

#: snakemake in this process, counting Plan.check, catalog reads and config validations
COUNTING = """
import json, sys
import galclust.config, galclust.workflow
counts = {"check": 0, "catalog": 0, "validate": 0}
def counted(key, func):
    def wrapper(*args, **kwargs):
        counts[key] += 1
        return func(*args, **kwargs)
    return wrapper
galclust.workflow.Plan.check = counted("check", galclust.workflow.Plan.check)
galclust.workflow.load_catalog = counted("catalog", galclust.workflow.load_catalog)
galclust.workflow.validate_config = counted("validate", galclust.workflow.validate_config)
galclust.config.validate_config = counted("validate", galclust.config.validate_config)
from snakemake.cli import main
try:
    main(sys.argv[1:])
finally:
    print("COUNTS " + json.dumps(counts), file=sys.stderr)
"""


def parse_counts(workdir: Path, *args: str) -> dict[str, int]:
    cmd = [sys.executable, "-c", COUNTING, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(TINY), "--cores", "1", "-n", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, timeout=600)
    line = next((l for l in result.stderr.splitlines() if l.startswith("COUNTS ")), None)
    assert result.returncode == 0 and line, result.stderr[-3000:]
    return json.loads(line[len("COUNTS "):])


def test_a_remote_job_trusts_the_checks_of_the_parse_that_submitted_it(tmp_path):
    main = parse_counts(tmp_path)
    assert main == {"check": 1, "catalog": 1, "validate": 1}, main  # the whole catalog read once
    # as snakemake-executor-plugin-slurm runs a job: the same Snakefile, `--mode remote`, one target
    remote = parse_counts(tmp_path, "--mode", "remote", "--target-jobs", "catalog:")
    assert remote["check"] == 0 and remote["validate"] == 1, remote
    # the catalog is still read once to name the batches (remaining: take them from the submitter)
    assert remote["catalog"] <= 1, remote
