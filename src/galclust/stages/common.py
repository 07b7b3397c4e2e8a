"""Small helpers the stages share: JSON output, provenance, placeholder figures, label tables."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import __version__
from ..atomic import write_text_atomic
from ..config import config_hash
from ..errors import GalclustError
from ..store import open_store, read_ids
from ..tables import read_table

PathLike = str | os.PathLike[str]


def write_json(path: PathLike, obj: Any) -> None:
    """Strict JSON (NaN, which JSON lacks, becomes null), atomically."""
    text = json.dumps(_finite(obj), indent=2, sort_keys=True, default=_json_default, allow_nan=False)
    write_text_atomic(path, text + "\n")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def provenance(settings: Any) -> dict[str, Any]:
    """What made an output: a hash of the settings the stage used, and galclust's version."""
    return {"config_hash": config_hash(settings), "galclust_version": __version__}


def placeholder_figure(path: PathLike, text: str) -> None:
    """A small figure that says why there is nothing to show (the output still exists)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots import save_figure

    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center")
    save_figure(fig, path)


def read_labels(path: PathLike) -> tuple[np.ndarray, np.ndarray]:
    table = read_table(path)
    return np.asarray(table["id"], dtype=str), np.asarray(table["label"])


def images_for(image_stores: Sequence[PathLike], ids: np.ndarray) -> np.ndarray:
    """Images of ``ids`` (in that order) gathered from the batch image stores."""
    wanted = {g: i for i, g in enumerate(ids)}
    out: np.ndarray | None = None
    for store in image_stores:
        store_ids, images = read_ids(store), open_store(store)["images"]
        if out is None:
            out = np.zeros((len(ids), *images.shape[1:]), np.float32)
        rows = [(j, wanted[g]) for j, g in enumerate(store_ids) if g in wanted]
        if rows:
            src, dst = zip(*rows)
            out[list(dst)] = np.asarray(images.get_orthogonal_selection((list(src),)))
    if out is None:
        raise GalclustError("no image store given")
    return out
