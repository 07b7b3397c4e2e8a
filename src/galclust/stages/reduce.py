"""Rule ``reduce``: PCA of one feature set (streamed over the batch stores), or a pass-through."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GalclustError
from ..store import count_rows, create_store, iter_blocks, read_ids, row_width
from .common import PathLike, placeholder_figure, provenance

log = logging.getLogger(__name__)
Blocks = Callable[[], Iterable[np.ndarray]]


def feature_label(prefix: str, width: int, n_components: int | None) -> str:
    """The study's naming: ``CNN-37632_PCA-100``; without PCA just ``CNN-37632``."""
    return f"{prefix}-{width}" + (f"_PCA-{n_components}" if n_components else "")


def in_memory_blocks(X: np.ndarray, rows: int = 1024) -> Blocks:
    """Row blocks of an in-memory array, in the form the streamed stores provide."""
    return lambda: (X[i : i + rows] for i in range(0, len(X), rows))


def standardised(blocks: Blocks) -> tuple[Blocks, np.ndarray, np.ndarray]:
    """Blocks z-scored per column, the mean and spread found in one streaming pass (returned too)."""
    count, total, squares = 0, 0.0, 0.0
    for block in blocks():
        b = np.asarray(block, dtype=np.float64)
        count += len(b)
        total = total + b.sum(axis=0)
        squares = squares + (b * b).sum(axis=0)
    mean = total / max(count, 1)
    std = np.sqrt(np.maximum(squares / max(count, 1) - mean * mean, 0.0))
    std = np.where(std > 0, std, 1.0)  # constant columns stay 0 instead of NaN
    return lambda: (((np.asarray(b, np.float64) - mean) / std).astype(np.float32) for b in blocks()), mean, std


def raw_features(name: str, fs: dict[str, Any], model: dict[str, Any] | None,
                 feature_stores: Sequence[PathLike]) -> tuple[np.ndarray, int, int, Blocks, str, bool]:
    """(ids, rows, columns, blocks, label prefix, z-score?) of a feature set's raw features:
    streamed from the batch stores, read whole where the extractor says so, or a file. z-score:
    the feature set's ``standardise`` if set, else its extractor's default (none for files)."""
    from ..extractors import kind_for

    chosen = fs.get("standardise")
    kind = kind_for(model, fs["extractor"])
    standardise = kind.standardise if chosen is None else bool(chosen)
    prefix = kind.label(model or fs)
    stores = [str(p) for p in feature_stores]
    if kind.read is not None:
        ids, X = kind.read(stores, fs, name)
        return ids, len(X), X.shape[1], in_memory_blocks(X), prefix, standardise
    array = kind.array(fs)
    ids = np.concatenate([read_ids(p) for p in stores]) if stores else np.array([], str)
    width = row_width(stores[0], array) if stores else 0
    blocks = lambda: (b.reshape(len(b), -1) for _, b in iter_blocks(stores, array, 512))  # noqa: E731
    return ids, count_rows(stores), width, blocks, prefix, standardise


def fit_projection_on(fs: dict[str, Any], blocks: Blocks, n_rows: int, width: int, standardise: bool,
                      prefix: str) -> tuple[Any, Blocks, Any, dict[str, Any]]:
    """The feature set's z-scoring (if ``standardise``) and PCA (if ``fs['pca']``) fitted on ``blocks``:
    (the :class:`~galclust.projection.FeatureProjection`, the blocks z-scored, the fitted
    :class:`~galclust.reduce.ChunkedPCA` or None, attributes for the store: label, variance)."""
    from ..projection import FeatureProjection
    from ..reduce import ChunkedPCA

    projection = FeatureProjection()
    attrs: dict[str, Any] = {}
    if standardise:
        # features on different scales (concentration, colours...) weigh equally after z-scoring
        blocks, projection.scale_mean, projection.scale_std = standardised(blocks)
        attrs["standardised"] = True
    pca_setting = fs.get("pca", False)
    if pca_setting is False:
        attrs["label"] = fs.get("label") or feature_label(prefix, width, None)
        return projection, blocks, None, attrs
    pca = ChunkedPCA(pca_setting, max_components=fs.get("max_components", 200)).fit(blocks, n_rows, width)
    ratios = pca.explained_variance_ratio_
    attrs["explained_variance_ratio"] = ratios.tolist()
    attrs["explained_variance"] = float(ratios.sum())
    attrs["label"] = fs.get("label") or feature_label(prefix, width, pca.n_components_)
    projection.pca_mean, projection.pca_components = pca.mean_, pca.components_
    return projection, blocks, pca, attrs


def check_not_constant(name: str, fs: dict[str, Any], reduced: np.ndarray) -> None:
    """Identical features for every galaxy leave nothing to cluster: a clear error, not a result."""
    if len(reduced) and np.all(reduced == reduced[:1]):
        where = fs.get("file", f"the {fs['extractor']} features")
        raise GalclustError(f"feature set '{name}': all {len(reduced)} galaxies have identical features ({where}): "
                            "nothing to cluster")


def stacked_features(stores: Sequence[PathLike]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(features side by side, ids, width of each store's block) of stores holding the same
    galaxies in the same order (the reduced stores of one catalog); otherwise an error naming them."""
    from ..store import read_array

    ids = read_ids(stores[0])
    blocks = [read_array(stores[0], "features")]
    for store in stores[1:]:
        other = read_ids(store)
        if len(other) != len(ids) or not np.array_equal(other, ids):
            raise GalclustError(f"{store} and {stores[0]} hold different galaxies: they cannot be put side by side")
        blocks.append(read_array(store, "features"))
    return np.hstack(blocks) if len(blocks) > 1 else blocks[0], ids, [int(b.shape[1]) for b in blocks]


def reduce_view(name: str, view: dict[str, Any], seed: int, parent_stores: Sequence[PathLike],
                catalog_path: PathLike | None, out: PathLike, variance_plot: PathLike,
                state_dir: PathLike) -> None:
    """A view: the parent feature set's reduced features reduced again (PCA, t-SNE, UMAP, LDA),
    or several feature sets' put side by side (concat), with the reducer's state saved as
    ``.npy`` (and ``reducer.json``) to place new galaxies."""
    import json

    from ..atomic import atomic_path
    from ..plots import pca_variance
    from ..projection import write_npy
    from ..reducers import REDUCERS
    from ..store import read_attrs
    from ..tables import read_table

    reducer = REDUCERS[view["method"]]
    X, ids, widths = stacked_features(parent_stores)
    view = {**view, "_blocks": widths} if len(widths) > 1 else view
    target = None
    if reducer.supervised:
        if catalog_path is None:
            raise GalclustError(f"feature set '{name}': {view['method']} needs the catalog")
        catalog = read_table(catalog_path)
        column = view["target"]
        if column not in catalog.colnames:
            raise GalclustError(f"config key 'features.{name}.reduce.target': no column '{column}' in "
                                f"{catalog_path}")
        by_id = dict(zip(np.asarray(catalog["id"], dtype=str), np.asarray(catalog[column]).astype(str)))
        target = np.array([by_id.get(g, "") for g in ids], dtype=object)
    embedding = reducer.fit_transform(X, view, seed, target)
    parent_label = "+".join(str(read_attrs(p).get("label", str(p))) for p in parent_stores)
    label = f"{parent_label}_{embedding.info.get('label', reducer.label)}"
    info = {k: v for k, v in embedding.info.items() if isinstance(v, (str, int, float, bool, list, type(None)))}
    attrs = {**provenance({"view": view, "seed": seed}), "feature_set": name, "settings": view,
             "input_width": int(X.shape[1]), "label": label, "reducer": view["method"], "info": info}
    state = Path(state_dir)
    with atomic_path(state, directory=True) as tmp:
        tmp.mkdir()
        for key, value in embedding.state.items():
            value = np.asarray(value)
            if value.dtype == object:  # e.g. class names: saved as text, never pickled
                value = value.astype(str)
            write_npy(tmp / f"{key}.npy", value)
        (tmp / "reducer.json").write_text(json.dumps({"method": view["method"], "params": view, "seed": seed,
                                                      "info": info}, indent=2, sort_keys=True, default=str))
    values = np.asarray(embedding.values, dtype=np.float32)
    with create_store(out, ids, attrs) as writer:
        writer.create("features", values.shape[1:])
        writer.write("features", 0, values)
    ratios = embedding.state.get("explained_variance_ratio")
    if ratios is not None:
        pca_variance(np.asarray(ratios), variance_plot, label=label)
    else:
        placeholder_figure(variance_plot, f"{label}: a {reducer.label} view (no variance to show)")
    log.info("%s: %s view of %d galaxies, %d -> %d", label, view["method"], len(X), X.shape[1], values.shape[1])


def reduce(name: str, fs: dict[str, Any], model: dict[str, Any] | None, view: dict[str, Any] | None,
           seed: int, feature_stores: Sequence[PathLike], catalog_path: PathLike | None, out: PathLike,
           variance_plot: PathLike, projection_dir: PathLike) -> None:
    """``fs``: the feature set's settings; ``model``: its ``models.<extractor>`` entry, if any
    (it names the study-style label: CNN, SimCLR, ResNet50...); ``view``: the reducer settings
    of a view (``from``), else None. Writes the reduced store, the variance figure and the fitted
    projection (what places new galaxies later)."""
    from ..plots import pca_variance

    if view is not None:
        reduce_view(name, view, seed, feature_stores, catalog_path, out, variance_plot, projection_dir)
        return

    ids, n_rows, width, blocks, prefix, standardise = raw_features(name, fs, model, feature_stores)
    if n_rows < 2:
        raise GalclustError(f"feature set '{name}': {n_rows} galaxies, at least 2 are needed")
    attrs: dict[str, Any] = {**provenance({"fs": fs, "model": model}), "feature_set": name, "settings": fs,
                             "input_width": width}
    projection, blocks, pca, fitted = fit_projection_on(fs, blocks, n_rows, width, standardise, prefix)
    attrs.update(fitted)
    if pca is None:
        reduced = np.concatenate(list(blocks())).astype(np.float32)
    else:
        from ..progress import ProgressLog

        progress = ProgressLog(f"{name}: PCA transform", n_rows)
        parts = []
        for block in blocks():
            parts.append(pca.transform(block))
            progress.advance(len(block))
        progress.finish()
        reduced = np.concatenate(parts)
    check_not_constant(name, fs, reduced)
    label = attrs["label"]
    ratios = pca.explained_variance_ratio_ if pca is not None else None
    projection.save(projection_dir)
    with create_store(out, ids, attrs) as writer:
        writer.create("features", reduced.shape[1:])
        writer.write("features", 0, reduced)
    if ratios is not None:
        pca_variance(ratios, variance_plot, label=label)
    else:
        placeholder_figure(variance_plot, f"{label}: PCA skipped (features used as given)")
    log.info("%s: %d galaxies, %d -> %d features", label, n_rows, width, reduced.shape[1])
