"""Rule ``preprocess``: decode, find the galaxy and resize one batch's cutouts."""

from __future__ import annotations

from typing import Any

from .common import PathLike, provenance


def preprocess(manifest: PathLike, store: PathLike, report: PathLike, settings: dict[str, Any],
               read_options: dict[str, Any] | None) -> None:
    """``settings``: the config's ``preprocess`` block; ``read_options``: how raw files decode
    (e.g. Lupton RGB of Legacy Survey FITS), None for plain images."""
    from ..preprocess import preprocess_batch

    preprocess_batch(manifest, store, report, size=settings["size"],
                     attrs={**provenance(settings), "preprocess": settings}, read_options=read_options,
                     normalise=settings.get("normalise"))
