"""`snakemake --profile` on a real SLURM: a one-node cluster started by the test itself.

tests/slurm/cluster.py starts munged, slurmctld and slurmd on 127.0.0.1 in a temporary
directory; config/tests/slurm.yaml then runs through tests/slurm/profile (the executor
plugin, sbatch, srun) and, for comparison, locally with --cores 2. Every job must have gone
through SLURM and the results must be identical. A dry run checks what the user-facing
profile (slurm/config.yaml) asks for. Needs root and Debian's slurmctld, slurmd,
slurm-client and munge (tests/install-system-deps.sh; `make test` and CI run it): without them
this test fails, saying so. The cluster and both runs start in the background as soon as the
session has collected these tests (``Background``), so their waiting overlaps the tests before.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from conftest import REPO, load_yaml, write_config

sys.path.insert(0, str(Path(__file__).resolve().parent / "slurm"))
from cluster import ClusterError, SlurmCluster  # noqa: E402

CONFIG = REPO / "config" / "tests" / "slurm.yaml"
PROFILE = REPO / "tests" / "slurm" / "profile"
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.")
pytestmark = [pytest.mark.slow, pytest.mark.integration]


class Background:
    """The test cluster and both runs of config/tests/slurm.yaml, started in a thread as soon as
    the session has collected a test that reads them (conftest.py's ``pytest_collection_finish``),
    so that their minutes of waiting (job start-ups, status checks) pass while the tests before
    this module run. The fixtures below wait for it; nothing about the runs changes."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="galclust-slurm-vs-local-"))
        self.cluster: SlurmCluster | None = None
        self.error: str | None = None
        self.failure: BaseException | None = None
        self.result: tuple | None = None
        self.procs: list[subprocess.Popen] = []
        self.stopping = False
        self.thread = threading.Thread(target=self._work, name="slurm-runs", daemon=True)

    def _work(self) -> None:
        try:
            self.cluster = SlurmCluster().start()
        except ClusterError as e:
            self.error = f"cannot start the test SLURM cluster: {e}"
            return
        except BaseException as e:  # noqa: BLE001 - reported by the fixture
            self.error = f"cannot start the test SLURM cluster: {e!r}"
            return
        try:
            self.result = both_runs(self, self.cluster, self.base)
        except BaseException as e:  # noqa: BLE001 - raised again by the fixture
            self.failure = e

    def stop(self) -> None:
        """End the runs' snakemake processes (by PID) and wait for the thread."""
        self.stopping = True
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        self.thread.join(timeout=120)


_BACKGROUND: Background | None = None


def start_in_background() -> Background:
    global _BACKGROUND
    if _BACKGROUND is None:
        _BACKGROUND = Background()
        _BACKGROUND.thread.start()
    return _BACKGROUND


def stop_background() -> None:
    """At the session's end: a cluster still up (this module's tests never ran: -x, Ctrl-C) stops."""
    bg = _BACKGROUND
    if bg is not None and bg.thread.is_alive():
        bg.stop()
    if bg is not None and bg.cluster is not None and not getattr(bg, "stopped", False):
        bg.cluster.stop()
        bg.cluster.cleanup()


@pytest.fixture(scope="module")
def slurm():
    """A running one-node SLURM; afterwards its jobs, daemons and job steps are gone."""
    bg = start_in_background()
    while bg.thread.is_alive() and bg.cluster is None and bg.error is None:
        time.sleep(0.2)
    if bg.cluster is None:
        bg.thread.join()
        pytest.fail(bg.error, pytrace=False)
    cluster = bg.cluster
    try:
        yield cluster
    finally:
        bg.stop()
        cluster.stop()
        bg.stopped = True
        left = cluster.leftovers()
        for pid in left:  # started through this cluster and still alive: end them, then fail
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        if not left:
            cluster.cleanup()
        assert not left, f"processes left running by the SLURM test: {left} (logs in {cluster.base})"


def run_snakemake(bg: Background, workdir: Path, env: dict, *args: str,
                  timeout: int = 1200) -> tuple[subprocess.CompletedProcess, float]:
    """The repository's Snakefile on config/tests/slurm.yaml in ``workdir``; (result, seconds)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = write_config(workdir / "config.yaml", load_yaml(CONFIG))
    env = {**env, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(config), *args]
    start = time.monotonic()
    if bg.stopping:
        raise RuntimeError("the session ended before the SLURM test's runs")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, env=env, cwd=workdir)
    bg.procs.append(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    res = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    seconds = time.monotonic() - start
    (workdir / "snakemake.out").write_text(res.stdout + res.stderr)
    return res, seconds


def rules_run(log: str) -> dict[str, str]:
    """Snakemake job id -> rule name, from a run's log ('rule x:' then 'jobid: n')."""
    jobs, rule = {}, None
    for line in log.splitlines():
        m = re.match(r"(local)?rule (\w+):$", line.strip())
        if m:
            rule = m.group(2)
        m = re.match(r"jobid: (\d+)$", line.strip())
        if m and rule:
            jobs[m.group(1)] = rule
            rule = None
    return jobs


def store_arrays(path: Path) -> dict[str, np.ndarray]:
    group = zarr.open_group(path, mode="r")
    return {name: group[name][:] for name in group.array_keys()}


@pytest.fixture(scope="module")
def runs(slurm, request):
    """The same config through SLURM and locally (run by ``Background``; waited for here).

    (slurm workdir, its log, SLURM's view of its jobs, local workdir, its log, timings)
    """
    bg = start_in_background()
    bg.thread.join()
    if bg.failure is not None:
        raise bg.failure
    timings = bg.result[5]
    print(f"\nwall time: SLURM {timings['slurm_s']:.0f} s, local --cores 2 {timings['local_s']:.0f} s")
    failed = request.session.testsfailed
    yield bg.result
    if request.session.testsfailed == failed:
        shutil.rmtree(bg.base, ignore_errors=True)


def both_runs(bg: Background, slurm: SlurmCluster, base: Path) -> tuple:
    from concurrent.futures import ThreadPoolExecutor

    # side by side: the SLURM run mostly waits (job start-ups, status checks), the local one
    # computes; their results must still be the same bytes
    with ThreadPoolExecutor(max_workers=2) as pool:
        slurm_run = pool.submit(run_snakemake, bg, base / "slurm", slurm.env, "--profile", str(PROFILE))
        local_run = pool.submit(run_snakemake, bg, base / "local", dict(os.environ), "--cores", "2")
        sl, sl_seconds = slurm_run.result()
        sl_log = sl.stdout + sl.stderr
        assert sl.returncode == 0, f"SLURM run failed:\n{sl_log[-6000:]}\n{slurm.logs()}"
        # what SLURM itself recorded, right away (finished jobs stay in squeue for MinJobAge)
        queue = slurm.run("squeue", "--states=all", "--noheader", "--format=%i|%T|%P|%N|%j").stdout
        local, local_seconds = local_run.result()
    assert local.returncode == 0, f"local run failed:\n{(local.stdout + local.stderr)[-6000:]}"
    timings = {"slurm_s": round(sl_seconds, 1), "local_s": round(local_seconds, 1)}
    (base / "timings.json").write_text(json.dumps(timings))
    return base / "slurm", sl_log, queue, base / "local", local.stdout + local.stderr, timings


def test_every_job_went_through_slurm(slurm, runs):
    workdir, log, queue, _, local_log, _ = runs
    submitted = {m.group(1): (m.group(2), Path(m.group(3))) for m in SUBMITTED.finditer(log)}
    jobs = rules_run(log)
    local_rules = sorted(set(rules_run(local_log).values()) - {"all"})
    # one sbatch per job, for every rule the local run ran (only `all` stays local)
    assert sorted({jobs[j] for j in submitted}) == local_rules
    assert {r for j, r in jobs.items() if j not in submitted} == {"all"}
    assert "Falling back to 'sacct'" not in log  # the status checks used squeue
    # SLURM ran every one of them, and nothing else: COMPLETED on the test node, all named
    # with this run's SLURM run ID (the plugin's job name)
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    states = {i: rest for i, rest in (line.split("|", 1) for line in queue.split())}
    assert sorted(int(i) for i in states) == sorted(int(j) for j, _ in submitted.values()), queue
    assert set(states.values()) == {f"COMPLETED|debug|{slurm.node}|{run_id}"}, queue
    # a SLURM log per job, under .snakemake/slurm_logs/rule_<rule>/[wildcards/]<jobid>.log,
    # written by the job's own snakemake (run inside the allocation by srun)
    for job, (jid, path) in submitted.items():
        rule = jobs[job]
        assert path.is_file(), path
        assert path.is_relative_to(workdir / ".snakemake" / "slurm_logs" / f"rule_{rule}"), path
        assert path.name == f"{jid}.log"
        text = path.read_text()
        assert f"rule {rule}:" in text and "1 of 1 steps (100%) done" in text, text[-2000:]


@pytest.mark.filterwarnings("ignore:Object at .snakemake_timestamp")
def test_slurm_results_equal_local_results(runs):
    sl, _, _, local, _, _ = runs
    files = lambda d: sorted(str(p.relative_to(d)) for p in (d / "results").rglob("*") if p.is_file())  # noqa: E731
    assert files(sl) == files(local)
    # labels, scores, training history, comparisons and the summary: byte for byte, the
    # CNN-based ones included (same seed, and TensorFlow sees the same CPUs in both runs:
    # task/none binds nothing). Not compared: the batches' cutouts/preprocess tables (they
    # name absolute paths of their own run) and model.keras (a zip with timestamps).
    texts = [p.relative_to(sl) for p in (sl / "results").rglob("*")
             if p.name in ("labels.ecsv", "metrics.json", "summary.md") or p.suffix == ".tsv"]
    assert len([t for t in texts if t.name == "labels.ecsv"]) == 2
    for rel in texts:
        assert (sl / rel).read_bytes() == (local / rel).read_bytes(), rel
    # features: the raw extractions and the PCA-reduced sets, exactly
    stores = [p.relative_to(sl) for p in (sl / "results").rglob("*.zarr")]
    assert any("refcnn" in str(s) for s in stores) and any("reduced" in str(s) for s in stores)
    for rel in stores:
        a, b = store_arrays(sl / rel), store_arrays(local / rel)
        assert a.keys() == b.keys(), rel
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{rel}/{name}")


def test_user_profile_dry_run(tmp_path):
    """`snakemake --profile slurm -n` from the repository root: what each job would ask for."""
    config = load_yaml(CONFIG)
    config["features"]["pixels"] = {"extractor": "pixels", "pca": 8}  # a CPU-only extractor
    # a projected copy, as above feature_storage.projected_above_n galaxies
    config["features"]["cnn_projected"] = {**config["features"]["cnn_dense"], "store": "projected"}
    config = write_config(tmp_path / "config.yaml", config)
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "slurm", "-n", "--snakefile", "Snakefile",
         "--directory", str(tmp_path), "--configfile", str(config)],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    asks: dict[str, set[str]] = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out):
        m = re.match(r"(?:local)?rule (\w+):", block)
        r = re.search(r"resources: (.*)", block)
        if m and r:
            wc = re.search(r"wildcards: (.*)", block)
            key = m.group(1) + (f"[{wc.group(1)}]" if wc else "")
            asks[key] = {kv for kv in r.group(1).split(", ") if kv.split("=")[0] in
                         ("slurm_account", "slurm_partition", "gpu", "mem_mb", "runtime")}
    assert asks["train_model[model=refcnn]"] >= {"slurm_partition=gpu", "gpu=1", "mem_mb=32000"}
    # CNN features on the GPU partition with a GPU, the pixel baseline on the CPU one without
    assert asks["extract[batch=b0000, extractor=refcnn]"] >= {"slurm_partition=gpu", "gpu=1"}
    assert asks["extract[batch=b0000, extractor=pixels]"] >= {"slurm_partition=CHANGE_ME", "gpu=0"}
    assert asks["extract_projected[batch=b0000, fs=cnn_projected]"] >= {"slurm_partition=gpu", "gpu=1"}
    assert asks["extract_fit_sample[batch=b0000, extractor=refcnn]"] >= {"slurm_partition=gpu", "gpu=1"}
    # clustering memory from the rule (N×N methods ask for more), every job with an account
    mem = lambda key: next(int(a[7:]) for a in asks[key] if a.startswith("mem_mb="))  # noqa: E731
    # each method's own prediction for N and d: ward's condensed distances never less than k-means
    assert mem("cluster[fs=pixels, job=agglomerative-k4]") >= mem("cluster[fs=pixels, job=kmeans-k4]") >= 2000
    assert all("slurm_account=CHANGE_ME" in a for k, a in asks.items() if not k.startswith("all"))
