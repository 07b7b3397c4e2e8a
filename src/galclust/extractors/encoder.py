"""The compact galaxy encoder trained on catalog labels (model kind ``encoder``, :mod:`galclust.encoder`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..supervised import target_label, training_metrics
from .base import ExtractorKind, layer_array
from .cnn import build_keras


def train(images: np.ndarray, targets: np.ndarray | None, settings: Mapping[str, Any],
          seed: int) -> tuple[Any, dict[str, list[float]], dict[str, Any], str]:
    """Train the encoder on the catalog target (``settings['task']`` resolved by the stage)."""
    from ..encoder import train_encoder

    if targets is None:
        raise ValueError("the encoder learns catalog columns: no targets given")
    task = str(settings["task"])
    model, result = train_encoder(
        images, targets, task, epochs=settings["epochs"], batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], validation_fraction=settings["validation_fraction"],
        test_fraction=settings["test_fraction"], augment=settings["augment"],
        augmentations=settings.get("augmentations"), seed=seed, policy=settings.get("precision", "float32"),
        # the architecture keys only when given: train_encoder holds their defaults
        **({"widths": tuple(settings["widths"])} if settings.get("widths") else {}),
        **({"embedding": int(settings["embedding"])} if settings.get("embedding") else {}),
    )
    metrics = training_metrics(settings, task, result)
    return model, result.history, metrics, f"{task} of {target_label(settings)}"


KIND = ExtractorKind("encoder", builtin=False, build=build_keras, label=lambda m: "Encoder", array=layer_array,
                     train=train, needs_target=True, uses_gpu=True,
                     # ReLU embedding columns differ in scale: z-scored before clustering by default
                     standardise=True,
                     description="a compact CNN trained on catalog classes or vote fractions; its embedding "
                                 "carries to other folders (ship it with its model card)")
