"""Rule ``train_model``: train a network the workflow owns (its kind's ``train``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from astropy.table import Table

from ..errors import ConfigError
from ..precision import training_route
from ..store import read_array, read_ids
from ..supervised import catalog_targets, resolve_task, target_columns, usable
from ..tables import read_table, write_table
from .common import PathLike, provenance, write_json

log = logging.getLogger(__name__)


def training_images(image_stores: Sequence[PathLike], max_galaxies: int,
                    targets: Mapping[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The first ``max_galaxies`` galaxies (with a usable target, when targets are given), in
    catalog order, their targets (floats, float rows, or class names) and their ids."""
    ids = np.concatenate([read_ids(p) for p in image_stores]) if image_stores else np.array([], str)
    if targets is None:
        rows = np.arange(min(len(ids), max_galaxies))
        y = None
    else:
        rows = np.array([i for i, g in enumerate(ids) if usable(targets.get(g))], dtype=np.int64)[:max_galaxies]
        values = [targets[ids[i]] for i in rows]
        y = np.array(values, dtype=str) if values and isinstance(values[0], str) else np.asarray(values, np.float32)
    images = np.concatenate([read_array(p, "images") for p in image_stores])[rows]
    return images, y, ids[rows]


def selected_rows(catalog: Table, where: Mapping[str, Any] | None, key: str) -> np.ndarray:
    """Boolean mask of the catalog rows ``train.where`` keeps (all rows without it)."""
    keep = np.ones(len(catalog), dtype=bool)
    for column, wanted in (where or {}).items():
        if column not in catalog.colnames:
            raise ConfigError(f"config key '{key}.where.{column}': the catalog has no column '{column}' "
                              f"(columns: {', '.join(catalog.colnames)})")
        values = [wanted] if not isinstance(wanted, list) else wanted
        keep &= np.isin(np.asarray(catalog[column]).astype(str), [str(v) for v in values])
    if where and not keep.any():
        raise ConfigError(f"config key '{key}.where': no catalog row matches {dict(where)}")
    return keep


def train_model(model_name: str, kind: str, settings: dict[str, Any], seed: int,
                image_stores: Sequence[PathLike], catalog_path: PathLike | None, model_out: PathLike,
                history_out: PathLike, loss_plot: PathLike, metrics_out: PathLike,
                monitor: Sequence[str] = (), card_out: PathLike | None = None,
                preprocess: Mapping[str, Any] | None = None, layers: Mapping[str, str] | None = None,
                credits: str | None = None) -> None:
    """Train model ``model_name`` of ``kind`` with its ``train`` settings; save it with its loss
    history, loss plot, scores and model card (``card_out``: what the run's ``preprocess`` gave
    it, so other runs can use it by path). ``monitor``: truth columns a self-supervised trainer
    scores its features against after each epoch (k-NN accuracy in the history)."""
    from ..cnn import save_model
    from ..extractors import EXTRACTORS
    from ..plots import loss_history

    from ..tfthreads import pin_threads

    # first, before any TensorFlow operation: the weights depend on the pools' size
    pin_threads(int(settings.get("threads", 2)))
    trainer = EXTRACTORS[kind]
    if trainer.train is None:
        raise ConfigError(f"config key 'models.{model_name}.kind': {kind} models are not trained here")
    targets = None
    settings = dict(settings)
    if trainer.needs_target:
        key = f"models.{model_name}.train"
        if catalog_path is None:
            raise ConfigError(f"config key '{key}.target': no catalog to read it from")
        catalog = read_table(catalog_path)
        settings["task"] = resolve_task(settings, catalog, key)
        targets = catalog_targets(catalog, target_columns(settings), settings["task"], key)
        keep = selected_rows(catalog, settings.get("where"), key)
        for gid in np.asarray(catalog["id"], dtype=str)[~keep]:
            targets[gid] = None  # outside train.where: never trained on
    elif settings.get("where"):
        raise ConfigError(f"config key 'models.{model_name}.train.where': {kind} models learn no catalog column")
    images, y, ids = training_images(image_stores, settings["max_galaxies"], targets)
    # the route: mixed precision and the larger `auto` batch only where a GPU is visible
    policy, batch_size = training_route(bool(settings.get("mixed_precision", False)), settings["batch_size"],
                                        trainer.batch_sizes)
    settings.update(precision=policy, batch_size=batch_size)
    log.info("training %s (%s) on %d galaxies in %s, batches of %d", model_name, kind, len(images), policy,
             batch_size)
    if trainer.monitors and monitor and catalog_path is not None:
        # truth columns, never trained on: the trainer logs its features' k-NN accuracy per epoch
        truth = read_table(catalog_path)
        row_of = {g: i for i, g in enumerate(np.asarray(truth["id"], dtype=str))}
        rows = np.array([row_of[g] for g in ids], dtype=np.int64)
        labels = {c: np.asarray(truth[c][rows]) for c in monitor}
        model, history, metrics, title = trainer.train(images, y, settings, seed, monitor_labels=labels)
    else:
        model, history, metrics, title = trainer.train(images, y, settings, seed)
    save_model(model, model_out)
    epochs = len(next(iter(history.values()), []))
    write_table(Table({"epoch": np.arange(1, epochs + 1), **{k: np.asarray(v) for k, v in history.items()}}),
                history_out)
    loss_history(history, loss_plot, title=f"{model_name}: {title}")
    write_json(metrics_out, {"model": model_name, "kind": kind, **metrics,
                             "precision": policy, "batch_size": batch_size,
                             **provenance({"kind": kind, "train": settings, "seed": seed})})
    if card_out is not None:
        from ..modelcard import build_card

        card = build_card(model_name=model_name, kind=kind, model_path=model_out, input_size=int(images.shape[1]),
                          preprocess=preprocess or {"size": int(images.shape[1])}, task=settings.get("task"),
                          target=settings.get("target"), classes=metrics.get("classes"), layers=layers or {},
                          training_ids=ids.tolist(), training_targets=y if y is not None else ids.tolist(),
                          seed=seed, epochs=epochs, metrics=metrics, settings=settings,
                          credits=credits)
        write_json(card_out, card)
