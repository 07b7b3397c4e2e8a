"""What a clustering method is to the workflow: one :class:`Method` entry per method.

A method module (``galclust/methods/<name>.py``) defines ``fit`` and ``memory_bytes`` and
one ``METHOD = Method(...)``; ``galclust/methods/__init__.py`` lists the modules. The
schema's enum, the job names, the Snakemake ``mem_mb`` and the scalable-route switch all
read the entry, never an if-chain on the method's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NOISE = -1

#: params, n_rows, n_features -> the route a job takes ("exact", "microclusters", ...)
RouteChooser = Callable[[Mapping[str, Any], int, int], str]
#: (the metrics.json of this method's jobs on one feature set, the figure's path, the feature set's
#: label) -> the figure drawn
Drawer = Callable[[list[dict[str, Any]], str, str], None]
#: (rows, the job's params, seed) -> further numbers for metrics.json (what a diagnostic draws)
Measure = Callable[[np.ndarray, Mapping[str, Any], int], dict[str, Any]]
#: (rows, the job's settings, seed) -> (ward linkage, row -> leaf) of a tree drawn over
#: weighted units instead of the rows (its scalable route), or None for the exact tree
TreeUnits = Callable[[np.ndarray, Mapping[str, Any], int], "tuple[np.ndarray, np.ndarray] | None"]
#: (reference rows, their labels, the job's params, outlier quantile, seed, a NeighbourIndex
#: fitted on the rows or None) -> a fitted assigner (:mod:`galclust.assign`)
AssignerMaker = Callable[[np.ndarray, np.ndarray, Mapping[str, Any], float, int, Any], Any]


@dataclass(frozen=True)
class Diagnostic:
    """A figure that helps choose a method's setting, drawn per feature set from its jobs' metrics.

    ``figure`` is which of rule ``elbow_eigengap``'s outputs it draws (``elbow``, ``eigengap``,
    ``information``): the first method in the registry with jobs there draws it; ``missing`` is
    the placeholder's text when none has.
    """

    figure: str
    draw: Drawer
    missing: str


@dataclass
class ClusteringResult:
    """Labels (int64, ``NOISE`` for noise) and what else the fit tells.

    ``info`` is JSON-able and lands in ``metrics.json`` (``route`` always; ``inertia``,
    ``n_iter``, ``converged``, ``bic`` ... where defined). ``centres`` are cluster centres in
    the clustered space where the method has them (k-means, GMM means, BIRCH subclusters);
    ``arrays`` are further portable arrays a later assignment needs (saved as ``.npy``).
    """

    labels: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    centres: np.ndarray | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    """A clustering method as the workflow sees it.

    - ``setting``: the config key under ``clustering.<name>`` whose list of values makes one
      job per value (``k`` for k-means); ``tag`` names it in the job (``kmeans-k10``).
    - ``fit(X, params, seed)``: cluster the rows of X with the job's params (the setting's
      value and the method's shared keys); seeded by ``seed`` alone.
    - ``memory_bytes(n, d, params)``: predicted peak bytes of ``fit`` on an n × d float32
      array, for the route it will take (the Snakemake ``mem_mb``).
    - ``route(params, n, d)``: which route ``fit`` takes for that size.
    - ``needs_k``: the setting is a number of clusters (needs n ≥ k rows).
    - ``at_most_n``: the setting may not exceed the galaxies (a count, as ``min_cluster_size``).
    - ``diagnostics``: figures drawn from its jobs' metrics (elbow, eigengap, BIC/AIC), and
      ``measure``: numbers its cluster jobs add to metrics.json for them.
    - ``dendrogram``: it draws a tree (rule ``dendrogram``); a callable gives the units of the
      tree on a scalable route.
    - ``assigner``: how new galaxies are placed into its clusters (None: the nearest centre
      when the fit has centres, else a k-NN vote; see :func:`galclust.assign.assigner_for`).
    - ``name`` matches ``[a-z_]+`` and ``tag`` ``[a-z]+``: both go into job names.
    """

    name: str
    setting: str
    tag: str
    fit: Callable[[np.ndarray, Mapping[str, Any], int], ClusteringResult]
    memory_bytes: Callable[[int, int, Mapping[str, Any]], int]
    route: RouteChooser
    needs_k: bool = False
    at_most_n: bool = False
    diagnostics: tuple[Diagnostic, ...] = ()
    measure: Measure | None = None
    dendrogram: TreeUnits | None = None
    assigner: AssignerMaker | None = None
    #: the JSON-schema block of ``clustering.<name>`` for a plugin's method (built-in methods'
    #: blocks are in config.schema.yaml)
    schema: Mapping[str, Any] | None = None
    description: str = ""
