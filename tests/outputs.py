"""Compare two finished workflow directories from disk: labels, metrics, Zarr arrays, models.

Black-box on purpose: only the documented output layout (README, "Where to look") is read.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Outputs that must be byte-identical between two runs of the same config.
BYTE_EQUAL = ("labels.ecsv", "metrics.json", "pairwise.tsv", "truth.tsv", "history.tsv")


def temp_leftovers(root: Path) -> list[str]:
    """Temporary siblings of galclust.atomic (``.<stem>.<random>.tmp<suffix>``) under ``root``."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*.tmp*"))


def incomplete_markers(workdir: Path) -> list[str]:
    """Jobs Snakemake still considers incomplete."""
    d = workdir / ".snakemake" / "incomplete"
    return sorted(p.name for p in d.rglob("*") if p.is_file()) if d.is_dir() else []


def zarr_arrays(store: Path) -> dict[str, np.ndarray]:
    """Every array of a Zarr store (group or array), by path."""
    import zarr

    node = zarr.open(str(store), mode="r")
    if isinstance(node, zarr.Array):
        return {"": node[...]}
    out: dict[str, np.ndarray] = {}
    for name, arr in node.arrays():
        out[name] = arr[...]
    for name, group in node.groups():
        for sub, arr in zarr_arrays(store / name).items():
            out[f"{name}/{sub}"] = arr
    return out


def keras_weights(path: Path) -> list[np.ndarray]:
    """The weights of a saved .keras model, in layer order."""
    import keras

    return [np.asarray(w) for w in keras.saving.load_model(path, compile=False).get_weights()]


def differences(a: Path, b: Path, *, models: bool = True, subset: bool = False) -> list[str]:
    """What differs between the results/ of workdirs ``a`` and ``b`` (empty when identical).

    ``subset``: ``b`` made only some of the outputs (selected targets); each must match ``a``'s.
    """
    ra, rb = a / "results", b / "results"
    problems: list[str] = []
    files_a = {p.relative_to(ra) for p in ra.rglob("*") if p.is_file() and ".zarr" not in str(p)}
    files_b = {p.relative_to(rb) for p in rb.rglob("*") if p.is_file() and ".zarr" not in str(p)}
    if subset:
        files_a &= files_b
    if (files_b - files_a) if subset else (files_a != files_b):
        problems.append(f"file lists differ: only in first {sorted(map(str, files_a - files_b))[:5]}, "
                        f"only in second {sorted(map(str, files_b - files_a))[:5]}")
    for rel in sorted(files_a & files_b):
        if rel.name in BYTE_EQUAL and (ra / rel).read_bytes() != (rb / rel).read_bytes():
            problems.append(f"{rel}: bytes differ")
    stores_a = {p.relative_to(ra) for p in ra.rglob("*.zarr") if p.is_dir()}
    stores_b = {p.relative_to(rb) for p in rb.rglob("*.zarr") if p.is_dir()}
    if subset:
        stores_a &= stores_b
    if (stores_b - stores_a) if subset else (stores_a != stores_b):
        problems.append(f"Zarr stores differ: {sorted(map(str, stores_a ^ stores_b))}")
    for rel in sorted(stores_a & stores_b):
        xa, xb = zarr_arrays(ra / rel), zarr_arrays(rb / rel)
        if xa.keys() != xb.keys():
            problems.append(f"{rel}: arrays {sorted(xa)} vs {sorted(xb)}")
            continue
        for name in xa:
            if xa[name].shape != xb[name].shape or not np.array_equal(xa[name], xb[name]):
                if xa[name].dtype.kind == "f" and xa[name].shape == xb[name].shape:
                    diff = float(np.nanmax(np.abs(xa[name].astype(float) - xb[name].astype(float))))
                    problems.append(f"{rel}/{name}: values differ (max abs difference {diff:.3g})")
                else:
                    problems.append(f"{rel}/{name}: values differ")
    if models:
        for model in sorted((ra / "models").glob("*/model.keras")) if (ra / "models").is_dir() else []:
            rel = model.relative_to(ra)
            wa, wb = keras_weights(ra / rel), keras_weights(rb / rel)
            bad = [i for i, (x, y) in enumerate(zip(wa, wb)) if not np.array_equal(x, y)]
            if bad:
                problems.append(f"{rel}: weights {bad} differ (of {len(wa)})")
    return problems


def metrics(workdir: Path, rel: str) -> dict:
    return json.loads((workdir / "results" / rel).read_text())
