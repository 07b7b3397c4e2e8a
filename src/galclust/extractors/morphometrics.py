"""Non-parametric morphology (CAS, Gini–M20, ellipticity, colours) per galaxy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import ExtractorKind


def build(model, model_path, seed, name):  # type: ignore[no-untyped-def]  # noqa: ARG001
    from ..morphometrics import MorphometricExtractor

    return MorphometricExtractor()


def read(stores: Sequence[str], fs: Mapping[str, Any], name: str) -> tuple[np.ndarray, np.ndarray]:  # noqa: ARG001
    """A handful of numbers per galaxy: read whole to impute failed measurements with the
    sample's medians (the extractor stores the placeholder mask beside them)."""
    from ..morphometrics import impute_median_mask
    from ..store import read_array, read_ids

    ids = np.concatenate([read_ids(p) for p in stores])
    X = impute_median_mask(np.concatenate([read_array(p, "morphometrics") for p in stores]),
                           np.concatenate([read_array(p, "invalid") for p in stores]) > 0)
    return ids, X


def width(fs: Mapping[str, Any], model: Mapping[str, Any], size: int) -> int:  # noqa: ARG001
    from ..morphometrics import MORPHOMETRIC_NAMES

    return len(MORPHOMETRIC_NAMES)


KIND = ExtractorKind("morphometrics", builtin=True, build=build, label=lambda m: "Morphometrics",
                     array=lambda fs: "morphometrics", read=read, width=width, standardise=True, tta=False,
                     description="concentration, asymmetry, smoothness, Gini, M20, ellipticity, colours")
