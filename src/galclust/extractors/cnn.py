"""The reference study's CNN, trained on a catalog column (model kind ``cnn``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..supervised import target_label, training_metrics
from .base import ExtractorKind, layer_array


def build_keras(model: Mapping[str, Any], model_path: str | None, seed: int, name: str) -> Any:  # noqa: ARG001
    """A trained or given ``.keras`` network cut at its configured layers."""
    from ..cnn import load_model
    from ..extract import KerasExtractor

    return KerasExtractor(load_model(model_path), dict(model["layers"]), name=name,  # type: ignore[arg-type]
                          batch_size=model["batch_size"])


def train(images: np.ndarray, targets: np.ndarray | None, settings: Mapping[str, Any],
          seed: int) -> tuple[Any, dict[str, list[float]], dict[str, Any], str]:
    """Train the reference CNN on the catalog target (``settings['task']`` resolved by the stage)."""
    from ..cnn import train_reference_cnn

    if targets is None:
        raise ValueError("the reference CNN learns a catalog column: no targets given")
    task = str(settings.get("task", "regression"))
    model, result = train_reference_cnn(
        images, targets, epochs=settings["epochs"], batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], validation_fraction=settings["validation_fraction"],
        test_fraction=settings["test_fraction"], augment=settings["augment"], task=task, seed=seed,
        policy=settings.get("precision", "float32"),
    )
    return model, result.history, training_metrics(settings, task, result), f"{task} of {target_label(settings)}"


KIND = ExtractorKind("cnn", builtin=False, build=build_keras, label=lambda m: "CNN", array=layer_array,
                     train=train, needs_target=True, uses_gpu=True,
                     description="the reference study's CNN trained on catalog columns (regression or classes)")
