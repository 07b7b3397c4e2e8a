"""BIRCH clustering (scikit-learn Birch) as a :class:`~galclust.methods.base.Method`.

One job per value of ``clustering.birch.k`` (tag ``k``: ``birch-k8``); shared keys
``threshold`` (auto, or a number: the radius of a subcluster in the units of the features),
``branching_factor`` (50), ``max_subclusters`` (20,000) and ``search_sample`` (100,000: above
that many rows the automatic threshold is searched on a seeded sample, then the tree is built
once on all rows — each try is a pass over the rows).

BIRCH summarises the rows in one pass into a CF tree of subclusters, then groups the
subcluster centres into k clusters with Ward agglomeration; a row takes the label of its
nearest subcluster. The global step is quadratic in the number of subclusters m, so the fit
stops with a ConfigError naming ``clustering.birch.threshold`` when m exceeds
``max_subclusters`` (raise the threshold), or when m < k.

``centres`` are the cluster means (k × d, in label order); ``arrays`` hold
``subcluster_centres`` and ``subcluster_labels``, enough to assign new rows. Deterministic
(``seed`` draws the threshold-search sample only).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..sampling import seeded_rows
from ..arrays import as_rows
from .base import ClusteringResult, Method

DEFAULT_MAX_SUBCLUSTERS = 20_000
DEFAULT_SEARCH_SAMPLE = 100_000


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """Always ``cftree``: one pass into a CF tree, then Ward on the subclusters."""
    return "cftree"


def fit(X: np.ndarray, params: Mapping[str, Any], seed: int) -> ClusteringResult:
    """Cluster the rows of X into k clusters with BIRCH."""
    from sklearn.cluster import Birch  # noqa: PLC0415
    from sklearn.exceptions import ConvergenceWarning  # noqa: PLC0415

    X = as_rows(X, "birch")
    # the settings are checked by the config schema (clustering.birch) before any job
    k = int(params["k"])
    if len(X) < max(2, k):
        raise ValueError(f"birch-k{k}: {len(X)} galaxies are too few for {k} clusters")
    branching = int(params.get("branching_factor", 50))
    most = int(params.get("max_subclusters", DEFAULT_MAX_SUBCLUSTERS))
    auto = params.get("threshold", "auto") == "auto"
    sample = int(params.get("search_sample") or DEFAULT_SEARCH_SAMPLE)

    def tree(rows: np.ndarray, t: float) -> tuple[Any, int]:
        model = Birch(threshold=t, branching_factor=branching, n_clusters=None, compute_labels=False)
        model.fit(rows)  # the CF tree only: check its size before the quadratic global step
        return model, len(model.subcluster_centers_)

    def search(rows: np.ndarray, t: float, low: int) -> tuple[Any, int, float]:
        # halve (or grow) the threshold until the tree has between `low` and max_subclusters
        model, m = tree(rows, t)
        for _ in range(20):
            if m < min(low, len(rows) // 2, most):
                t /= 2
            elif m > most:
                t *= 1.5
            else:
                break
            model, m = tree(rows, t)
        return model, m, t

    info_from = "given"
    if auto:
        # from the data: start at a tenth of the features' spread; above search_sample rows the
        # search runs on a seeded sample (each try is a pass over the rows, in Python), then one
        # pass over all rows at the threshold found, grown only if the full tree is too large
        threshold = 0.1 * float(np.sqrt(np.sum(np.var(X, axis=0, dtype=np.float64)))) or 1.0
        if len(X) > sample:
            _, _, threshold = search(X[seeded_rows(len(X), sample, seed)], threshold, 10 * k)
            model, m, threshold = search(X, threshold, 0)  # only grows it, if all rows need more
            info_from = f"searched on {sample} sampled rows"
        else:
            model, m, threshold = search(X, threshold, 10 * k)
            info_from = "searched on all rows"
    else:
        threshold = float(params["threshold"])
        model, m = tree(X, threshold)
    if m > most:
        raise ConfigError(
            f"config key 'clustering.birch.threshold': {threshold} gives {m} subclusters, more than "
            f"clustering.birch.max_subclusters = {most} (the global step is quadratic in them); raise the threshold"
        )
    if m < k:
        raise ConfigError(
            f"config key 'clustering.birch.threshold': {threshold} gives only {m} subclusters, fewer than k = {k}; "
            "lower the threshold"
        )
    model.set_params(n_clusters=k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit()  # no X: only the global clustering step (Ward on the subclusters)
    labels = np.asarray(model.predict(X), dtype=np.int64)
    present = np.unique(labels)
    centres = np.stack([X[labels == c].mean(axis=0, dtype=np.float64) for c in range(k)]) if len(present) == k else None
    info: dict[str, Any] = {
        "route": "cftree",
        "n_subclusters": int(m),
        "threshold": threshold,
        "threshold_from": info_from,
        "branching_factor": branching,
    }
    arrays = {
        "subcluster_centres": np.asarray(model.subcluster_centers_, dtype=np.float64),
        "subcluster_labels": np.asarray(model.subcluster_labels_, dtype=np.int64),
    }
    return ClusteringResult(labels=labels, info=info, centres=centres, arrays=arrays)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Predicted peak bytes of :func:`fit` on an n × d float32 array, at the worst m allowed."""
    m = min(n, int(params.get("max_subclusters", DEFAULT_MAX_SUBCLUSTERS)))
    # input; CF tree (centroid, linear sum, squared norms, node copies ≈ 4 d floats per subcluster);
    # Ward on m centres (condensed distances m²/2 and scipy's work arrays); predict in chunks
    return int(4 * n * d + 4 * 8 * m * d + 8 * m * m // 2 + 3 * 8 * m + 64 * 2**20)


METHOD = Method(
    name="birch",
    setting="k",
    tag="k",
    fit=fit,
    memory_bytes=memory_bytes,
    route=route,
    needs_k=True,
    description="BIRCH (CF tree of subclusters, then Ward into k clusters)",
)
