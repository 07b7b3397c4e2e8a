"""The extractor registry: built-in extractors and model kinds, one module each.

Adding an extractor: write ``galclust/extractors/<name>.py`` with ``KIND = ExtractorKind(...)``
and add it to ``_MODULES`` (its schema block: the ``models.kind`` enum for a model kind;
nothing for a built-in, which the schema accepts by name). Plugins register through the
``galclust.plugins`` entry-point group (:mod:`galclust.plugins`).
"""

from __future__ import annotations

from importlib import import_module

from .base import ExtractorKind

_MODULES = ("pixels", "morphometrics", "profiles", "cnn", "simclr", "backbone", "encoder", "keras_model")

EXTRACTORS: dict[str, ExtractorKind] = {}


def register(kind: ExtractorKind) -> ExtractorKind:
    """Add an extractor (a plugin's, or a test's toy) to the registry; returns it."""
    EXTRACTORS[kind.name] = kind
    return kind


def builtin() -> list[str]:
    """Extractors a feature set names directly."""
    return [name for name, kind in EXTRACTORS.items() if kind.builtin]


def model_kinds() -> list[str]:
    """Kinds of ``models`` entries."""
    return [name for name, kind in EXTRACTORS.items() if not kind.builtin]


for _name in _MODULES:
    register(import_module(f"{__name__}.{_name}").KIND)

from ..plugins import load_plugins  # noqa: E402  (after the built-ins: plugins may replace them)

load_plugins()

__all__ = ["EXTRACTORS", "ExtractorKind", "builtin", "model_kinds", "register"]
