"""Bit-identical runs: the tiny config run fresh with ``--cores 1`` equals the ``--cores 2`` run.

Labels and metrics (clusterings and models) byte for byte, every Zarr array (images,
features, PCA) equal, and the
trained CNN's weights equal (when they are not, the message names the differing weights:
the first place where a TensorFlow op was not deterministic on the CPU).
"""

from __future__ import annotations

import pytest

from conftest import TINY, load_yaml, snakemake, write_config
from outputs import differences

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_one_core_and_two_cores_give_identical_outputs(tiny_run, tmp_path):
    two_cores, _, _ = tiny_run  # a fresh run with --cores 2
    config = write_config(tmp_path / "config.yaml", load_yaml(TINY))
    # Every number the run computes (models, features, PCA, labels, metrics), not its figures:
    # the plots are half the jobs and hold nothing the numbers do not.
    targets = sorted(str(p.relative_to(two_cores)) for p in (two_cores / "results").glob("clustering/*/*/*")
                     if p.name in ("labels.ecsv", "metrics.json"))
    targets += sorted(str(p.relative_to(two_cores)) for p in (two_cores / "results").glob("models/*/metrics.json"))
    assert len(targets) > 20
    result = snakemake(tmp_path, config, "--cores", "1", *targets)
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "results/features").is_dir() and (tmp_path / "results/batches").is_dir()
    assert differences(two_cores, tmp_path, subset=True) == []
