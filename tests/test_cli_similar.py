"""``python -m galclust similar``: sheet and table from a run's index and image stores; errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from galclust.__main__ import main
from galclust.neighbours import NeighbourIndex
from galclust.store import write_store
from galclust.tables import read_table

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("run") / "results"
    rng = np.random.default_rng(0)
    ids = [f"J{i:03d}" for i in range(60)]
    X = rng.normal(size=(60, 5)).astype(np.float32)
    NeighbourIndex().fit(X, ids).save(root / "features" / "cnn" / "index")
    images = rng.random((60, 16, 16, 3)).astype(np.float32)
    write_store(root / "batches" / "b0" / "images.zarr", ids[:30], {"images": images[:30]})
    write_store(root / "batches" / "b1" / "images.zarr", ids[30:], {"images": images[30:]})
    np.save(root / "X.npy", X)
    return root


def test_similar_writes_sheet_and_table(results, tmp_path, capsys):
    assert main(["similar", "--results", str(results), "--features", "cnn", "--id", "J005", "-k", "7",
                 "--out", str(tmp_path)]) == 0
    table = read_table(tmp_path / "J005.ecsv")
    X = np.load(results / "X.npy")
    d = np.linalg.norm(X - X[5], axis=1)
    d[5] = np.inf
    expect = np.argsort(d)[:7]
    assert list(table["id"]) == [f"J{i:03d}" for i in expect]
    np.testing.assert_allclose(table["distance"], d[expect], rtol=1e-5)
    assert list(table["rank"]) == list(range(1, 8))
    with Image.open(tmp_path / "J005.png") as img:
        assert img.size[0] > 500
    printed = capsys.readouterr().out
    assert f"J{expect[0]:03d}" in printed and "J005.png" in printed


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "galclust", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_unknown_id_is_one_line_naming_it(results):
    r = _cli("similar", "--results", str(results), "--features", "cnn", "--id", "NOPE")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "'NOPE' is not in" in lines[0] and "60 galaxies" in lines[0], r.stderr


def test_missing_index_is_one_line_naming_the_path(results):
    r = _cli("similar", "--results", str(results), "--features", "pixels", "--id", "J001")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(results / "features" / "pixels" / "index") in lines[0], r.stderr
