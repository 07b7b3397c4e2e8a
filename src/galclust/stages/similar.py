"""Rules ``neighbour_index`` and ``similar_sheets``: find galaxies like a given one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..store import read_array, read_ids
from .common import PathLike, images_for, provenance

log = logging.getLogger(__name__)


def neighbour_index(fs_name: str, settings: dict[str, Any], reduced: PathLike, index_dir: PathLike,
                    neighbours_out: PathLike) -> None:
    """Index the reduced features (exact below ``exact_max_n``, HNSW above) and precompute every
    galaxy's ``k`` nearest others (``neighbours.zarr``: ids, indices, distances)."""
    from ..neighbours import NeighbourIndex, all_neighbours, write_neighbour_table

    X, ids = read_array(reduced, "features"), read_ids(reduced)
    index = NeighbourIndex(settings["metric"], exact_max_n=settings["exact_max_n"], M=settings["M"],
                           ef_construction=settings["ef_construction"], ef=settings["ef"],
                           seed=settings["seed"]).fit(X, ids)
    index.save(index_dir)
    k = min(settings["k"], len(X) - 1)
    distances, indices = all_neighbours(index, X, k)
    write_neighbour_table(neighbours_out, ids, distances, indices,
                          attrs={**provenance(settings), "feature_set": fs_name, "route": index.route_})
    log.info("%s: %s index of %d galaxies, %d neighbours each", fs_name, index.route_, len(X), k)


def similar_sheets(fs_name: str, query_ids: Sequence[str], k: int, index_dir: PathLike,
                   image_stores: Sequence[PathLike], outdir: PathLike) -> None:
    """For each of ``query_ids`` (``report.similar``): an image sheet of it and its ``k`` nearest
    galaxies with their distances, and the table (id, rank, neighbour_id, distance)."""
    from astropy.table import Table

    from ..neighbours import NeighbourIndex
    from ..plots.similar import similar_sheet
    from ..tables import write_table

    index = NeighbourIndex.load(index_dir)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for i, gid in enumerate(query_ids):
        try:
            row = index.row_of(str(gid))
        except KeyError:
            raise ConfigError(f"config key 'report.similar[{i}]': galaxy {gid!r} is not in feature set "
                              f"'{fs_name}'") from None
        dist, idx = index.query(index.vectors([row]), min(k + 1, index.n_))
        keep = idx[0] != row
        dist, idx = dist[0][keep][:k], idx[0][keep][:k]
        neighbour_ids = index.ids_[idx]
        write_table(Table({"id": np.full(len(idx), str(gid)), "rank": np.arange(1, len(idx) + 1),
                           "neighbour_id": neighbour_ids, "distance": dist}), out / f"{gid}.ecsv")
        if image_stores:
            images = images_for(image_stores, np.concatenate([[str(gid)], neighbour_ids]))
            similar_sheet(images[0], images[1:], dist, out / f"{gid}.png", query_id=str(gid),
                          ids=list(neighbour_ids), title=f"galaxies like {gid} ({fs_name})")
