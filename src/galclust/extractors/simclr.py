"""The reference network trained without labels (SimCLR, NT-Xent), model kind ``simclr``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import ExtractorKind, layer_array
from .cnn import build_keras


def train(images: np.ndarray, targets: np.ndarray | None, settings: Mapping[str, Any],  # noqa: ARG001
          seed: int, monitor_labels: dict[str, np.ndarray] | None = None,
          ) -> tuple[Any, dict[str, list[float]], dict[str, Any], str]:
    from ..ssl import train_simclr

    model, history = train_simclr(
        images, epochs=settings["epochs"], batch_size=settings["batch_size"],
        temperature=settings["temperature"], learning_rate=settings["learning_rate"],
        seed=seed, validation_fraction=settings["validation_fraction"], monitor_labels=monitor_labels,
        policy=settings.get("precision", "float32"),
    )
    metrics = {"target": None, "n_train": len(images),
               "final_loss": history["loss"][-1] if history.get("loss") else None,
               **{k: v[-1] for k, v in history.items() if k.startswith("knn_")}}
    return model, history, metrics, "contrastive (NT-Xent) training"


def build(model: Mapping[str, Any], model_path: str | None, seed: int, name: str) -> Any:
    """The trained network cut at its layers, its custom layers registered first."""
    from .. import ssl  # noqa: F401  (registers the custom layers before loading)

    return build_keras(model, model_path, seed, name)


KIND = ExtractorKind("simclr", builtin=False, build=build, label=lambda m: "SimCLR", array=layer_array,
                     train=train, monitors=True, uses_gpu=True, batch_sizes=(64, 512),
                     description="the reference network trained self-supervised")
