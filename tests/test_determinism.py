"""Bit-identical runs: the tiny config run fresh with ``--cores 1`` equals the ``--cores 2`` run.

Labels and metrics byte for byte, every Zarr array (images, features, PCA) equal, and the
trained CNN's weights equal (when they are not, the message names the differing weights:
the first place where a TensorFlow op was not deterministic on the CPU).
"""

from __future__ import annotations

import pytest

from conftest import TINY, load_yaml, snakemake, write_config
from outputs import differences

pytestmark = pytest.mark.integration


def test_one_core_and_two_cores_give_identical_outputs(tiny_run, tmp_path):
    two_cores, _, _ = tiny_run  # a fresh run with --cores 2
    config = write_config(tmp_path / "config.yaml", load_yaml(TINY))
    result = snakemake(tmp_path, config, "--cores", "1")
    assert result.returncode == 0, result.stderr[-4000:]
    assert differences(two_cores, tmp_path) == []
