"""Projected feature stores (``features.<fs>.store: projected``): a feature set at survey scale.

A raw CNN layer is 37,632 float32 a galaxy (150 kB; 150 GB at a million galaxies). Instead:

1. rule ``fit_projection`` fits the z-scoring and PCA on the raw features of the first batches
   (``feature_storage.fit_galaxies``; temporary stores, removed once the fit is done): memory is
   that of :class:`~galclust.reduce.ChunkedPCA`, O(c · D) whatever N;
2. rule ``extract_projected`` extracts each batch and writes only its projection, c values of
   ``feature_storage.dtype`` a galaxy (100 components in float16: 200 bytes);
3. rule ``gather_projected`` concatenates the batches into ``reduced.zarr`` (N · c float32).

The first batches, not a random sample, so appending galaxies never refits. The projection is the
same :class:`~galclust.projection.FeatureProjection` rule ``reduce`` saves: new galaxies are placed
with it exactly as with a raw-stored feature set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GalclustError
from ..store import count_rows, create_store, iter_blocks, read_ids
from .common import PathLike, placeholder_figure, provenance
from .reduce import check_not_constant, fit_projection_on, raw_features

log = logging.getLogger(__name__)

#: the fitted projection's description, beside its arrays
META = "projection.json"


def fit_projection(name: str, fs: dict[str, Any], model: dict[str, Any] | None, sample_stores: Sequence[PathLike],
                   projection_dir: PathLike, variance_plot: PathLike) -> None:
    """Fit the feature set's projection on the raw features of ``sample_stores`` (the first batches)."""
    from ..atomic import atomic_path
    from ..plots import pca_variance

    _, n_rows, width, blocks, prefix, standardise = raw_features(name, fs, model, sample_stores)
    if n_rows < 2:
        raise GalclustError(f"feature set '{name}': {n_rows} galaxies to fit its projection on, at least 2 are needed")
    projection, _, pca, fitted = fit_projection_on(fs, blocks, n_rows, width, standardise, prefix)
    meta = {**fitted, "input_width": width, "fit_galaxies": n_rows,
            "n_components": int(pca.n_components_) if pca is not None else width}
    with atomic_path(projection_dir, directory=True) as tmp:
        projection.save(tmp)
        (tmp / META).write_text(json.dumps(meta, indent=2, sort_keys=True))
    if pca is not None:
        pca_variance(pca.explained_variance_ratio_, variance_plot, label=meta["label"])
    else:
        placeholder_figure(variance_plot, f"{meta['label']}: PCA skipped (features used as given)")
    log.info("%s: projection fitted on %d galaxies of the first batches, %d -> %d features",
             meta["label"], n_rows, width, meta["n_components"])


class ProjectedExtractor:
    """An extractor whose only output is one of its arrays, projected (``transform`` of the
    fitted projection) and cast to ``dtype``: what rule ``extract_projected`` stores."""

    def __init__(self, inner: Any, array: str, projection: Any, dtype: str = "float16") -> None:
        self.inner, self.array, self.projection, self.dtype = inner, array, projection, dtype
        self.name = f"{inner.name}:{array}:projected"
        self.batch_size = getattr(inner, "batch_size", None)

    def output_names(self) -> list[str]:
        return ["features"]

    def transform(self, images: np.ndarray) -> dict[str, np.ndarray]:
        raw = self.inner.transform(images)[self.array]
        projected = self.projection.transform(raw.reshape(len(raw), -1))
        return {"features": projected.astype(self.dtype)}

    def feature_widths(self) -> dict[str, int]:
        if self.projection.pca_components is not None:
            return {"features": len(self.projection.pca_components)}
        return {"features": len(self.projection.scale_mean) if self.projection.scale_mean is not None else 0}

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "array": self.array, "projected": True, "dtype": self.dtype}


def extract_projected(store: str, fs: dict[str, Any], model: dict[str, Any] | None, seed: int,
                      image_store: PathLike, model_path: PathLike | None, projection_dir: PathLike,
                      dtype: str, out: PathLike) -> None:
    """One batch's features of one feature set, projected: only ``c`` values a galaxy are written."""
    from ..extract import extract_store
    from ..extractors import kind_for
    from ..projection import FeatureProjection
    from .extract import make_extractor

    if model and model.get("mixed_precision"):
        from ..precision import enable_mixed_precision

        enable_mixed_precision()
    kind = kind_for(model, fs["extractor"])
    projector = ProjectedExtractor(make_extractor(store, model, model_path, seed), kind.array(fs),
                                   FeatureProjection.load(projection_dir), dtype)
    extract_store(image_store, out, projector, dtype=dtype, attrs={
        **provenance({"store": store, "fs": fs, "model": model, "seed": seed}),
        "model_file": str(model_path) if model_path else None, "projection": str(projection_dir),
    })


def gather_projected(name: str, fs: dict[str, Any], batch_stores: Sequence[PathLike], projection_dir: PathLike,
                     out: PathLike) -> None:
    """The batches' projected features, in catalog order, as the feature set's ``reduced.zarr``."""
    meta = json.loads((Path(projection_dir) / META).read_text())
    stores = [str(p) for p in batch_stores]
    ids = np.concatenate([read_ids(p) for p in stores]) if stores else np.array([], str)
    n = count_rows(stores)
    reduced = np.empty((n, meta["n_components"]), dtype=np.float32)
    start = 0
    for _, block in iter_blocks(stores, "features", 4096):
        reduced[start : start + len(block)] = block
        start += len(block)
    check_not_constant(name, fs, reduced)
    attrs = {**provenance({"fs": fs}), "feature_set": name, "settings": fs, **meta, "store": "projected"}
    with create_store(out, ids, attrs) as writer:
        writer.create("features", reduced.shape[1:])
        writer.write("features", 0, reduced)
    log.info("%s: %d galaxies gathered from %d projected batches (%d features, fitted on %d galaxies)",
             meta["label"], n, len(stores), reduced.shape[1], meta["fit_galaxies"])
