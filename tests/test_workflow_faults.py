"""Faults through the whole workflow: the Snakefile against the local fake SkyServer.

45 galaxies in three batches, about 20 % of them answered with faults (500, 503 and 429 with
Retry-After, connection resets, truncated bodies, HTML with status 200, answers slower than
the read timeout, a 404, a blank off-footprint frame, a server down for two galaxies).

* Every galaxy whose fault a retry cures ends valid and is clustered.
* Batch b0000 has two galaxies that never answer: over ``max_failed_fraction``, its acquire
  job stops the run with one line naming the table (which lists them with their reason);
  ``--keep-going`` lets the other batches finish.
* The server heals; the rerun requests exactly the two failed galaxies, once each.
* The 404 and the blank frame stay listed with their reason and are left out of the clustering.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from conftest import snakemake, write_config
from fakeserver import FakeServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]

N = 45
IDS = [f"g{i:02d}" for i in range(N)]
# id -> (faults in turn, then what it answers forever)
CURED = {
    "g01": ("500", "500"), "g03": ("503", "503"), "g05": ("reset", "reset"),
    "g16": ("429", "429"), "g18": ("truncate", "truncate"),
    "g31": ("html", "html"), "g33": ("slow",),
}
DOWN = ["g07", "g09"]  # b0000: 2 of 15 > max_failed_fraction 0.1
NOT_FOUND = "g20"      # b0001: 1 of 15, allowed
BLANK = "g35"          # b0002: an empty frame off the survey's footprint


def manifest(workdir, batch: str) -> Table:
    return Table.read(workdir / f"results/batches/{batch}/cutouts.ecsv", format="ascii.ecsv")


def test_faults_through_the_workflow(tmp_path):
    catalog = Table({"id": IDS, "ra": 150 + 0.01 * np.arange(N), "dec": 2 + 0.01 * np.arange(N),
                     "r_e": np.full(N, 4.0)})
    catalog.write(tmp_path / "galaxies.ecsv")
    with FakeServer(retry_after=1, slow_seconds=4.0) as server:
        server.register(catalog)
        for gid, faults in CURED.items():
            server.plan(gid, *faults)
        for gid in DOWN:
            server.plan(gid, then="500")
        server.plan(NOT_FOUND, then="404")
        server.plan(BLANK, then="blank")
        config = {
            "seed": 3,
            "source": server.source(cache_dir=str(tmp_path / "cache"), read_timeout=2, max_attempts=4,
                                    max_failed_fraction=0.1),
            "catalog": {"path": str(tmp_path / "galaxies.ecsv")},
            "batch_size": 15,
            "features": {"pixels": {"extractor": "pixels", "pca": 4}},
            "clustering": {"kmeans": {"k": [2]}},
            "report": {"member_pdfs": [], "summary_examples": 2, "dendrogram_leaves": 4},
        }
        path = write_config(tmp_path / "config.yaml", config)

        first = snakemake(tmp_path, path, "--cores", "2", "--keep-going")

        out = first.stdout + first.stderr
        assert first.returncode != 0, "b0000 is over max_failed_fraction: the run must stop"
        named = [m for line in out.splitlines() if "max_failed_fraction" in line and "b0000" in line
                 for m in re.findall(r"[\w./-]*b0000[\w./-]*\.ecsv", line)]
        assert named, f"no line names b0000's table and max_failed_fraction\n{out[-4000:]}"
        table = Path(named[0]) if Path(named[0]).is_absolute() else tmp_path / named[0]
        # the table the message points at must still be there after the job failed
        # (Snakemake deletes a failed job's outputs: it cannot be the rule's output itself)
        assert table.is_file(), f"the message names {named[0]}, which the failed job's cleanup removed"
        listed = Table.read(table, format="ascii.ecsv")
        failed = listed[listed["status"] == "failed"]
        assert sorted(failed["id"]) == DOWN
        assert all("HTTP 500" in r for r in failed["reason"])
        for batch in ("b0001", "b0002"):  # --keep-going: the other batches finished
            assert (tmp_path / f"results/batches/{batch}/cutouts.ecsv").exists()

        for gid in DOWN:
            server.plan(gid)  # the outage is over
        server.reset_counts()
        second = snakemake(tmp_path, path, "--cores", "2")
        assert second.returncode == 0, second.stderr[-4000:]
        assert server.counts() == {gid: 1 for gid in DOWN}  # only the failed galaxies, once

    rows = {r["id"]: r for b in ("b0000", "b0001", "b0002") for r in manifest(tmp_path, b)}
    assert sorted(rows) == IDS
    for gid in set(IDS) - {NOT_FOUND, BLANK}:
        assert rows[gid]["status"] in ("ok", "cached"), (gid, rows[gid]["reason"])
    assert rows[NOT_FOUND]["status"] == "failed" and "HTTP 404" in rows[NOT_FOUND]["reason"]
    assert rows[BLANK]["status"] == "blank" and "blank" in rows[BLANK]["reason"]
    labels = Table.read(tmp_path / "results/clustering/pixels/kmeans-k2/labels.ecsv")
    assert sorted(labels["id"]) == sorted(set(IDS) - {NOT_FOUND, BLANK})
