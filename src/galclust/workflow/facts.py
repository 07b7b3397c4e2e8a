"""What only the catalog and the user's feature files tell the plan: how many galaxies, the
catalog's columns, the row digests of the catalog, of each batch and of each model's training
galaxies, the shape of each user file.

The parse that plans the run (the main process) measures them, reading the catalog once, and
writes them to ``paths.PLAN_FACTS`` (named by the config's hash) before any job is submitted; a
job's own parse (a SLURM job, ``--mode remote``) reads that file back instead of the catalog, so
its params and digests are the submitting parse's, value for value.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import write_text_atomic
from ..batches import batch_names
from ..errors import ConfigError
from ..extractors import EXTRACTORS
from ..supervised import target_columns
from .layout import Layout

if TYPE_CHECKING:
    from astropy.table import Table

log = logging.getLogger("galclust.workflow")

#: bumped when the fields change: an older file is then measured again, not misread
VERSION = 1


@dataclass(frozen=True)
class CatalogFacts:
    """The measured facts of one run (``n_galaxies`` None: no feature set reads the catalog)."""

    n_galaxies: int | None
    columns: tuple[str, ...] = ()
    catalog_digest: str = ""
    batch_digests: dict[str, str] = field(default_factory=dict)
    training_digests: dict[str, str] = field(default_factory=dict)
    #: (rows, columns) of each user file, by the feature set that names it
    file_shapes: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_json(self, run_hash: str) -> str:
        return json.dumps({"version": VERSION, "run_hash": run_hash, **asdict(self)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, run_hash: str) -> CatalogFacts | None:
        """The facts written for this config, None for another config or an older layout."""
        data: dict[str, Any] = json.loads(text)
        if data.pop("version", None) != VERSION or data.pop("run_hash", None) != run_hash:
            return None
        return cls(n_galaxies=data["n_galaxies"], columns=tuple(data["columns"]),
                   catalog_digest=data["catalog_digest"], batch_digests=dict(data["batch_digests"]),
                   training_digests=dict(data["training_digests"]),
                   file_shapes={k: (int(v[0]), int(v[1])) for k, v in data["file_shapes"].items()})


def reads_catalog(layout: Layout) -> bool:
    """Whether any feature set's galaxies are the catalog's (not only user files)."""
    return layout.needs_images or any(layout.kind_of(n).shape is None for n in layout.features)


def measure(layout: Layout) -> CatalogFacts:
    """Read the catalog (once) and the user files' headers; errors name the config key."""
    file_shapes: dict[str, tuple[int, int]] = {}
    for name in layout.features:
        root = layout.root(name)
        shape = layout.kind_of(root).shape
        if shape is not None and root not in file_shapes:
            rows, columns = shape(layout.features[root], f"features.{root}")
            file_shapes[root] = (int(rows), int(columns))
    if not reads_catalog(layout):
        return CatalogFacts(None, file_shapes=file_shapes)
    # the catalog module only where the catalog is read: a job's own parse reads the facts file
    from .. import catalog as catalogs

    table = catalogs.load_catalog(layout.config)
    size = layout.config["batch_size"]
    batches = batch_names(len(table), size) if layout.needs_images else []
    return CatalogFacts(
        n_galaxies=len(table),
        columns=tuple(table.colnames),
        catalog_digest=catalogs.rows_digest(table),
        batch_digests={b: catalogs.rows_digest(catalogs.batch_rows(table, b, size)) for b in batches},
        training_digests={m: training_digest(layout, table, m) for m in layout.trained_models()},
        file_shapes=file_shapes,
    )


def training_digest(layout: Layout, table: Table, model: str) -> str:
    """Changes exactly when the training galaxies or their targets change."""
    from .. import catalog as catalogs

    model_cfg = layout.config["models"][model]
    rows = table[: layout.training_batches(model) * layout.config["batch_size"]]
    if not EXTRACTORS[model_cfg["kind"]].needs_target:  # self-supervised: the galaxies alone
        return catalogs.rows_digest(rows, ["id"])
    targets = target_columns(model_cfg["train"])
    where = sorted(model_cfg["train"].get("where") or {})
    for key, target in [("target", t) for t in targets] + [(f"where.{w}", w) for w in where]:
        if target not in rows.colnames:
            raise ConfigError(
                f"config key 'models.{model}.train.{key}': the catalog has no column '{target}' "
                f"(columns: {', '.join(rows.colnames)})"
            )
    return catalogs.rows_digest(rows, ["id", *targets, *where])


def write(facts: CatalogFacts, path: str, run_hash: str) -> None:
    write_text_atomic(path, facts.to_json(run_hash))


def read(path: str, run_hash: str) -> CatalogFacts | None:
    """The facts the submitting parse wrote, None when there are none for this config (a job
    without the submitter's ``.snakemake`` folder then measures them itself)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    try:
        return CatalogFacts.from_json(text, run_hash)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        log.warning("%s: unreadable (%s); measuring the catalog again", path, exc)
        return None
