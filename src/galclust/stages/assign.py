"""Rules ``assigner``, ``project`` and ``assign``: place new galaxies into finished clusterings.

A reference run saves, per clustering, an assigner (nearest centroid for k-means, HDBSCAN's
approximate predict, a k-NN vote over the members for the rest) and, per feature set, its fitted
projection. A run with ``assign.reference`` extracts features of its own galaxies with the
reference's models, projects them with the reference's projection (transform, never refit) and
assigns each to every reference clustering.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import GalclustError
from ..store import create_store, read_array, read_attrs, read_ids
from .common import PathLike, provenance, read_labels
from .reduce import raw_features

log = logging.getLogger(__name__)


def assigner(fs_name: str, job_name: str, method: str, params: dict[str, Any], settings: dict[str, Any],
             seed: int, reduced: PathLike, labels_path: PathLike, index_dir: PathLike, out_dir: PathLike) -> None:
    """Fit and save the assigner of one clustering (portable arrays and JSON, no pickle)."""
    from ..assign import assigner_for
    from ..neighbours import NeighbourIndex

    X, ids = read_array(reduced, "features"), read_ids(reduced)
    label_ids, labels = read_labels(labels_path)
    if not np.array_equal(ids, label_ids):
        raise GalclustError(f"{labels_path}: its ids differ from those of {reduced}")
    index = NeighbourIndex.load(index_dir)
    # k-means: nearest centroid (the members' means); the rest by their own route
    fitted = assigner_for(method, X, labels, params=params, k=settings["k"],
                          outlier_quantile=settings["outlier_quantile"], seed=seed, index=index)
    fitted.save(out_dir, index_path=index_dir)
    log.info("%s/%s: %s assigner saved", fs_name, job_name, type(fitted).__name__)


def project(fs_name: str, fs: dict[str, Any], model: dict[str, Any] | None, feature_stores: Sequence[PathLike],
            projection_dir: PathLike, reference_reduced: PathLike, out: PathLike) -> None:
    """This run's features of ``fs_name`` through the reference run's fitted projection."""
    from ..projection import FeatureProjection

    ids, n_rows, width, blocks, _, _ = raw_features(fs_name, fs, model, feature_stores)
    projection = FeatureProjection.load(projection_dir)
    expected = int(read_attrs(reference_reduced).get("input_width", width))
    if width != expected:
        raise GalclustError(f"feature set '{fs_name}': {width} raw features here, {expected} in the reference "
                            f"run ({reference_reduced}): the extractors differ")
    reduced = np.concatenate([projection.transform(b) for b in blocks()]) if n_rows else np.zeros((0, 0))
    with create_store(out, ids, {**provenance({"fs": fs, "reference": str(reference_reduced)}),
                                 "feature_set": fs_name, "reference": str(reference_reduced)}) as writer:
        writer.create("features", reduced.shape[1:])
        writer.write("features", 0, reduced.astype(np.float32))


def assign(fs_name: str, job_name: str, assigner_dir: PathLike, projected: PathLike, out: PathLike) -> None:
    """``assigned.ecsv``: id, label, confidence, distance, outlier for every new galaxy."""
    from ..assign import load_assigner, write_assignments

    fitted = load_assigner(assigner_dir)
    X, ids = read_array(projected, "features"), read_ids(projected)
    result = fitted.predict(X)
    write_assignments(out, ids, result, meta={"feature_set": fs_name, "clustering": job_name,
                                              "assigner": str(assigner_dir)})
    log.info("%s/%s: %d galaxies assigned, %d outliers", fs_name, job_name, len(ids), int(result.outlier.sum()))
