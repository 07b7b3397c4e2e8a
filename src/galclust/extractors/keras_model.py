"""A user's own saved Keras network as a feature extractor (model kind ``keras``).

Cut at any named layers; ``input_size`` and ``input_scaling`` say what it expects (galclust's
images are RGB in [0, 1]: ``unit``; ``symmetric`` is [-1, 1], ``byte`` [0, 255]). Loaded with
Keras ``safe_mode``: no pickle, no custom Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import ExtractorKind, layer_array


def build(model: Mapping[str, Any], model_path: str | None, seed: int, name: str) -> Any:  # noqa: ARG001
    from ..cnn import load_model
    from ..extract import KerasExtractor

    if not model_path:
        from ..errors import ConfigError

        raise ConfigError(f"config key 'models.{name}.path': a keras model needs the path of its .keras file")
    return KerasExtractor(load_model(model_path), dict(model["layers"]), name=name, batch_size=model["batch_size"],
                          input_scaling=model.get("input_scaling") or "unit", input_size=model.get("input_size"))


def check(model: Mapping[str, Any], key: str) -> None:
    from ..errors import ConfigError

    if not model.get("path"):
        raise ConfigError(f"config key '{key}.path': required for kind 'keras' (your .keras file)")


KIND = ExtractorKind("keras", builtin=False, build=build, label=lambda m: "Keras", array=layer_array, check=check,
                     uses_gpu=True, description="your own saved .keras network, cut at named layers")
