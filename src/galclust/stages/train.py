"""Rule ``train_model``: train a network the workflow owns (its kind's ``train``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from astropy.table import Table

from ..errors import ConfigError
from ..store import read_array, read_ids
from ..tables import read_table, write_table
from .common import PathLike, provenance, write_json

log = logging.getLogger(__name__)


def training_images(image_stores: Sequence[PathLike], max_galaxies: int,
                    targets: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The first ``max_galaxies`` galaxies (with a finite target, when targets are given), in
    catalog order."""
    ids = np.concatenate([read_ids(p) for p in image_stores]) if image_stores else np.array([], str)
    if targets is None:
        usable = np.arange(min(len(ids), max_galaxies))
        y = None
    else:
        values = np.array([targets.get(g, np.nan) for g in ids])
        usable = np.flatnonzero(np.isfinite(values))[:max_galaxies]
        y = values[usable].astype(np.float32)
    images = np.concatenate([read_array(p, "images") for p in image_stores])[usable]
    return images, y


def catalog_targets(catalog_path: PathLike, column: str, key: str) -> dict[str, float]:
    """id -> value of a catalog column; a missing column names the config key."""
    catalog = read_table(catalog_path)
    if column not in catalog.colnames:
        raise ConfigError(f"config key '{key}': the catalog has no column '{column}' "
                          f"(columns: {', '.join(catalog.colnames)})")
    return dict(zip(np.asarray(catalog["id"], dtype=str), np.asarray(catalog[column], dtype=float)))


def train_model(model_name: str, kind: str, settings: dict[str, Any], seed: int,
                image_stores: Sequence[PathLike], catalog_path: PathLike | None, model_out: PathLike,
                history_out: PathLike, loss_plot: PathLike, metrics_out: PathLike) -> None:
    """Train model ``model_name`` of ``kind`` with its ``train`` settings; save it with its loss
    history, loss plot and scores."""
    from ..cnn import save_model
    from ..extractors import EXTRACTORS
    from ..plots import loss_history

    trainer = EXTRACTORS[kind]
    if trainer.train is None:
        raise ConfigError(f"config key 'models.{model_name}.kind': {kind} models are not trained here")
    targets = None
    if trainer.needs_target:
        if catalog_path is None:
            raise ConfigError(f"config key 'models.{model_name}.train.target': no catalog to read it from")
        targets = catalog_targets(catalog_path, settings["target"], f"models.{model_name}.train.target")
    images, y = training_images(image_stores, settings["max_galaxies"], targets)
    log.info("training %s (%s) on %d galaxies", model_name, kind, len(images))
    model, history, metrics, title = trainer.train(images, y, settings, seed)
    save_model(model, model_out)
    epochs = len(next(iter(history.values()), []))
    write_table(Table({"epoch": np.arange(1, epochs + 1), **{k: np.asarray(v) for k, v in history.items()}}),
                history_out)
    loss_history(history, loss_plot, title=f"{model_name}: {title}")
    write_json(metrics_out, {"model": model_name, "kind": kind, **metrics,
                             **provenance({"kind": kind, "train": settings, "seed": seed})})
