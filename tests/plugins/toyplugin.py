"""A toy plugin: clustering methods (one with a diagnostic figure and an assigner), an extractor,
a source with its own catalog and a reducer, added through the registries alone
(tests/test_plugins.py installs it as a ``galclust.plugins`` entry point)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from galclust.acquire.base import Source
from galclust.acquire.http import FetchResult
from galclust.acquire.sources import register as register_source
from galclust.extractors import ExtractorKind
from galclust.extractors import register as register_extractor
from galclust.ids import safe_id
from galclust.methods import ClusteringResult, Method
from galclust.methods import register as register_method
from galclust.methods.base import Diagnostic
from galclust.reducers import register as register_reducer
from galclust.reducers.base import Embedding, Reducer


# -- a method: cut the first feature into k equal-count groups --------------------------------
def fit(X, params, seed):  # noqa: ARG001
    order = np.argsort(X[:, 0], kind="stable")
    labels = np.empty(len(X), np.int64)
    labels[order] = np.arange(len(X)) * params["k"] // len(X)
    return ClusteringResult(labels, {"route": "exact"})


register_method(Method(
    "toythreshold", "k", "k", fit, lambda n, d, p: 8 * n, lambda p, n, d: "exact", needs_k=True,
    schema={"type": "object", "additionalProperties": False, "default": {},
            "properties": {"k": {"type": "array", "items": {"type": "integer", "minimum": 2}, "default": []}}},
))


# -- an extractor: mean brightness of the centre and of the whole image -----------------------
class Brightness:
    name = "toybright"

    def output_names(self):
        return ["toybright"]

    def transform(self, images):
        centre = images[:, 30:50, 30:50].mean(axis=(1, 2, 3))
        return {"toybright": np.column_stack([centre, images.mean(axis=(1, 2, 3))]).astype(np.float32)}

    def describe(self):
        return {"extractor": "toybright"}


register_extractor(ExtractorKind("toybright", builtin=True, build=lambda m, p, s, n: Brightness(),
                                 label=lambda m: "Toy", array=lambda fs: "toybright"))


# -- a source: a bright or a faint disk per catalog row ----------------------------------------
def fetch(rows, source, cache_root, settings, variant, on_result):  # noqa: ARG001
    folder = Path(cache_root) / "toysquares"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for row in rows:
        gid = safe_id(row["id"])
        yy, xx = np.mgrid[:96, :96]
        disk = ((yy - 48) ** 2 + (xx - 48) ** 2) < 15**2
        level = 230 if row["shape"] == "bright" else 90
        pixels = np.where(disk, level, 10).astype(np.uint8)
        path = folder / f"{gid}.png"
        Image.fromarray(np.stack([pixels] * 3, axis=-1)).save(path)
        res = FetchResult(gid, path, "ok", 0, "")
        on_result(res)
        out.append(res)
    return out


register_source(Source("toysquares", fetch, needs_coordinates=False,
                       schema={"type": "object", "default": {}, "properties": {}}))


# -- its own catalog: twenty galaxies, alternately bright and faint (no catalog file needed) ----
def toy_catalog(config):
    from astropy.table import Table

    from galclust.catalog import standardise

    n = int(config["source"]["toycatalog"].get("n_galaxies", 20))
    table = Table({"id": [f"t{i:02d}" for i in range(n)], "ra": np.zeros(n), "dec": np.zeros(n),
                   "r_e": np.ones(n), "shape": ["bright", "faint"] * (n // 2) + ["bright"] * (n % 2)})
    return standardise(table, {"id": "id", "ra": "ra", "dec": "dec", "size": "r_e"}, "toy catalog")


register_source(Source("toycatalog", fetch, needs_coordinates=False, catalog=toy_catalog,
                       schema={"type": "object", "default": {},
                               "properties": {"n_galaxies": {"type": "integer", "minimum": 2}}}))


# -- a method with a diagnostic (the BIC/AIC figure's slot) and its own assigner ---------------
def spread(X, params, seed):  # noqa: ARG001
    """What the diagnostic draws: the spread of the first feature (recorded in metrics.json)."""
    return {"toy_spread": float(np.ptp(X[:, 0]))}


def draw_spread(metrics, out, label):
    from galclust.plots._common import new_figure, save_figure

    fig = new_figure(4, 3)
    ax = fig.add_subplot()
    ax.plot([m["params"]["k"] for m in metrics], [m["toy_spread"] for m in metrics], "o-")
    ax.set_title(f"toy spread: {label}")
    save_figure(fig, out)


def nearest_neighbour_assigner(X, labels, params, outlier_quantile, seed, index):  # noqa: ARG001
    """New galaxies take the label of their single nearest reference galaxy."""
    from galclust.assign import KNNAssigner

    return KNNAssigner(1, outlier_quantile=outlier_quantile, seed=seed).fit(X, labels, index)


register_method(Method(
    "toyranks", "k", "k", fit, lambda n, d, p: 8 * n, lambda p, n, d: "exact", needs_k=True,
    diagnostics=(Diagnostic("information", draw_spread, "no toy spread"),), measure=spread,
    assigner=nearest_neighbour_assigner,
    schema={"type": "object", "additionalProperties": False, "default": {},
            "properties": {"k": {"type": "array", "items": {"type": "integer", "minimum": 2}, "default": []}}},
))


# -- a reducer: the first n_components columns, scaled to unit range --------------------------
def first_columns(X, params, seed, target):  # noqa: ARG001
    keep = np.asarray(X[:, : int(params.get("n_components", 1))], np.float32)
    scale = np.ptp(keep, axis=0)
    scale[scale == 0] = 1
    return Embedding(keep / scale, {"scale": scale}, {"route": "exact"})


register_reducer(Reducer(
    "toyfirst", "toyfirst", first_columns, lambda n, d, p: 8 * n * d,
    transform=lambda state, X, params: np.asarray(X[:, : len(state["scale"])], np.float32) / state["scale"],
    schema={"n_components": {"type": "integer", "minimum": 1}},
))
