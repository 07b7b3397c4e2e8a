"""Place new galaxies into an existing clustering without refitting it.

Given the reference run's reduced features and labels (and its centres where the method
has them), an *assigner* gives each new galaxy a label, a confidence, a distance and an
outlier flag. Which assigner a method gets (:func:`assigner_for`):

- ``centroid`` (k-means, or any method with ``ClusteringResult.centres``): the nearest
  centre. ``distance`` is the Euclidean distance to it; ``confidence`` is the margin
  ``1 - d1/d2`` between the nearest and the second-nearest centre (0 = on the border).
  Outlier: farther from EVERY centre c than the ``outlier_quantile`` (0.99) of the
  distances of c's own reference members to c.
- ``knn`` (ward / agglomerative, affinity propagation, spectral, DBSCAN, and clusterings
  of t-SNE / UMAP maps, which are placed through their INPUT space, since those maps have
  no faithful transform): a majority vote of the ``k`` nearest reference galaxies (noise
  votes for noise); ties go to the label whose voters are nearer on average, then to the
  lower label. ``confidence`` is the winning vote share, ``distance`` the mean distance to
  the k neighbours. Outlier: that mean distance above the ``outlier_quantile`` of the same
  statistic over (a seeded sample of up to ``scale_sample`` of) the reference galaxies.
- ``hdbscan``: scikit-learn's and fast_hdbscan's HDBSCAN have no ``approximate_predict``;
  this is its documented equivalent without the condensed tree. With ``m = min_samples``,
  each reference galaxy has a core distance (to its m-th nearest reference galaxy, itself
  included, as HDBSCAN counts it). A new galaxy x gets its own core distance from its m
  nearest reference galaxies, and the mutual-reachability distance to each of them,
  ``mr(x, r) = max(core(x), core(r), d(x, r))``; the neighbour with the smallest mr is its
  attachment point, as in hdbscan's ``approximate_predict``. x takes that neighbour's label
  unless the neighbour is noise, or ``mr`` exceeds the cluster's own scale: the
  ``outlier_quantile`` of its members' core distances (the mutual-reachability distance
  at which nearly all of them have joined it). Then x is noise (-1). ``distance`` is that
  smallest mr; ``confidence`` is the share of the m neighbours carrying the label (0 for
  noise). Outlier: mr above the ``outlier_quantile`` of all clustered members' core
  distances.

A method chooses its assigner in its registry entry (``Method.assigner``).

Everything a later assignment needs is saved as JSON + ``.npy`` (:meth:`save` /
:func:`load_assigner`); the k-NN routes keep their reference in a
:class:`~galclust.neighbours.NeighbourIndex`, saved alongside or referenced by path.
:func:`write_assignments` writes ``assigned.ecsv``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path
from .methods.base import Method
from .neighbours import NeighbourIndex, as_features, all_neighbours, drop_self
from .sampling import seeded_rows

NOISE = -1
_FORMAT = "galclust-assigner"


@dataclass
class Assignment:
    """Per new galaxy: label (int64, -1 noise), confidence in [0, 1], distance, outlier."""

    labels: np.ndarray
    confidence: np.ndarray
    distance: np.ndarray
    outlier: np.ndarray


def _check_labels(labels: Any, n: int) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise ValueError(f"labels must have one value per reference galaxy ({n}); got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"labels must be integers; got dtype {arr.dtype}")
    if arr.size and arr.min() < NOISE:
        raise ValueError(f"labels must be >= {NOISE} ({NOISE} is noise)")
    return arr.astype(np.int64)


def _check_quantile(q: float) -> float:
    if not 0.0 < q <= 1.0:
        raise ValueError(f"outlier_quantile must be in (0, 1]; got {q}")
    return float(q)


def _sq_dist(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (m, K) between rows and centres, clipped at 0."""
    d = (np.einsum("ij,ij->i", X, X)[:, None] - 2.0 * (X @ C.T)
         + np.einsum("ij,ij->i", C, C)[None, :])
    return np.maximum(d, 0.0)


class _Saved:
    """JSON + .npy persistence shared by the assigners."""

    kind = ""

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError

    def save(self, directory: str | os.PathLike[str], *, index_path: str | os.PathLike[str] | None = None
             ) -> Path:
        """Write ``assigner.json`` and ``.npy`` arrays to ``directory`` atomically.

        For k-NN assigners the reference index goes to ``directory/index`` unless
        ``index_path`` names an already saved copy (e.g. the feature set's shared index),
        which is then recorded relative to ``directory`` instead of duplicated.
        """
        directory = Path(directory)
        meta, arrays = self._state()
        with atomic_path(directory, directory=True) as tmp:
            tmp.mkdir()
            for name, arr in arrays.items():
                np.save(tmp / f"{name}.npy", arr, allow_pickle=False)
            index = getattr(self, "index_", None)
            if index is not None:
                if index_path is None:
                    index.save(tmp / "index")
                    meta["index"] = "index"
                else:
                    meta["index"] = os.path.relpath(Path(index_path).resolve(), directory.resolve())
            (tmp / "assigner.json").write_text(
                json.dumps({"format": _FORMAT, "kind": self.kind, **meta}, indent=2, sort_keys=True) + "\n")
        return directory


class CentroidAssigner(_Saved):
    """Nearest centre (k-means). ``outlier_quantile`` sets the per-cluster outlier radius."""

    kind = "centroid"

    # 4096 rows keep one block's (rows, K) distances in cache: 3x the throughput of 65536
    # rows at K = 200 (bench/bench_similar.py)
    def __init__(self, *, outlier_quantile: float = 0.99, block_rows: int = 4096) -> None:
        self.outlier_quantile = _check_quantile(outlier_quantile)
        self.block_rows = int(block_rows)

    def fit(self, X: Any, labels: Any, centres: Any = None) -> CentroidAssigner:
        """Reference features (n, d) and labels; centres (K, d) in label order 0..K-1, or
        the members' means when None. Memory: n*d*4 bytes for the features."""
        X = as_features(X)
        labels = _check_labels(labels, len(X))
        clusters = np.unique(labels[labels != NOISE])
        if len(clusters) == 0:
            raise ValueError("the reference has no clusters (every label is noise)")
        if centres is None:
            self.cluster_labels_ = clusters
            self.centres_ = np.stack([X[labels == c].mean(axis=0) for c in clusters]).astype(np.float32)
        else:
            self.centres_ = as_features(centres, "centres")
            if self.centres_.shape[1] != X.shape[1]:
                raise ValueError(f"centres have {self.centres_.shape[1]} features; X has {X.shape[1]}")
            self.cluster_labels_ = np.arange(len(self.centres_), dtype=np.int64)
        # each member's distance to its own centre -> per-cluster outlier radius
        pos = {int(c): i for i, c in enumerate(self.cluster_labels_)}
        member = np.array([pos.get(int(c), -1) for c in labels])
        radius = np.zeros(len(self.centres_), np.float64)
        for i in range(len(self.centres_)):
            rows = X[member == i]
            if len(rows):
                radius[i] = np.quantile(np.linalg.norm(rows - self.centres_[i], axis=1), self.outlier_quantile)
        self.radius_ = radius
        return self

    def predict(self, X: Any) -> Assignment:
        """Assign rows of ``X`` (m, d); memory one block's (block_rows, K) distances."""
        X = as_features(X)
        m = len(X)
        labels = np.empty(m, np.int64)
        conf = np.empty(m, np.float32)
        dist = np.empty(m, np.float32)
        out = np.empty(m, bool)
        r2 = self.radius_ ** 2
        for s in range(0, m, self.block_rows):
            # squared distances throughout; only the two nearest get a square root
            sq = _sq_dist(X[s:s + self.block_rows], self.centres_)
            rows = np.arange(len(sq))
            near = np.argmin(sq, axis=1)
            d1 = np.sqrt(sq[rows, near])
            if sq.shape[1] > 1:
                d2 = np.sqrt(np.partition(sq, 1, axis=1)[:, 1])
                conf[s:s + len(sq)] = np.where(d2 > 0, 1.0 - d1 / np.where(d2 > 0, d2, 1.0), 0.0)
            else:
                conf[s:s + len(sq)] = 1.0
            labels[s:s + len(sq)] = self.cluster_labels_[near]
            dist[s:s + len(sq)] = d1
            out[s:s + len(sq)] = np.all(sq > r2[None, :], axis=1)
        return Assignment(labels, conf, dist, out)

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return ({"outlier_quantile": self.outlier_quantile, "block_rows": self.block_rows},
                {"centres": self.centres_, "cluster_labels": self.cluster_labels_, "radius": self.radius_})


class KNNAssigner(_Saved):
    """Majority vote of the ``k`` nearest reference galaxies (noise votes for noise)."""

    kind = "knn"

    def __init__(self, k: int = 15, *, outlier_quantile: float = 0.99, scale_sample: int = 10_000,
                 seed: int = 0, index_params: dict[str, Any] | None = None) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1; got {k}")
        self.k = int(k)
        self.outlier_quantile = _check_quantile(outlier_quantile)
        self.scale_sample = int(scale_sample)
        self.seed = int(seed)
        self.index_params = dict(index_params or {})

    def fit(self, X: Any, labels: Any, index: NeighbourIndex | None = None) -> KNNAssigner:
        """Reference features and labels; ``index``, if given, is already fitted on ``X``."""
        X = as_features(X)
        self.labels_ = _check_labels(labels, len(X))
        if len(X) <= self.k:
            raise ValueError(f"k = {self.k} needs more than {self.k} reference galaxies; got {len(X)}")
        self.index_ = index if index is not None else NeighbourIndex(seed=self.seed, **self.index_params).fit(X)
        # the reference's own scale: mean distance of a sample of galaxies to their k others
        sample = seeded_rows(len(X), self.scale_sample, self.seed)
        dist, _ = drop_self(*self.index_.query(X[sample], self.k + 1), sample)
        mean = dist.mean(axis=1)
        self.threshold_ = float(np.quantile(mean, self.outlier_quantile))
        return self

    def predict(self, X: Any) -> Assignment:
        """Assign rows of ``X``; memory one query block plus (m, k) neighbours."""
        X = as_features(X)
        dist, idx = self.index_.query(X, self.k)
        votes = self.labels_[idx]
        labels, conf = _vote(votes, dist)
        mean = dist.mean(axis=1)
        return Assignment(labels, conf, mean.astype(np.float32), mean > self.threshold_)

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return ({"k": self.k, "outlier_quantile": self.outlier_quantile, "scale_sample": self.scale_sample,
                 "seed": self.seed, "index_params": self.index_params, "threshold": self.threshold_},
                {"labels": self.labels_})


def _vote(votes: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Majority label per row of ``votes`` (m, k); ties to the nearer voters, then the lower label."""
    m, k = votes.shape
    order = np.sort(votes, axis=1)
    # per row: the distinct labels and their counts, vectorised over a small k
    labels = np.empty(m, np.int64)
    share = np.empty(m, np.float32)
    for j in range(k):  # candidate = the label in column j of the sorted votes
        cand = order[:, j]
        mask = votes == cand[:, None]
        count = mask.sum(axis=1)
        mean_d = np.where(mask, dist, 0.0).sum(axis=1) / count
        if j == 0:
            best_c, best_n, best_d = cand.copy(), count, mean_d
            continue
        better = (count > best_n) | ((count == best_n) & (mean_d < best_d))
        best_c = np.where(better, cand, best_c)
        best_n = np.where(better, count, best_n)
        best_d = np.where(better, mean_d, best_d)
    labels[:] = best_c
    share[:] = best_n / k
    return labels, share


class HDBSCANAssigner(_Saved):
    """HDBSCAN's ``approximate_predict`` through mutual reachability (see the module doc)."""

    kind = "hdbscan"

    def __init__(self, min_samples: int = 5, *, outlier_quantile: float = 0.99, seed: int = 0,
                 index_params: dict[str, Any] | None = None) -> None:
        if min_samples < 1:
            raise ValueError(f"min_samples must be >= 1; got {min_samples}")
        self.min_samples = int(min_samples)
        self.outlier_quantile = _check_quantile(outlier_quantile)
        self.seed = int(seed)
        self.index_params = dict(index_params or {})

    def fit(self, X: Any, labels: Any, index: NeighbourIndex | None = None) -> HDBSCANAssigner:
        """Reference features and HDBSCAN labels. Computes every reference core distance:
        one k-NN query per reference galaxy (n * min_samples * 12 bytes)."""
        X = as_features(X)
        self.labels_ = _check_labels(labels, len(X))
        m = self.min_samples
        if len(X) <= m:
            raise ValueError(f"min_samples = {m} needs more than {m} reference galaxies; got {len(X)}")
        self.index_ = index if index is not None else NeighbourIndex(seed=self.seed, **self.index_params).fit(X)
        # core distance: to the m-th nearest galaxy counting itself (HDBSCAN's convention),
        # i.e. the (m-1)-th other one; m == 1 means 0
        if m == 1:
            self.core_ = np.zeros(len(X), np.float32)
        else:
            dist, _ = all_neighbours(self.index_, X, m - 1)
            self.core_ = dist[:, -1].copy()
        clustered = self.labels_ != NOISE
        if not clustered.any():
            raise ValueError("the reference has no clusters (every label is noise)")
        self.cluster_labels_ = np.unique(self.labels_[clustered])
        self.scale_ = np.array([np.quantile(self.core_[self.labels_ == c], self.outlier_quantile)
                                for c in self.cluster_labels_], np.float64)
        self.threshold_ = float(np.quantile(self.core_[clustered], self.outlier_quantile))
        return self

    def predict(self, X: Any) -> Assignment:
        """Assign rows of ``X``; memory (m, min_samples) neighbours."""
        X = as_features(X)
        m = self.min_samples
        dist, idx = self.index_.query(X, m)
        core_x = dist[:, -1]
        mr = np.maximum(np.maximum(dist, core_x[:, None]), self.core_[idx])
        # smallest mutual reachability; ties to the nearer neighbour (columns are by distance)
        best = np.argmin(mr, axis=1)
        rows = np.arange(len(X))
        near = idx[rows, best]
        mr_best = mr[rows, best]
        label = self.labels_[near]
        pos = np.searchsorted(self.cluster_labels_, label)
        scale = np.where(label == NOISE, -np.inf, self.scale_[np.clip(pos, 0, len(self.scale_) - 1)])
        label = np.where(mr_best <= scale, label, NOISE)
        conf = np.where(label == NOISE, 0.0, (self.labels_[idx] == label[:, None]).mean(axis=1))
        return Assignment(label.astype(np.int64), conf.astype(np.float32), mr_best.astype(np.float32),
                          mr_best > self.threshold_)

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return ({"min_samples": self.min_samples, "outlier_quantile": self.outlier_quantile,
                 "seed": self.seed, "index_params": self.index_params, "threshold": self.threshold_},
                {"labels": self.labels_, "core": self.core_, "cluster_labels": self.cluster_labels_,
                 "scale": self.scale_})


Assigner = CentroidAssigner | KNNAssigner | HDBSCANAssigner


def load_assigner(directory: str | os.PathLike[str]) -> Assigner:
    """Read an assigner written by ``save``; FileNotFoundError names a missing path."""
    directory = Path(directory)
    path = directory / "assigner.json"
    if not path.is_file():
        raise FileNotFoundError(f"{directory}: no saved assigner here (missing {path.name})")
    meta = json.loads(path.read_text())
    if meta.get("format") != _FORMAT:
        raise ValueError(f"{path}: not a galclust assigner")

    def arr(name: str) -> np.ndarray:
        return np.load(directory / f"{name}.npy", allow_pickle=False)

    kind = meta["kind"]
    obj: Assigner
    if kind == "centroid":
        obj = CentroidAssigner(outlier_quantile=meta["outlier_quantile"], block_rows=meta["block_rows"])
        obj.centres_, obj.cluster_labels_, obj.radius_ = arr("centres"), arr("cluster_labels"), arr("radius")
        return obj
    index = NeighbourIndex.load((directory / meta["index"]).resolve())
    if kind == "knn":
        obj = KNNAssigner(meta["k"], outlier_quantile=meta["outlier_quantile"],
                          scale_sample=meta["scale_sample"], seed=meta["seed"], index_params=meta["index_params"])
        obj.labels_, obj.threshold_, obj.index_ = arr("labels"), meta["threshold"], index
    elif kind == "hdbscan":  # a saved assigner's format (assigner.json), not a method name
        obj = HDBSCANAssigner(meta["min_samples"], outlier_quantile=meta["outlier_quantile"],
                              seed=meta["seed"], index_params=meta["index_params"])
        obj.labels_, obj.core_, obj.cluster_labels_, obj.scale_ = (
            arr("labels"), arr("core"), arr("cluster_labels"), arr("scale"))
        obj.threshold_, obj.index_ = meta["threshold"], index
    else:
        raise ValueError(f"{path}: unknown assigner kind {kind!r}")
    if index.n_ != len(obj.labels_):
        raise ValueError(f"{path}: the index holds {index.n_} galaxies, the labels {len(obj.labels_)}")
    return obj


def assigner_for(method: Method, X: Any, labels: Any, *, centres: Any = None, params: dict[str, Any] | None = None,
                 k: int = 15, outlier_quantile: float = 0.99, seed: int = 0,
                 index: NeighbourIndex | None = None) -> Assigner:
    """A fitted assigner for a clustering by ``method`` of reference rows ``X``.

    Centres (from ``ClusteringResult.centres``) choose the centroid route whatever the
    method; else the method's own ``assigner`` (k-means: nearest centre, HDBSCAN: approximate
    predict with the job's ``min_samples``); the rest vote by k-NN. ``index``, if given, is a
    NeighbourIndex already fitted on ``X`` (shared, not rebuilt).
    """
    if centres is not None:
        return CentroidAssigner(outlier_quantile=outlier_quantile).fit(X, labels, centres)
    if method.assigner is not None:
        return method.assigner(X, labels, dict(params or {}), outlier_quantile, seed, index)  # type: ignore[no-any-return]
    return KNNAssigner(k, outlier_quantile=outlier_quantile, seed=seed).fit(X, labels, index)


def assignment_table(ids: Any, assignment: Assignment, meta: dict[str, Any] | None = None) -> Any:
    """The astropy table (id, label, confidence, distance, outlier)."""
    from astropy.table import Table  # noqa: PLC0415

    ids = np.array([str(i) for i in np.asarray(ids).ravel().tolist()], dtype=str)
    if len(ids) != len(assignment.labels):
        raise ValueError(f"{len(ids)} ids for {len(assignment.labels)} assignments")
    table = Table({"id": ids, "label": assignment.labels.astype(np.int64),
                   "confidence": assignment.confidence.astype(np.float32),
                   "distance": assignment.distance.astype(np.float32),
                   "outlier": assignment.outlier.astype(bool)})
    table.meta.update(meta or {})
    return table


def write_assignments(path: str | os.PathLike[str], ids: Any, assignment: Assignment,
                      meta: dict[str, Any] | None = None) -> Path:
    """Write ``assigned.ecsv`` (or any suffix :func:`galclust.tables.write_table` knows)."""
    from .tables import write_table  # noqa: PLC0415

    write_table(assignment_table(ids, assignment, meta), path)
    return Path(path)
