"""What a reducer (PCA, t-SNE, UMAP, LDA ...) is to the workflow: one :class:`Reducer` entry.

A reducer module (``galclust/reducers/<name>.py``) defines ``fit_transform`` (and
``transform`` where the method can place new rows without refitting) and one
``REDUCER = Reducer(...)``; ``galclust/reducers/__init__.py`` lists the modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Embedding:
    """Reduced rows plus the portable state needed to place new rows later.

    ``state`` holds numpy arrays only (saved as ``.npy`` / Zarr, never pickled);
    ``info`` is JSON-able (route taken, parameters resolved, explained variance ...).
    """

    values: np.ndarray
    state: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reducer:
    """A reduction as the workflow sees it.

    - ``fit_transform(X, params, seed, target)``: reduce the rows of X; ``target`` is the
      catalog column a supervised reducer (LDA) names in ``params['target']``, else None.
    - ``transform(state, X, params)``: place new rows with a fitted state, or None when the
      method cannot (then new galaxies are placed by k-NN in the input space).
    - ``memory_bytes(n, d, params)``: predicted peak bytes.
    - ``supervised``: needs a catalog class column (``reduce.target``).
    - ``combines``: puts several feature sets side by side (``from`` a list); no reduction,
      its width is the sum of theirs.
    - ``map_keys``: it can draw a feature set's 2-D map (``report.maps.method``), reading these
      keys of ``report.maps``; None when it cannot.
    - ``schema``: JSON-schema properties of ``features.<fs>.reduce`` a plugin's reducer reads
      (merged by :func:`galclust.config.load_schema`; the built-ins' are in config.schema.yaml).
    """

    name: str
    label: str
    fit_transform: Callable[[np.ndarray, Mapping[str, Any], int, np.ndarray | None], Embedding]
    memory_bytes: Callable[[int, int, Mapping[str, Any]], int]
    transform: Callable[[Mapping[str, np.ndarray], np.ndarray, Mapping[str, Any]], np.ndarray] | None = None
    supervised: bool = False
    combines: bool = False
    map_keys: tuple[str, ...] | None = None
    schema: Mapping[str, Any] | None = None
    description: str = ""


def label(prefix: str, n_components: int) -> str:
    """The study-style label of a reduction: ``tSNE-2``, ``LDA-7``."""
    return f"{prefix}-{n_components}"
