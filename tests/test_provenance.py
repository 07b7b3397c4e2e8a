"""Provenance on the tiny run: stores and label tables record what made them (a hash of the
settings their step used, galclust's and the packages' versions), and results/manifest.json
lists every output with them, under the run's config hash."""

from __future__ import annotations

import pytest

import hashlib
import json
import re
from pathlib import Path

from galclust import __version__
from galclust.config import config_hash
from galclust.store import read_attrs
from galclust.tables import read_table

pytestmark = pytest.mark.slow  # runs Snakemake, SLURM or Chromium (make test-fast leaves it out)

KEY_PACKAGES = ("numpy", "scikit-learn", "zarr", "astropy", "keras")


def _check(recorded: dict, run_hash: str, where: str) -> None:
    # each output's hash covers the settings its step read (its rule's params), not the whole
    # config: an output untouched by a config change keeps its hash
    assert re.fullmatch(r"[0-9a-f]{12}", recorded["config_hash"]), where
    assert recorded["galclust_version"] == __version__, where
    packages = recorded.get("provenance") or recorded.get("packages")
    assert packages and all(packages.get(p) for p in KEY_PACKAGES), (where, packages)


def test_zarr_stores_and_label_tables_record_their_provenance(tiny_run):
    workdir, _, config = tiny_run
    run_hash = config_hash(config)
    stores = sorted((workdir / "results").rglob("*.zarr"))
    # images, pixels and refcnn per batch; reduced, map and neighbours per feature set
    assert len(stores) == 2 * 3 + 3 * 3
    for store in stores:
        _check(read_attrs(store), run_hash, str(store))
    tables = sorted((workdir / "results/clustering").glob("*/*/labels.ecsv"))
    assert len(tables) == 21
    for table in tables:
        _check(dict(read_table(table).meta), run_hash, str(table))


def _outputs(results: Path) -> set[str]:
    """Every output under results/: Zarr stores and member-PDF folders count as one."""
    units = {p for p in results.rglob("*")
             if p.is_dir() and (p.suffix == ".zarr" or p.name in ("members", "projection", "index", "similar"))}
    files = {p for p in results.rglob("*") if p.is_file() and not any(u in p.parents for u in units)}
    return {str(p.relative_to(results.parent)) for p in units | files} - {"results/manifest.json"}


def test_the_manifest_lists_every_output_with_its_provenance(tiny_run):
    workdir, _, config = tiny_run
    run_hash = config_hash(config)
    manifest = json.loads((workdir / "results/manifest.json").read_text())
    assert manifest["config_hash"] == run_hash and manifest["galclust_version"] == __version__
    assert all(manifest["packages"].get(p) for p in KEY_PACKAGES)
    outputs = manifest["outputs"]
    assert set(outputs) == _outputs(workdir / "results")
    kinds = {path: entry["kind"] for path, entry in outputs.items()}
    assert sum(k == "zarr" for k in kinds.values()) == 15
    assert kinds["results/clustering/pixels/kmeans-k6/members"] == "directory"
    for path, entry in outputs.items():
        if entry["kind"] == "zarr" or path.endswith("/labels.ecsv"):
            _check(entry, run_hash, path)
        if entry["kind"] == "zarr":
            assert entry["attrs"], path
        if entry["kind"] in ("file", "table"):
            data = (workdir / path).read_bytes()
            assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest(), path
    assert re.fullmatch(r"[0-9a-f]{12}", outputs["results/models/refcnn/metrics.json"]["config_hash"])
    k3, k6 = (outputs[f"results/clustering/cnn_dense/kmeans-k{k}/labels.ecsv"]["config_hash"] for k in (3, 6))
    assert k3 != k6  # different settings, different hashes
    assert outputs["results/clustering/cnn_dense/kmeans-k6/labels.ecsv"]["meta"]["clustering"] == "kmeans-k6"
