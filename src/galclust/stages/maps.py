"""Rules ``maps``, ``physical`` and ``explorer``: feature spaces drawn, clusters against the
catalog's columns, and the offline explorer page."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..sampling import seeded_rows
from ..store import create_store, read_array, read_attrs, read_ids
from ..tables import read_table
from .common import PathLike, images_for, placeholder_figure, provenance, read_labels

log = logging.getLogger(__name__)


#: galaxies in a map's t-SNE / UMAP fit (report.maps.sample); the others are placed by their neighbours
MAP_SAMPLE = 100_000
#: sampled neighbours whose mean map position places a galaxy outside the sample
MAP_NEIGHBOURS = 10


def map_xy(X: np.ndarray, settings: dict[str, Any], seed: int) -> tuple[np.ndarray, str]:
    """A 2-D map of the rows of X: X itself when it is 2-D, else its t-SNE or UMAP.

    Above ``settings['sample']`` rows the embedding is fitted on a seeded sample of that many,
    and every other row is placed at the mean map position of its ``MAP_NEIGHBOURS`` nearest
    sampled rows in feature space (HNSW above 50,000 sampled rows): a 100,000-row t-SNE took
    202 s on 2 cores, and its cost grows faster than N, so a million rows stay within minutes.
    """
    if X.shape[1] == 2:
        return X.astype(np.float32), "the feature set itself"
    if X.shape[1] == 1:  # nothing to embed (t-SNE's PCA start needs two columns): the feature on a line
        return np.column_stack([X[:, 0], np.zeros(len(X))]).astype(np.float32), "the feature set itself, on a line"
    from ..reducers import REDUCERS

    method = settings["method"]
    reducer = REDUCERS[method]
    params = {"n_components": 2, **{k: settings[k] for k in reducer.map_keys or ()}, "_key": "report.maps"}
    sample = int(settings.get("sample", MAP_SAMPLE))
    if len(X) <= sample:
        return np.asarray(reducer.fit_transform(X, params, seed, None).values, np.float32), method
    from ..neighbours import NeighbourIndex

    rows = seeded_rows(len(X), sample, seed)
    fitted = np.asarray(reducer.fit_transform(X[rows], params, seed, None).values, np.float32)
    index = NeighbourIndex(seed=seed, query_threads=2).fit(X[rows])
    _, nearest = index.query(X, min(MAP_NEIGHBOURS, sample))
    xy = fitted[nearest].mean(axis=1)
    xy[rows] = fitted
    log.info("map: %s of a seeded sample of %d of %d galaxies, the others at the mean of their %d nearest "
             "sampled galaxies", method, sample, len(X), nearest.shape[1])
    return xy.astype(np.float32), f"{method} of {sample:,} galaxies (others placed by their neighbours)"


def maps(fs_name: str, settings: dict[str, Any], seed: int, truth: Sequence[str], reduced: PathLike,
         labels_paths: Sequence[PathLike], catalog_path: PathLike | None, image_stores: Sequence[PathLike],
         map_out: PathLike, cluster_map: PathLike, truth_map: PathLike, thumbnail_map: PathLike) -> None:
    """The feature set's 2-D map (``map.zarr``), every clustering and truth column drawn on it, and
    the galaxies' own images at their map positions."""
    from ..plots.maps import cluster_maps, thumbnail_map as draw_thumbnails, truth_maps

    X, ids = read_array(reduced, "features"), read_ids(reduced)
    label = read_attrs(reduced).get("label", fs_name)
    xy, how = map_xy(X, settings, seed)
    with create_store(map_out, ids, {**provenance({"maps": settings, "seed": seed}), "feature_set": fs_name,
                                     "method": how, "label": label}) as writer:
        writer.create("xy", (2,))
        writer.write("xy", 0, xy)
    labelings = {}
    for path in labels_paths:
        table = read_table(path)
        if np.array_equal(np.asarray(table["id"], dtype=str), ids):
            labelings[str(table.meta.get("clustering", path))] = np.asarray(table["label"])
    title = f"{label}: map by {how}"
    if labelings:
        cluster_maps(xy, labelings, cluster_map, title=title)
    else:  # its `methods` name none of the configured clusterings
        placeholder_figure(cluster_map, f"{fs_name}: no clustering configured for this feature set")
    columns = _catalog_columns(catalog_path, ids, truth)
    if columns:
        truth_maps(xy, columns, truth_map, title=title)
    else:
        placeholder_figure(truth_map, "no truth columns in the catalog (catalog.truth)")
    if image_stores:
        draw_thumbnails(xy, images_for(image_stores, ids), thumbnail_map, grid=(settings["grid"],) * 2,
                        seed=seed, title=f"{label}: galaxies at their map positions")
    else:
        placeholder_figure(thumbnail_map, f"{fs_name}: no images (features from a file)")


def _catalog_columns(catalog_path: PathLike | None, ids: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
    if catalog_path is None or not names:
        return {}
    catalog = read_table(catalog_path)
    index = {g: i for i, g in enumerate(np.asarray(catalog["id"], dtype=str))}
    rows = np.array([index.get(g, -1) for g in ids])
    out = {}
    for name in names:
        values = np.asarray(catalog[name])
        out[name] = np.where(rows >= 0, values[np.maximum(rows, 0)], values[0] if len(values) else np.nan)
    return out


def physical(fs_name: str, job_name: str, pairs: Sequence[Sequence[str]], columns: Sequence[str],
             labels_path: PathLike, catalog_path: PathLike, pairs_out: PathLike, columns_out: PathLike) -> None:
    """Clusters against catalog columns: each pair as a scatter coloured by cluster, each column
    as per-cluster violins."""
    from ..plots.physical import physical_columns, physical_pairs

    ids, labels = read_labels(labels_path)
    catalog = read_table(catalog_path)
    title = f"{job_name} on {fs_name}"
    if pairs:
        physical_pairs(catalog, ids, labels, [tuple(p) for p in pairs], pairs_out, title=title)
    else:
        placeholder_figure(pairs_out, "no column pairs configured (report.physical.pairs)")
    if columns:
        physical_columns(catalog, ids, labels, list(columns), columns_out, title=title)
    else:
        placeholder_figure(columns_out, "no columns configured (report.physical.columns)")


def explorer(fs_name: str, settings: dict[str, Any], seed: int, map_store: PathLike, neighbours: PathLike,
             labels_paths: Sequence[PathLike], catalog_path: PathLike | None, image_stores: Sequence[PathLike],
             out: PathLike) -> None:
    """``results/explorer/index.html``: every galaxy of one feature set on its map, coloured by any
    clustering or numeric catalog column, thumbnails on hover, neighbours on click; offline."""
    from ..explorer import thumbnails_from_images, write_explorer
    from ..neighbours import read_neighbour_table

    xy, ids = read_array(map_store, "xy"), read_ids(map_store)
    _, _, indices = read_neighbour_table(neighbours)
    colourings: dict[str, np.ndarray] = {}
    for path in labels_paths:
        table = read_table(path)
        colourings[str(table.meta.get("clustering", path))] = np.asarray(table["label"])
    catalog = None
    if catalog_path is not None:
        catalog = read_table(catalog_path)
        index = {g: i for i, g in enumerate(np.asarray(catalog["id"], dtype=str))}
        catalog = catalog[[index[g] for g in ids if g in index]] if all(g in index for g in ids) else None
        if catalog is not None:
            for name in catalog.colnames:
                values = np.asarray(catalog[name])
                if name not in ("id",) and values.dtype.kind in "if":
                    colourings[name] = values
    thumbs = thumbnails_from_images(images_for(image_stores, ids), settings["thumb_size"]) if image_stores else None
    label = read_attrs(map_store).get("label", fs_name)
    write_explorer(out, ids, xy, thumbs, colourings, indices, catalog, title=f"galclust explorer: {label}",
                   max_thumbnails=settings["max_thumbnails"], seed=seed)
    log.info("explorer of %s: %d galaxies, %d colourings", fs_name, len(ids), len(colourings))
