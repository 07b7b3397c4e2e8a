"""t-SNE maps (openTSNE) as a :class:`~galclust.reducers.base.Reducer` (``tSNE-2``).

Parameters (``features.<name>.reduce``): ``n_components`` (2), ``perplexity`` (30; the
reference study used 200), ``learning_rate`` ("auto" = max(200, n/12); the study used 50),
``n_iter`` (500, after 250 early-exaggeration iterations), ``negative_gradient_method``
("auto": the FFT-interpolation route above :data:`FFT_ABOVE` rows, Barnes-Hut below or for
more than 2 components, which FFT does not support). The route is recorded in
``info["route"]``. A perplexity above (n − 1)/3 is lowered to it (``info["perplexity"]``).

Determinism: ``random_state`` is the job's seed (PCA initialisation, Annoy neighbour index)
and ``n_jobs`` is fixed to 1, because threaded gradient sums add in a varying order: the
same seed gives the same bytes.

New rows: openTSNE places them through the fitted affinity object, which holds the
neighbour index (an Annoy file or a scikit-learn tree), not portable arrays, so
``transform`` is None: the workflow places new galaxies by k-NN in the input space.

Memory: the input (n·d·4) and openTSNE's float64 copy (n·d·8), the neighbour index (≈ n·d·4
for Annoy), the sparse symmetric affinities (≤ 2·n·3·perplexity entries of 12 bytes, for the
neighbour search ~ 2 more arrays of n·3·perplexity), a handful of n × n_components float64
buffers, and the FFT grid (a few MB; bounded by ``min_num_intervals``). Never n × n.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..arrays import as_rows
from ..errors import ConfigError
from ..params import float_param, int_param, key_of
from .base import Embedding, Reducer, label

#: Above this many rows the FFT-accelerated gradient (O(n)) is used, Barnes-Hut (O(n log n)) below.
FFT_ABOVE = 10_000
#: iterations between two progress checks (a line at most every 30 s)
_EVERY = 50
#: openTSNE's fixed-cost FFT grid and interpolation buffers, generously.
_FFT_GRID_BYTES = 64 * 2**20
#: metrics whose approximate neighbour index openTSNE builds with Annoy on dense input whether or
#: not pynndescent is installed (openTSNE.affinity.get_knn_index)
_ANNOY_METRICS = frozenset({"cosine", "euclidean", "manhattan", "hamming", "dot", "l1", "l2", "taxicab"})


@contextmanager
def _without_pynndescent_probe(metric: str) -> Iterator[None]:
    """openTSNE imports pynndescent (numba: about 0.7 CPU-s) on every fit only to ask whether it is
    installed; for these metrics the answer changes nothing, so during the fit a ``None`` entry in
    ``sys.modules`` answers "not installed" without the import, and goes afterwards (UMAP, in the
    same process, still imports pynndescent)."""
    if metric not in _ANNOY_METRICS or "pynndescent" in sys.modules:
        yield
        return
    sys.modules["pynndescent"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if "pynndescent" in sys.modules and sys.modules["pynndescent"] is None:
            del sys.modules["pynndescent"]


def _learning_rate(params: Mapping[str, Any]) -> float | str:
    value = params.get("learning_rate", "auto")
    if value == "auto":
        return "auto"
    return float_param(params, "learning_rate", 200.0, minimum=1e-12)


def route(params: Mapping[str, Any], n: int, d: int) -> str:
    """``fft`` or ``bh``: the gradient method fit_transform takes for n rows."""
    wanted = params.get("negative_gradient_method", "auto")
    if wanted not in ("auto", "fft", "bh"):
        raise ConfigError(f"config key '{key_of(params)}.negative_gradient_method': expected auto, fft or bh, got {wanted!r}")
    k = int(params.get("n_components", 2))
    if wanted == "fft" and k > 2:
        raise ConfigError(f"config key '{key_of(params)}.negative_gradient_method': fft supports at most 2 components, got {k}")
    if wanted != "auto":
        return str(wanted)
    return "fft" if n > FFT_ABOVE and k <= 2 else "bh"


def fit_transform(X: np.ndarray, params: Mapping[str, Any], seed: int, target: np.ndarray | None = None) -> Embedding:
    """Embed the rows of X with t-SNE, seeded by ``seed`` alone; ``target`` is unused."""
    from openTSNE import TSNE  # noqa: PLC0415  (heavy import, only for this reducer)

    X = as_rows(X, "t-SNE")
    n = len(X)
    if n < 4:
        raise ValueError(f"t-SNE needs at least 4 galaxies, got {n}")
    k = int_param(params, "n_components", 2)
    perplexity = float_param(params, "perplexity", 30.0, minimum=1e-12)
    n_iter = int_param(params, "n_iter", 500)
    lr = _learning_rate(params)
    effective = min(perplexity, (n - 1) / 3)
    chosen = route(params, n, X.shape[1])
    from ..progress import ProgressLog

    # 250 early-exaggeration iterations, then n_iter; openTSNE's callback changes no byte
    progress = ProgressLog("t-SNE", 250 + n_iter, unit="iterations")

    def report(iteration: int, error: float, embedding: Any) -> bool:
        progress.advance(_EVERY)
        return False  # never stop early

    metric = str(params.get("metric", "euclidean"))
    tsne = TSNE(
        n_components=k,
        perplexity=effective,
        learning_rate=lr,
        n_iter=n_iter,
        negative_gradient_method=chosen,
        initialization="pca",
        metric=metric,
        n_jobs=1,  # fixed: threaded sums are not bitwise reproducible
        random_state=int(seed),
        verbose=False,
        callbacks=report,
        callbacks_every_iters=_EVERY,
    )
    with _without_pynndescent_probe(metric):
        embedding = tsne.fit(np.ascontiguousarray(X, dtype=np.float64))
    progress.done = progress.total  # the checks fall every 50: an n_iter off the grid ends short
    progress.finish()
    values = np.asarray(embedding, dtype=np.float32)
    info = {
        "route": chosen,
        "label": label("tSNE", k),
        "n_components": k,
        "perplexity": float(effective),
        "perplexity_requested": perplexity,
        "learning_rate": lr if lr == "auto" else float(lr),
        "n_iter": n_iter,
        "kl_divergence": float(getattr(embedding, "kl_divergence", float("nan"))),
        "transform": "none: new rows are placed by k-NN in the input space",
    }
    return Embedding(values=values, state={}, info=info)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Predicted peak bytes of :func:`fit_transform` on an n × d float32 array."""
    k = int(params.get("n_components", 2))
    neighbours = int(3 * min(float(params.get("perplexity", 30.0)), max(n - 1, 1) / 3))
    affinities = 2 * n * neighbours * 12 + 2 * n * neighbours * 8
    buffers = 8 * n * k * 8
    grid = _FFT_GRID_BYTES if route(params, n, d) == "fft" else 0
    return int(4 * n * d + 8 * n * d + 4 * n * d + affinities + buffers + grid)


REDUCER = Reducer(
    name="tsne",
    label="tSNE",
    fit_transform=fit_transform,
    memory_bytes=memory_bytes,
    transform=None,
    supervised=False,
    map_keys=("perplexity",),
    description="t-SNE (openTSNE; FFT above 10k rows, Barnes-Hut below; single-threaded for reproducibility)",
)
