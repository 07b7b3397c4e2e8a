"""Keras applications (ResNet50, VGG16, EfficientNet...), model kind ``backbone``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


KIND = ExtractorKind("backbone", builtin=False, build=build, label=label, array=layer_array,
                     model_files=model_files, uses_gpu=True,
                     description="a keras.applications network with ImageNet, random or local weights")
