"""Light profiles of the galaxy measured in its own frame (centre, axis ratio, half-light
radius): surface brightness, colours per annulus, azimuthal Fourier modes and unsharp-mask
residuals (arms, knots), invariant to rotation and flips. ``layer: profile_summary`` (12
values) or ``layer: profiles`` (74)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import ExtractorKind

LAYERS = ("profile_summary", "profiles")


def build(model, model_path, seed, name):  # type: ignore[no-untyped-def]  # noqa: ARG001
    from ..profiles import ProfileExtractor

    return ProfileExtractor()


def array(fs: Mapping[str, Any]) -> str:
    return str(fs.get("layer") or "profile_summary")


def width(fs: Mapping[str, Any], model: Mapping[str, Any], size: int) -> int:  # noqa: ARG001
    from ..profiles import SUMMARY_NAMES, feature_names

    return len(SUMMARY_NAMES) if array(fs) == "profile_summary" else len(feature_names())


def check(fs: Mapping[str, Any], key: str) -> None:
    """Its two layers only."""
    from ..errors import ConfigError

    if fs.get("layer") not in (None, "profile_summary", "profiles"):
        raise ConfigError(f"config key '{key}.layer': profiles has the layers profile_summary and "
                          f"profiles, not '{fs['layer']}'")


KIND = ExtractorKind("profiles", builtin=True, build=build, label=lambda m: "Profiles", array=array, width=width,
                     standardise=True, tta=False, check=check,
                     description="radial, colour, Fourier-mode and residual profiles (best on real SDSS images)")
