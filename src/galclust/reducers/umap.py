"""UMAP maps (umap-learn) as a :class:`~galclust.reducers.base.Reducer` (``UMAP-2``).

Parameters (``features.<name>.reduce``): ``n_components`` (2), ``n_neighbors`` (15; at most
the number of galaxies minus one, ``info['n_neighbors_asked']`` records a larger setting),
``min_dist`` (0.1), ``metric`` ("euclidean"), ``n_epochs`` (None: umap-learn's choice,
500 below 10k rows, 200 above).

Determinism: ``random_state`` is the job's seed; umap-learn then runs single-threaded
(numba parallelism off), so the same seed gives the same bytes — and the fit is slower.

New rows: umap-learn's ``transform`` needs the fitted object (the pynndescent index and the
graph), not portable arrays, so ``transform`` is None: the workflow places new galaxies by
k-NN in the input space.

Memory: the input (n·d·4) and a float32/float64 copy (n·d·8), the k-NN graph (n·n_neighbors
indices and distances, a few copies while symmetrising: ≈ 6·n·n_neighbors·12 bytes), the
pynndescent forest (≈ n·n_neighbors·8 per tree, ~ 5 + n^0.25 trees) and n × n_components
float buffers. Below 4,096 rows umap-learn computes all pairwise distances (n²·8 bytes), a
deliberate choice of the library that is only taken for small n.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..arrays import as_rows
from ..params import float_param, int_param
from ..progress import tqdm_settings
from .base import Embedding, Reducer, label

#: umap-learn computes exact pairwise distances below this many rows.
EXACT_BELOW = 4096


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """``exact`` (all pairwise distances, small n) or ``nndescent`` (approximate k-NN)."""
    return "exact" if n < EXACT_BELOW else "nndescent"


def _import_umap() -> Any:
    """umap-learn without ParametricUMAP, which galclust never uses: umap's ``__init__`` imports
    it, and with it TensorFlow, whenever TensorFlow is installed (about a quarter of a UMAP job's
    CPU time at 60 galaxies: bench/results/job_startup.md). A ``None`` entry in ``sys.modules`` makes that one import raise
    ImportError, which umap's ``__init__`` catches (it defines a placeholder class instead)."""
    if "umap" not in sys.modules:
        sys.modules.setdefault("umap.parametric_umap", None)  # type: ignore[assignment]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImportWarning)  # "Tensorflow not installed; ParametricUMAP..."
        import umap  # noqa: PLC0415  (heavy import, only for this reducer)
    return umap


def fit_transform(X: np.ndarray, params: Mapping[str, Any], seed: int, target: np.ndarray | None = None) -> Embedding:
    """Embed the rows of X with UMAP, seeded by ``seed`` alone; ``target`` is unused."""
    umap = _import_umap()

    X = as_rows(X, "UMAP")
    n = len(X)
    k = int_param(params, "n_components", 2)
    n_neighbors = int_param(params, "n_neighbors", 15, minimum=2)
    min_dist = float_param(params, "min_dist", 0.1)
    n_epochs = params.get("n_epochs")
    if n_epochs is not None:
        n_epochs = int_param(params, "n_epochs", 200)
    if n <= k + 1:
        raise ValueError(f"UMAP needs more than n_components + 1 = {k + 1} galaxies, got {n}")
    asked = n_neighbors
    # A folder smaller than the neighbourhood: use every other galaxy (umap-learn's own
    # fallback), so one config serves a folder of 20 galaxies and one of 20,000; info says so.
    n_neighbors = min(n_neighbors, n - 1)
    model = umap.UMAP(
        n_components=k,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        metric=str(params.get("metric", "euclidean")),
        n_epochs=n_epochs,
        random_state=int(seed),  # also makes umap-learn single-threaded, hence reproducible
        transform_seed=int(seed),
        verbose=False,
        # umap-learn's epoch loop is a tqdm bar: drawn as log lines, no byte of the result changes
        tqdm_kwds=tqdm_settings("UMAP", "epochs"),
    )
    with warnings.catch_warnings():
        # "n_jobs value 1 overridden to 1 by setting random_state": the point of seeding.
        warnings.filterwarnings("ignore", message=".*n_jobs.*overridden.*")
        values = np.asarray(model.fit_transform(X), dtype=np.float32)
    info = {
        "route": route(params, n, X.shape[1]),
        "label": label("UMAP", k),
        "n_components": k,
        "n_neighbors": n_neighbors,
        **({"n_neighbors_asked": asked} if asked != n_neighbors else {}),
        "min_dist": min_dist,
        "metric": str(params.get("metric", "euclidean")),
        "transform": "none: new rows are placed by k-NN in the input space",
    }
    return Embedding(values=values, state={}, info=info)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Predicted peak bytes of :func:`fit_transform` on an n × d float32 array."""
    k = int(params.get("n_components", 2))
    nn = int(params.get("n_neighbors", 15))
    graph = 6 * n * nn * 12
    forest = int(5 + n**0.25) * n * nn * 8
    dense = 8 * n * n if route(params, n, d) == "exact" else 0
    return int(4 * n * d + 8 * n * d + graph + forest + dense + 8 * n * k * 8)


REDUCER = Reducer(
    name="umap",
    label="UMAP",
    fit_transform=fit_transform,
    memory_bytes=memory_bytes,
    transform=None,
    supervised=False,
    map_keys=("n_neighbors",),
    description="UMAP (umap-learn; seeded, single-threaded for reproducibility)",
)
