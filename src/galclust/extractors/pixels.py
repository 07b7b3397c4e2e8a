"""The study's baseline: the flattened image."""

from __future__ import annotations

from .base import ExtractorKind


def build(model, model_path, seed, name):  # type: ignore[no-untyped-def]  # noqa: ARG001
    from ..extract import PixelExtractor

    return PixelExtractor()


KIND = ExtractorKind("pixels", builtin=True, build=build, label=lambda m: "Pixels",
                     array=lambda fs: "pixels",
                     width=lambda fs, model, size: size * size * 3, description="the flattened 80×80×3 image")
