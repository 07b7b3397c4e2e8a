"""Every rule writes a log under logs/ and a benchmark under benchmarks/ (on the tiny run)."""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import snakemake

pytestmark = pytest.mark.slow  # runs Snakemake, SLURM or Chromium (make test-fast leaves it out)


def dry_run_jobs(output: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, {field: value}) of every job listed by a dry run."""
    jobs: list[tuple[str, dict[str, str]]] = []
    for line in output.splitlines():
        m = re.match(r"^(?:local)?rule (\w+):$", line)
        if m:
            jobs.append((m.group(1), {}))
            continue
        m = re.match(r"^    (\w+): (.*)$", line)
        if m and jobs:
            jobs[-1][1][m.group(1)] = m.group(2)
    return jobs


def test_every_job_wrote_its_log_and_benchmark(tiny_run):
    workdir, config_path, _ = tiny_run
    listed = snakemake(workdir, config_path, "--list-rules")
    assert listed.returncode == 0, listed.stderr[-3000:]
    rules = set(re.findall(r"^(\w+)$", listed.stdout, re.M))
    result = snakemake(workdir, config_path, "-n", "--forceall")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = dry_run_jobs(result.stdout + result.stderr)
    # the tiny run exercises every rule but those its config leaves off, which other tests run:
    # similar_sheets and physical (report.similar/physical: test_real_images, test_views_workflow),
    # project and assign (assign.reference: test_assign_workflow), the projected feature stores
    # (feature_storage, above 50,000 galaxies: test_projected)
    optional = {"similar_sheets", "physical", "project", "assign",
                "extract_fit_sample", "fit_projection", "extract_projected", "gather_projected"}
    assert {rule for rule, _ in jobs} == rules - optional
    for rule, fields in jobs:
        if rule == "all":  # the target rule runs nothing
            continue
        logs = fields.get("log", "").split(", ")
        bench = fields.get("benchmark", "")
        assert logs != [""] and all(p.startswith(f"logs/{rule}") for p in logs), (rule, fields)
        assert bench.startswith(f"benchmarks/{rule}") and bench.endswith(".tsv"), (rule, fields)
        for path in (*logs, bench):
            assert (workdir / path).is_file(), f"{rule}: {path} was not written"


def test_a_failed_jobs_log_is_shown(tiny_run, tmp_path):
    """profiles/default (the workflow profile) sets show-failed-logs: the log is in the output."""
    workdir, config_path, _ = tiny_run
    store = tmp_path / "results/features/pixels/reduced.zarr"
    shutil.copytree(workdir / "results/features/pixels/reduced.zarr", store)
    shutil.rmtree(store / "features")  # a broken store: clustering it fails
    target = "results/clustering/pixels/kmeans-k3/labels.ecsv"
    result = snakemake(tmp_path, config_path, "--cores", "1", target, "--allowed-rules", "cluster")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    shown = output.split("Logfile logs/cluster/pixels/kmeans-k3.log:", 1)
    assert len(shown) == 2, output[-3000:]
    assert "no array 'features'" in shown[1]


def test_a_full_disk_is_one_line_naming_the_output(tmp_path, capfd):
    """Out of space, a file-size limit or a read-only folder: the storage, not the code, so one
    line naming the job's output (also when a writer re-raised it wrapped)."""
    import errno

    from galclust.logs import job_log

    with pytest.raises(SystemExit):
        with job_log(tmp_path / "job.log", ["results/features/f/reduced.zarr"]):
            try:
                raise OSError(errno.EFBIG, "File too large")
            except OSError as exc:
                raise RuntimeError("a writer thread failed") from exc
    err = capfd.readouterr().err
    assert "galclust: results/features/f/reduced.zarr: File too large" in err
    with pytest.raises(ValueError):  # any other error keeps its traceback and type
        with job_log(tmp_path / "job.log", ["out"]):
            raise ValueError("a bug")
