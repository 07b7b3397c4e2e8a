"""Rules ``project`` and ``assign``: place new galaxies into finished clusterings.

A reference run saves, per feature set, its fitted projection, reduced features and neighbour
index, and per clustering its labels. A run with ``assign.reference`` extracts features of its
own galaxies with the reference's models, projects them with the reference's projection
(transform, never refit) and assigns each to every reference clustering (nearest centroid for
k-means, HDBSCAN's approximate predict, a k-NN vote over the members for the rest).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import GalclustError
from ..store import create_store, read_array, read_attrs, read_ids
from .common import PathLike, provenance, read_labels
from .reduce import raw_features, stacked_features

log = logging.getLogger(__name__)


def project(fs_name: str, fs: dict[str, Any], model: dict[str, Any] | None, view: dict[str, Any] | None,
            inputs: Sequence[PathLike], projection_dir: PathLike, reference_reduced: PathLike,
            reference_parents: Sequence[PathLike], out: PathLike) -> None:
    """This run's galaxies in the reference run's reduced space of ``fs_name``.

    A feature set of its own: its raw features through the reference's fitted z-scoring and PCA.
    A view (``view`` not None): ``inputs`` is this run's projection of the parent feature set;
    PCA and LDA views transform it with the reference's saved state, t-SNE and UMAP views (which
    cannot transform) place each galaxy at the distance-weighted mean map position of its 10
    nearest reference galaxies in the parent space.
    """
    from ..projection import FeatureProjection

    if view is None:
        ids, n_rows, width, blocks, _, _ = raw_features(fs_name, fs, model, inputs)
        projection = FeatureProjection.load(projection_dir)
        expected = int(read_attrs(reference_reduced).get("input_width", width))
        if width != expected:
            raise GalclustError(f"feature set '{fs_name}': {width} raw features here, {expected} in the "
                                f"reference run ({reference_reduced}): the extractors differ")
        reduced = np.concatenate([projection.transform(b) for b in blocks()]) if n_rows else np.zeros((0, 0))
        how = "projection"
    else:
        assert reference_parents
        reduced, ids, how = _place_in_view(view, inputs, projection_dir, reference_reduced, reference_parents)
    with create_store(out, ids, {**provenance({"fs": fs, "reference": str(reference_reduced)}),
                                 "feature_set": fs_name, "reference": str(reference_reduced), "placed_by": how}
                      ) as writer:
        writer.create("features", reduced.shape[1:])
        writer.write("features", 0, reduced.astype(np.float32))


def _place_in_view(view: dict[str, Any], parents_projected: Sequence[PathLike], state_dir: PathLike,
                   reference_view: PathLike, reference_parents: Sequence[PathLike], k: int = 10
                   ) -> tuple[np.ndarray, np.ndarray, str]:
    from pathlib import Path

    from ..neighbours import NeighbourIndex
    from ..reducers import REDUCERS

    X, ids, _ = stacked_features(parents_projected)
    reducer = REDUCERS[view["method"]]
    if reducer.transform is not None:
        state = {p.stem: np.load(p, allow_pickle=False) for p in Path(state_dir).glob("*.npy")}
        return np.asarray(reducer.transform(state, X, view), np.float32), ids, f"{view['method']} transform"
    parent, embedding = stacked_features(reference_parents)[0], read_array(reference_view, "features")
    index = NeighbourIndex(exact_max_n=len(parent)).fit(parent)
    dist, idx = index.query(X, min(k, len(parent)))
    weights = 1.0 / np.maximum(dist, 1e-12)
    placed = (embedding[idx] * weights[..., None]).sum(axis=1) / weights.sum(axis=1, keepdims=True)
    return placed.astype(np.float32), ids, f"mean map position of the {idx.shape[1]} nearest reference galaxies"


def assign(fs_name: str, job: dict[str, Any], settings: dict[str, Any], seed: int, reference_reduced: PathLike,
           reference_labels: PathLike, reference_index: PathLike, projected: PathLike, out: PathLike) -> None:
    """``assigned.ecsv`` (id, label, confidence, distance, outlier) for every new galaxy, by the
    assigner of the reference clustering, fitted on what the reference saved (its reduced
    features, labels and neighbour index: nearest centroid for k-means, HDBSCAN's approximate
    predict, a k-NN vote for the rest). Nothing of the reference is written."""
    from ..assign import assigner_for, write_assignments
    from ..neighbours import NeighbourIndex

    job_name, method, params = job["name"], job["method"], job["params"]  # Plan.cluster_params

    X_ref, ref_ids = read_array(reference_reduced, "features"), read_ids(reference_reduced)
    label_ids, labels = read_labels(reference_labels)
    if not np.array_equal(ref_ids, label_ids):
        raise GalclustError(f"{reference_labels}: its ids differ from those of {reference_reduced}")
    X, ids = read_array(projected, "features"), read_ids(projected)
    if not np.any(labels != -1):  # the reference found no cluster: every new galaxy is noise too
        from ..assign import Assignment

        log.warning("%s/%s: the reference clustering is all noise; every galaxy assigned to noise",
                    fs_name, job_name)
        nothing = Assignment(np.full(len(ids), -1, np.int64), np.zeros(len(ids)), np.full(len(ids), np.nan),
                             np.ones(len(ids), bool))
        write_assignments(out, ids, nothing, meta={"feature_set": fs_name, "clustering": job_name,
                                                   "method": method, "reference": str(reference_labels),
                                                   "assigner": "none (the reference is all noise)"})
        return
    index = NeighbourIndex.load(reference_index)
    from ..methods import METHODS

    fitted = assigner_for(METHODS[method], X_ref, labels, params=params, k=settings["k"],
                          outlier_quantile=settings["outlier_quantile"], seed=seed, index=index)
    result = fitted.predict(X)
    write_assignments(out, ids, result, meta={"feature_set": fs_name, "clustering": job_name, "method": method,
                                              "reference": str(reference_labels),
                                              "assigner": type(fitted).__name__})
    log.info("%s/%s: %d galaxies assigned by %s, %d outliers", fs_name, job_name, len(ids),
             type(fitted).__name__, int(result.outlier.sum()))
