"""The extractor registry: built-in extractors and model kinds, one module each.

Adding an extractor: write ``galclust/extractors/<name>.py`` with ``KIND = ExtractorKind(...)``
and add it to ``_MODULES`` (its schema block: the ``models.kind`` enum for a model kind;
nothing for a built-in, which the schema accepts by name). Plugins register through the
``galclust.plugins`` entry-point group (:mod:`galclust.plugins`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..registry import Registry
from .base import ExtractorKind

_MODULES = ("pixels", "morphometrics", "profiles", "cnn", "simclr", "backbone", "encoder", "keras_model", "userfile")

EXTRACTORS: Registry[ExtractorKind] = Registry("extractor")
register = EXTRACTORS.register


def builtin() -> list[str]:
    """Extractors a feature set names directly."""
    return EXTRACTORS.where(builtin=True)


def model_kinds() -> list[str]:
    """Kinds of ``models`` entries."""
    return EXTRACTORS.where(builtin=False)


#: The suffix of a feature store averaged over the eight dihedral views (``features.<fs>.tta``).
TTA_SUFFIX = "-d4"


def split_store_name(store: str) -> tuple[str, bool]:
    """(extractor or model name, dihedral averaging?) of a feature-store name."""
    if store.endswith(TTA_SUFFIX):
        return store[: -len(TTA_SUFFIX)], True
    return store, False


def kind_for(model: Mapping[str, Any] | None, extractor: str) -> ExtractorKind:
    """The entry behind a feature set's ``extractor``: its model's kind (``model``: the
    ``models.<extractor>`` settings), else the built-in of that name."""
    return EXTRACTORS[model["kind"]] if model else EXTRACTORS[extractor]


EXTRACTORS.load(__name__, _MODULES, "KIND")

__all__ = ["EXTRACTORS", "TTA_SUFFIX", "ExtractorKind", "builtin", "kind_for", "model_kinds", "register", "split_store_name"]
