"""Nearest neighbours over reduced features: exact below a size, HNSW (hnswlib) above.

:class:`NeighbourIndex` answers "which galaxies look most like this one" in the reduced
feature space (rows = galaxies, float32, ids alongside).

- ``route == "exact"`` (n <= ``exact_max_n``): brute force with numpy, queries taken in
  blocks so that one block's distance matrix stays under ``max_block_bytes``; never N x N.
  The k candidates are re-measured in float64 and ordered by distance, ties by row index.
  Memory: the features (n*d*4 bytes) plus one block (``max_block_bytes``).
- ``route == "hnsw"``: an hnswlib HNSW graph (``M``, ``ef_construction``, ``ef``,
  ``random_seed=seed``). Memory about n*(d*4 + M*2*4 + 8) bytes. The graph is built with
  ``build_threads`` threads; hnswlib's build is deterministic only with ONE thread (with
  several, the insertion order depends on thread scheduling: two builds of the same data
  with 2 threads gave different index files, with 1 thread identical bytes), so the default
  is 1 and ``build_threads > 1`` trades reproducibility for speed. Queries are independent
  of each other, so querying with ``query_threads`` threads is deterministic.

Distances are Euclidean (``metric="euclidean"``) or cosine distances 1 - cos
(``metric="cosine"``), the same on both routes (hnswlib's squared L2 is square-rooted).

:meth:`NeighbourIndex.save` writes a directory: ``index.json`` (parameters, route, shape,
versions), ``ids.npy`` (fixed-width unicode), and ``features.npy`` (exact) or ``hnsw.bin``
(hnswlib's own format); nothing is pickled. :func:`all_neighbours` makes the top-k table of
every galaxy (itself excluded); :func:`write_neighbour_table` stores it as a Zarr store
(``.zarr``, the workflow's choice: N x k arrays, any N) or as a long astropy table
(``.ecsv`` / ``.fits``: id, rank, neighbour_id, distance; for small N or for export).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path

METRICS = ("euclidean", "cosine")
ROUTES = ("exact", "hnsw")
_FORMAT_VERSION = 1


def as_features(X: Any, what: str = "X") -> np.ndarray:
    """``X`` as a C-contiguous float32 (n, d) array; raise ValueError naming the problem."""
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be 2-D (galaxies x features); got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{what} must be numeric; got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} has non-finite values (NaN or inf)")
    return arr


def _normalise(X: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), for the cosine metric."""
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return (X / np.where(norms > 0, norms, 1.0)).astype(np.float32)


class NeighbourIndex:
    """k nearest neighbours of galaxies in a feature space (scikit-learn style: fit, query).

    Parameters
    ----------
    metric : "euclidean" or "cosine".
    exact_max_n : up to this many rows the index is exact brute force; above, HNSW.
    M, ef_construction : HNSW graph degree and build-time beam width.
    ef : HNSW query beam width (raised to k when k is larger).
    seed : hnswlib's ``random_seed`` (the level of each inserted element).
    build_threads : threads adding items to the graph (1 = reproducible bytes).
    query_threads : threads answering HNSW queries (any value is deterministic).
    max_block_bytes : cap on one block's distance matrix on the exact route.
    """

    def __init__(self, metric: str = "euclidean", *, exact_max_n: int = 50_000, M: int = 16,
                 ef_construction: int = 200, ef: int = 64, seed: int = 0, build_threads: int = 1,
                 query_threads: int = 1, max_block_bytes: int = 64 << 20) -> None:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
        for name, value in (("exact_max_n", exact_max_n), ("M", M), ("ef_construction", ef_construction),
                            ("ef", ef), ("build_threads", build_threads), ("query_threads", query_threads),
                            ("max_block_bytes", max_block_bytes)):
            if int(value) < (0 if name == "exact_max_n" else 1):
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0; got {seed}")
        self.metric = metric
        self.exact_max_n = int(exact_max_n)
        self.M = int(M)
        self.ef_construction = int(ef_construction)
        self.ef = int(ef)
        self.seed = int(seed)
        self.build_threads = int(build_threads)
        self.query_threads = int(query_threads)
        self.max_block_bytes = int(max_block_bytes)

    # -- fitting ------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (JSON-able)."""
        return {"metric": self.metric, "exact_max_n": self.exact_max_n, "M": self.M,
                "ef_construction": self.ef_construction, "ef": self.ef, "seed": self.seed,
                "build_threads": self.build_threads, "query_threads": self.query_threads,
                "max_block_bytes": self.max_block_bytes}

    def fit(self, X: Any, ids: Any = None) -> NeighbourIndex:
        """Index the rows of ``X`` (n, d); ``ids`` (n,) name them (default "0".."n-1")."""
        X = as_features(X)
        n, d = X.shape
        if n == 0:
            raise ValueError("X has no rows: nothing to index")
        self.ids_ = (np.arange(n).astype(str) if ids is None
                     else np.array([str(i) for i in np.asarray(ids).ravel().tolist()], dtype=str))
        if len(self.ids_) != n:
            raise ValueError(f"X has {n} rows but {len(self.ids_)} ids")
        self.n_, self.d_ = n, d
        self.route_ = "exact" if n <= self.exact_max_n else "hnsw"
        if self.route_ == "exact":
            self._X = _normalise(X) if self.metric == "cosine" else X
            self._sq = np.einsum("ij,ij->i", self._X, self._X, dtype=np.float64).astype(np.float32)
            self._hnsw = None
        else:
            self._X = None
            self._hnsw = self._new_hnsw(n, d)
            self._hnsw.set_num_threads(self.build_threads)
            # add in blocks: hnswlib copies its input; one block at a time bounds the extra memory
            step = 100_000
            from .progress import ProgressLog

            progress = ProgressLog("neighbour index (HNSW build)", n)
            for start in range(0, n, step):
                self._hnsw.add_items(X[start:start + step], np.arange(start, min(n, start + step)))
                progress.advance(min(n, start + step) - start)
            progress.finish()
            self._hnsw.set_num_threads(self.query_threads)
            self._hnsw.set_ef(self.ef)
        self._row_of: dict[str, int] | None = None
        return self

    def _new_hnsw(self, n: int, d: int) -> Any:
        import hnswlib  # noqa: PLC0415  (only the HNSW route needs it)

        index = hnswlib.Index(space="l2" if self.metric == "euclidean" else "cosine", dim=d)
        index.init_index(max_elements=n, ef_construction=self.ef_construction, M=self.M,
                         random_seed=self.seed)
        return index

    def _check_fitted(self) -> None:
        if not hasattr(self, "route_"):
            raise RuntimeError("NeighbourIndex is not fitted: call fit(X, ids) or NeighbourIndex.load(dir)")

    # -- queries ------------------------------------------------------------------------
    def row_of(self, galaxy_id: str) -> int:
        """Row number of ``galaxy_id``; KeyError naming it when it is not indexed."""
        self._check_fitted()
        if self._row_of is None:
            self._row_of = {g: i for i, g in enumerate(self.ids_.tolist())}
        try:
            return self._row_of[str(galaxy_id)]
        except KeyError:
            raise KeyError(f"id {galaxy_id!r} is not in the index ({self.n_} galaxies)") from None

    def vectors(self, rows: Any) -> np.ndarray:
        """The indexed feature vectors of ``rows`` (unit length under the cosine metric)."""
        self._check_fitted()
        rows = np.asarray(rows, dtype=np.int64).ravel()
        if self.route_ == "exact":
            return self._X[rows]
        return np.asarray(self._hnsw.get_items(rows.tolist(), return_type="numpy"), dtype=np.float32)

    def query(self, Xq: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest indexed rows of each row of ``Xq`` (m, d).

        Returns ``(distances, indices)``, both (m, k), nearest first: float32 distances and
        int64 row numbers into the fitted ``X`` (``ids_[indices]`` are their ids).
        """
        self._check_fitted()
        Xq = as_features(Xq, "Xq")
        if Xq.shape[1] != self.d_:
            raise ValueError(f"Xq has {Xq.shape[1]} features; the index has {self.d_}")
        if not 1 <= k <= self.n_:
            raise ValueError(f"k must be between 1 and the {self.n_} indexed galaxies; got {k}")
        if len(Xq) == 0:
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
        if self.route_ == "exact":
            return self._query_exact(Xq, k)
        self._hnsw.set_ef(max(self.ef, k))
        labels, dist = self._hnsw.knn_query(Xq, k=k, num_threads=self.query_threads)
        dist = np.sqrt(np.maximum(dist, 0.0)) if self.metric == "euclidean" else np.maximum(dist, 0.0)
        return dist.astype(np.float32), labels.astype(np.int64)

    def _query_exact(self, Xq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Brute force, a block of queries at a time (block * n * 4 bytes <= max_block_bytes)."""
        if self.metric == "cosine":
            Xq = _normalise(Xq)
        rows = max(1, min(self.max_block_bytes // (4 * self.n_), self.max_block_bytes // (8 * k * self.d_)))
        out_d = np.empty((len(Xq), k), np.float32)
        out_i = np.empty((len(Xq), k), np.int64)
        for start in range(0, len(Xq), rows):
            q = Xq[start:start + rows]
            # |q - x|^2 = |q|^2 - 2 q.x + |x|^2; |q|^2 is the same along a row, so rank without it
            score = self._sq[None, :] - 2.0 * (q @ self._X.T)
            if k < self.n_:
                cand = np.argpartition(score, k - 1, axis=1)[:, :k]
            else:
                cand = np.broadcast_to(np.arange(self.n_), score.shape)
            # the candidates' distances again in float64 (no cancellation), then the final
            # order by distance, ties by row index
            diff = self._X[cand].astype(np.float64) - q[:, None, :].astype(np.float64)
            dist = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
            if self.metric == "cosine":
                dist = dist * dist / 2.0  # |a-b|^2 = 2 - 2cos for unit vectors
            order = np.lexsort((cand, dist), axis=1)
            out_d[start:start + len(q)] = np.take_along_axis(dist, order, 1)
            out_i[start:start + len(q)] = np.take_along_axis(cand, order, 1)
        return out_d, out_i

    # -- persistence --------------------------------------------------------------------
    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the index to ``directory`` atomically (JSON + .npy + hnswlib's binary)."""
        self._check_fitted()
        directory = Path(directory)
        with atomic_path(directory, directory=True) as tmp:
            tmp.mkdir()
            np.save(tmp / "ids.npy", self.ids_, allow_pickle=False)
            if self.route_ == "exact":
                np.save(tmp / "features.npy", self._X, allow_pickle=False)
            else:
                self._hnsw.save_index(str(tmp / "hnsw.bin"))
            meta = {"format": "galclust-neighbour-index", "version": _FORMAT_VERSION,
                    "route": self.route_, "n": self.n_, "d": self.d_, "params": self.get_params(),
                    "versions": _versions()}
            (tmp / "index.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> NeighbourIndex:
        """Read an index written by :meth:`save`; FileNotFoundError names a missing path."""
        directory = Path(directory)
        meta_path = directory / "index.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{directory}: no neighbour index here (missing {meta_path.name})")
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != "galclust-neighbour-index":
            raise ValueError(f"{meta_path}: not a galclust neighbour index")
        self = cls(**meta["params"])
        self.n_, self.d_, self.route_ = int(meta["n"]), int(meta["d"]), meta["route"]
        self.ids_ = np.load(directory / "ids.npy", allow_pickle=False)
        self._row_of = None
        if self.route_ == "exact":
            self._X = np.ascontiguousarray(np.load(directory / "features.npy", allow_pickle=False))
            self._sq = np.einsum("ij,ij->i", self._X, self._X, dtype=np.float64).astype(np.float32)
            self._hnsw = None
        else:
            self._X = None
            self._hnsw = self._new_hnsw(self.n_, self.d_)
            self._hnsw.load_index(str(directory / "hnsw.bin"), max_elements=self.n_)
            self._hnsw.set_num_threads(self.query_threads)
            self._hnsw.set_ef(self.ef)
        return self


def _versions() -> dict[str, str]:
    import importlib.metadata as md  # noqa: PLC0415

    out = {}
    for pkg in ("numpy", "hnswlib"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    return out


def all_neighbours(index: NeighbourIndex, X: Any, k: int, block_rows: int = 4096,
                   progress_interval: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other galaxies of every indexed galaxy (itself left out).

    ``X`` are the rows the index was fitted on, in the same order. Returns ``(distances,
    indices)``, (n, k) float32 and int64, nearest first. Each row is queried for k+1
    neighbours and its own row dropped (or, where an exact duplicate outranks it, the
    last). Memory: the two outputs (n*k*12 bytes) plus one block's queries. Progress is
    logged at most every ``progress_interval`` seconds.
    """
    from .progress import ProgressLog

    X = as_features(X)
    index._check_fitted()
    if X.shape != (index.n_, index.d_):
        raise ValueError(f"X has shape {X.shape}; the index holds {(index.n_, index.d_)}")
    if not 1 <= k < index.n_:
        raise ValueError(f"k must be between 1 and n - 1 = {index.n_ - 1}; got {k}")
    out_d = np.empty((index.n_, k), np.float32)
    out_i = np.empty((index.n_, k), np.int64)
    progress = ProgressLog(f"{k} nearest neighbours", index.n_, interval=progress_interval)
    for start in range(0, index.n_, block_rows):
        stop = min(index.n_, start + block_rows)
        dist, idx = index.query(X[start:stop], k + 1)
        out_d[start:stop], out_i[start:stop] = drop_self(dist, idx, np.arange(start, stop))
        progress.advance(stop - start)
    progress.finish()
    return out_d, out_i


def drop_self(distances: np.ndarray, indices: np.ndarray, rows: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Remove each query's own row from (m, k+1) neighbours -> (m, k).

    Where the row is absent (an approximate miss, or exact duplicates outranking it) the
    last column goes instead.
    """
    k = indices.shape[1] - 1
    own = indices == np.asarray(rows)[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
    keep = np.ones_like(own)
    keep[np.arange(len(indices)), drop] = False
    return distances[keep].reshape(-1, k), indices[keep].reshape(-1, k)


def neighbour_table(ids: Any, distances: np.ndarray, indices: np.ndarray) -> Any:
    """The long astropy table (id, rank, neighbour_id, distance) of a top-k table; rank from 1."""
    from astropy.table import Table  # noqa: PLC0415

    ids = np.asarray(ids, dtype=str)
    n, k = indices.shape
    return Table({
        "id": np.repeat(ids, k),
        "rank": np.tile(np.arange(1, k + 1, dtype=np.int32), n),
        "neighbour_id": ids[indices.ravel()],
        "distance": distances.ravel().astype(np.float32),
    })


def write_neighbour_table(path: str | os.PathLike[str], ids: Any, distances: np.ndarray,
                          indices: np.ndarray, attrs: dict[str, Any] | None = None) -> Path:
    """Write a top-k table: a Zarr store for ``.zarr`` (ids, ``indices`` (n, k) int64 rows
    into ids, ``distances`` (n, k) float32), else a long astropy table (``.ecsv``/``.fits``)."""
    path = Path(path)
    ids = np.asarray(ids, dtype=str)
    if indices.shape != distances.shape or indices.shape[0] != len(ids):
        raise ValueError(f"{len(ids)} ids, indices {indices.shape}, distances {distances.shape}")
    if path.suffix == ".zarr":
        from .store import write_store  # noqa: PLC0415

        write_store(path, ids.tolist(), {"indices": indices.astype(np.int64),
                                         "distances": distances.astype(np.float32)},
                    attrs={"k": int(indices.shape[1]), **(attrs or {})}, chunk_rows=65536)
    else:
        from .tables import write_table  # noqa: PLC0415

        table = neighbour_table(ids, distances, indices)
        table.meta.update(attrs or {})
        write_table(table, path)
    return path


def read_neighbour_table(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, distances, indices)`` from a ``.zarr`` top-k store written above."""
    from .store import read_array, read_ids  # noqa: PLC0415

    return read_ids(path), read_array(path, "distances"), read_array(path, "indices")
