"""Model cards: what a saved network needs to be used anywhere, as JSON beside its ``.keras`` file.

A trained model ``…/model.keras`` gets ``…/model.card.json``: the input size and the
preprocessing its training images had, the classes or targets it learnt, the training set
(size and SHA-256 of its ids and targets), seed, epochs, test scores, the galclust version and
the SHA-256 of the ``.keras`` file. A run that uses the model by ``path`` checks the file
against the card's hash and its own preprocessing against the card's (or takes the card's:
``preprocess.from_model``) before any job.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError

CARD_SUFFIX = ".card.json"
#: preprocessing keys that change what a network sees (the rest only affect speed or logging)
PREPROCESS_KEYS = ("size",)
NORMALISE_KEYS = ("mode", "radius_multiple", "mask_stars", "detect_sigma", "npixels", "deblend")


def card_path(model_path: str | os.PathLike[str]) -> Path:
    """``model.keras`` -> ``model.card.json`` (same folder)."""
    path = Path(model_path)
    stem = path.name[: -len(".keras")] if path.name.endswith(".keras") else path.stem
    return path.with_name(stem + CARD_SUFFIX)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, as the run manifest records it."""
    from .provenance import file_digest

    return str(file_digest(path)["sha256"])


def training_set_digest(ids: Sequence[str], targets: np.ndarray | Sequence[Any]) -> str:
    """SHA-256 of the training galaxies' ids and targets, in order (independent of the images' bytes)."""
    digest = hashlib.sha256()
    for gid, value in zip(ids, targets):
        text = value if isinstance(value, str) else json.dumps(np.asarray(value, dtype=float).round(6).tolist())
        digest.update(f"{gid}\t{text}\n".encode())
    return digest.hexdigest()


def preprocess_of(preprocess: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a run's ``preprocess`` block a network's inputs depend on."""
    normalise = preprocess.get("normalise") or {}
    return {**{k: preprocess[k] for k in PREPROCESS_KEYS if k in preprocess},
            "normalise": {k: normalise[k] for k in NORMALISE_KEYS if k in normalise}}


def read_card(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A card as a dict; an unreadable or foreign JSON file is an error naming it."""
    try:
        card = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable model card ({exc})") from None
    if not isinstance(card, dict) or card.get("format") != "galclust-model-card" or "preprocess" not in card:
        raise ConfigError(f"{path}: not a galclust model card (no 'format: galclust-model-card' and 'preprocess')")
    return card


def card_for(model_path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The card beside a model file, or None when it has none."""
    path = card_path(model_path)
    return read_card(path) if path.exists() else None


def check_model_file(model_path: str | os.PathLike[str], card: Mapping[str, Any], key: str) -> None:
    """The model file exists and is the one its card describes (SHA-256)."""
    if not Path(model_path).is_file():
        raise ConfigError(f"config key '{key}': {model_path} does not exist")
    expected = card.get("sha256")
    if expected and file_sha256(model_path) != expected:
        raise ConfigError(f"config key '{key}': {model_path} does not match its card {card_path(model_path)} "
                          f"(SHA-256 differs): the file is corrupt or another model's")


def keras_layer_names(model_path: str | os.PathLike[str]) -> list[str]:
    """The top-level layer names of a ``.keras`` file, read from its ``config.json`` (zip, JSON: no
    TensorFlow, nothing executed), so a config naming a missing layer stops before any job. A file
    that is no Keras archive is an error naming it."""
    import zipfile

    try:
        with zipfile.ZipFile(model_path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"{model_path}: not a Keras .keras archive ({type(exc).__name__}: {exc})") from None
    layers = (config.get("config") or {}).get("layers") or []
    return [str((layer.get("config") or {}).get("name", layer.get("name", ""))) for layer in layers]


def _flat(block: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in block.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def preprocess_conflicts(card: Mapping[str, Any], preprocess: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key under ``preprocess``, the run's value, the card's) for every setting that differs."""
    ours, theirs = _flat(preprocess_of(preprocess)), _flat(card["preprocess"])
    return [(k, ours.get(k), v) for k, v in sorted(theirs.items()) if k in ours and ours[k] != v]


def apply_card_preprocess(preprocess: dict[str, Any], card: Mapping[str, Any]) -> dict[str, Any]:
    """The run's ``preprocess`` block with the card's settings in place (``preprocess.from_model``)."""
    out = dict(preprocess)
    wanted = card["preprocess"]
    out.update({k: wanted[k] for k in PREPROCESS_KEYS if k in wanted})
    out["normalise"] = {**(preprocess.get("normalise") or {}), **wanted.get("normalise", {})}
    return out


def build_card(*, model_name: str, kind: str, model_path: str | os.PathLike[str], input_size: int,
               preprocess: Mapping[str, Any], task: str | None, target: Any, classes: Sequence[str] | None,
               layers: Mapping[str, str], training_ids: Sequence[str], training_targets: Any, seed: int,
               epochs: int, metrics: Mapping[str, Any], settings: Mapping[str, Any],
               credits: str | None = None) -> dict[str, Any]:
    """The card of a model just saved at ``model_path``."""
    from . import __version__

    scores = {k: v for k, v in metrics.items() if k.startswith("test_") or k in ("n_train", "n_validation", "n_test")}
    return {
        "format": "galclust-model-card",
        "name": model_name,
        "kind": kind,
        "sha256": file_sha256(model_path),
        "galclust_version": __version__,
        "input": {"size": int(input_size), "channels": 3, "scaling": "unit",
                  "description": "RGB in [0, 1] after galclust's preprocessing (below)"},
        "preprocess": preprocess_of(preprocess),
        "task": task,
        "target": target,
        "classes": list(classes) if classes is not None else None,
        "layers": dict(layers),
        "training_set": {"n": len(training_ids), "sha256": training_set_digest(training_ids, training_targets),
                         "where": settings.get("where")},
        "seed": int(seed),
        "epochs": int(epochs),
        "train": {k: v for k, v in settings.items() if k not in ("where",)},
        "test_metrics": scores,
        "credits": credits,
    }
