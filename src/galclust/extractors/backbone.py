"""Keras applications (ResNet50, VGG16, EfficientNet...), model kind ``backbone``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..supervised import target_label, training_metrics
from .base import ExtractorKind, layer_array


def build(model: Mapping[str, Any], model_path: str | None, seed: int, name: str) -> Any:
    from ..backbones import BackboneExtractor

    weights = str(model_path) if model_path else model.get("weights", "imagenet")
    return BackboneExtractor(model["backbone"], weights, dict(model["layers"]),
                             input_size=model.get("input_size"), batch_size=model["batch_size"],
                             seed=seed, label=name)


def label(model: Mapping[str, Any]) -> str:
    """The application's own name: ResNet50, VGG16, EfficientNetB0..."""
    from ..backbones import BACKBONES

    return BACKBONES[model["backbone"]].application


def model_files(model: Mapping[str, Any]) -> list[str]:
    """A local weights file, when ``weights`` names one (imagenet and random need none)."""
    weights = model.get("weights", "imagenet")
    return [] if weights in ("imagenet", "random") else [str(weights)]


def train(images: np.ndarray, targets: np.ndarray | None, settings: Mapping[str, Any],
          seed: int) -> tuple[Any, dict[str, list[float]], dict[str, Any], str]:
    """Fine-tune the backbone (``fine_tune: true``) on the catalog target; ``settings`` holds the
    ``train`` block and the architecture keys (``train_keys``)."""
    from ..backbones import fine_tune_backbone

    if targets is None:
        raise ValueError("fine-tuning learns a catalog column: no targets given")
    task = str(settings["task"])
    model, result = fine_tune_backbone(
        settings["backbone"], settings.get("weights", "imagenet"), images, targets, task,
        input_size=settings.get("input_size"), epochs=settings["epochs"], batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], validation_fraction=settings["validation_fraction"],
        test_fraction=settings["test_fraction"], augment=settings["augment"], seed=seed,
        policy=settings.get("precision", "float32"),
    )
    title = f"fine-tuning on {task} of {target_label(settings)}"
    return model, result.history, training_metrics(settings, task, result), title


def check(model: Mapping[str, Any], key: str) -> None:
    from ..errors import ConfigError

    if "backbone" not in model:
        raise ConfigError(f"config key '{key}.backbone': required for kind 'backbone'")


KIND = ExtractorKind("backbone", builtin=False, build=build, label=label, array=layer_array, check=check,
                     model_files=model_files, train=train, trains=lambda model: bool(model.get("fine_tune")),
                     train_keys=("backbone", "weights", "input_size"), needs_target=True, uses_gpu=True,
                     description="a keras.applications network with ImageNet, random or local weights, "
                                 "optionally fine-tuned on catalog labels")
