"""Rule ``extract``: features of one batch by one extractor, streamed from its image store."""

from __future__ import annotations

from typing import Any

from ..extractors import kind_for, split_store_name
from .common import PathLike, provenance


def make_extractor(store: str, model: dict[str, Any] | None, model_path: PathLike | None, seed: int) -> Any:
    """The extractor behind a feature-store name: a built-in (``model`` None) or a model's
    kind, wrapped in dihedral averaging for ``-d4`` stores."""
    name, tta = split_store_name(store)
    kind = kind_for(model, name)
    extractor = kind.build(model or {}, str(model_path) if model_path else None, seed, name)
    if tta:
        from ..extract import DihedralAverage

        return DihedralAverage(extractor)
    return extractor


def extract(store: str, model: dict[str, Any] | None, seed: int, image_store: PathLike,
            model_path: PathLike | None, out: PathLike) -> None:
    """``model``: the ``models.<name>`` settings for model extractors, None for built-ins."""
    from ..extract import extract_store

    if model and model.get("mixed_precision"):
        from ..precision import enable_mixed_precision

        enable_mixed_precision()
    extract_store(image_store, out, make_extractor(store, model, model_path, seed), attrs={
        **provenance({"store": store, "model": model, "seed": seed}),
        "model_file": str(model_path) if model_path else None, "tta": split_store_name(store)[1],
    })
