"""A toy plugin: one clustering method, one extractor and one source, added through the
registries alone (tests/test_plugins.py installs it as a ``galclust.plugins`` entry point)."""

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
