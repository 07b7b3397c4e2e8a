"""``python -m galclust similar``: the galaxies most like one galaxy, from a finished run.

Reads the feature set's saved neighbour index (``<results>/features/<fs>/index/``), the
query galaxy's vector from that index, and the images from
``<results>/batches/*/images.zarr``; writes ``<out>/<id>.png`` (the image sheet; skipped
when the run has no image stores) and ``<out>/<id>.ecsv`` (rank, id, distance), and
prints the table. Errors are one line naming the id or path; the exit status is 2.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import GalclustError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``similar`` subcommand."""
    p = subparsers.add_parser("similar", help="galaxies most like one galaxy (image sheet + table)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--results", required=True, type=Path, help="the run's results directory")
    p.add_argument("--features", required=True, help="feature set name (results/features/<name>)")
    p.add_argument("--id", required=True, dest="galaxy_id", help="id of the query galaxy")
    p.add_argument("-k", type=int, default=20, help="number of neighbours (default 20)")
    p.add_argument("--out", type=Path, default=None,
                   help="output directory (default <results>/similar/<features>)")
    p.set_defaults(func=run)
    return p


def _safe_name(galaxy_id: str) -> str:
    """A file name for an id (path separators and odd characters become '_')."""
    return re.sub(r"[^A-Za-z0-9._+-]", "_", galaxy_id) or "_"


def find_images(results: Path, wanted: Sequence[str]) -> dict[str, np.ndarray]:
    """Images of the ``wanted`` ids found in ``results/batches/*/images.zarr`` (id -> image)."""
    from .store import open_store, read_ids  # noqa: PLC0415

    want = set(wanted)
    found: dict[str, np.ndarray] = {}
    for store in sorted(results.glob("batches/*/images.zarr")):
        store_ids = read_ids(store).tolist()
        rows = [(j, g) for j, g in enumerate(store_ids) if g in want and g not in found]
        if rows:
            images = open_store(store)["images"]
            block = np.asarray(images.get_orthogonal_selection(([j for j, _ in rows],)))
            for (_, g), img in zip(rows, block, strict=True):
                found[g] = img
    return found


def similar(results: Path, features: str, galaxy_id: str, k: int, out: Path | None) -> tuple[Path, Path | None]:
    """Answer one query; returns the table path and the sheet path (None without images)."""
    from astropy.table import Table  # noqa: PLC0415

    from .neighbours import NeighbourIndex  # noqa: PLC0415
    from .tables import write_table  # noqa: PLC0415

    index_dir = results / "features" / features / "index"
    try:
        index = NeighbourIndex.load(index_dir)
    except FileNotFoundError:
        raise GalclustError(f"no neighbour index at {index_dir} (has the workflow's index rule run?)") from None
    try:
        row = index.row_of(galaxy_id)
    except KeyError:
        raise GalclustError(f"id {galaxy_id!r} is not in {index_dir} ({index.n_} galaxies)") from None
    if not 1 <= k < index.n_:
        raise GalclustError(f"-k must be between 1 and {index.n_ - 1}; got {k}")
    dist, idx = index.query(index.vectors([row]), k + 1)
    keep = idx[0] != row
    dist, idx = dist[0][keep][:k], idx[0][keep][:k]
    ids = index.ids_[idx]
    out = out if out is not None else results / "similar" / features
    name = _safe_name(galaxy_id)
    table = Table({"rank": np.arange(1, len(ids) + 1), "id": ids, "distance": dist.astype(np.float32)})
    table.meta.update({"query": galaxy_id, "feature_set": features, "metric": index.metric,
                       "route": index.route_})
    table_path = out / f"{name}.ecsv"
    write_table(table, table_path)
    images = find_images(results, [galaxy_id, *ids.tolist()])
    sheet = None
    if images:
        from .plots.similar import similar_sheet  # noqa: PLC0415

        blank = np.ones_like(next(iter(images.values())), dtype=np.float32) * 0.5  # a missing image: grey
        sheet = similar_sheet(images.get(galaxy_id, blank), np.stack([images.get(g, blank) for g in ids]),
                              dist, out / f"{name}.png", query_id=galaxy_id, ids=ids.tolist(),
                              title=f"{len(ids)} galaxies most like {galaxy_id} ({features})")
    table.pprint(max_lines=-1, max_width=-1)
    return table_path, sheet


def run(args: argparse.Namespace) -> int:
    """Entry point of the subcommand; returns the exit status."""
    table_path, sheet = similar(args.results, args.features, args.galaxy_id, args.k, args.out)
    print(f"table: {table_path}")
    print(f"sheet: {sheet}" if sheet else "sheet: none (no images under results/batches/*/images.zarr)")
    return 0
