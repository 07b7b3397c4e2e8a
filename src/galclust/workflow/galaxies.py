"""The plan's galaxies: how many each feature set has, the batches, which feature sets are stored
projected, and the row digests that make a job rerun when its galaxies change. Everything here
comes from :class:`~galclust.workflow.facts.CatalogFacts`: measured by the parse that plans the
run, read back from its file by a job's own parse (:meth:`Galaxies.read_facts`)."""

from __future__ import annotations

from functools import cached_property

from .. import paths
from ..batches import batch_names
from ..errors import ConfigError
from . import facts as measured
from .facts import CatalogFacts
from .layout import Layout, name_pattern


class Galaxies(Layout):
    """The run's structure and its galaxies."""

    _facts: CatalogFacts | None = None

    # -- the facts: measured once, or read back ------------------------------------
    @property
    def facts(self) -> CatalogFacts:
        if self._facts is None:
            self._facts = measured.measure(self)
        return self._facts

    def facts_file(self) -> str:
        return paths.fill(paths.PLAN_FACTS, hash=self.run_hash())

    def write_facts(self) -> None:
        """Keep the facts for the jobs' own parses (the submitting parse, before any job)."""
        measured.write(self.facts, self.facts_file(), self.run_hash())

    def read_facts(self) -> bool:
        """Take the facts the submitting parse wrote (a job's own parse); False when there are
        none for this config, and the catalog is read when a fact is first needed."""
        self._facts = measured.read(self.facts_file(), self.run_hash())
        return self._facts is not None

    # -- galaxies and batches ---------------------------------------------------------
    def n_galaxies(self) -> int:
        """Galaxies in the catalog."""
        n = self.facts.n_galaxies
        assert n is not None, "no feature set reads the catalog"
        return n

    @cached_property
    def batches(self) -> list[str]:
        if not self.needs_images:
            return []
        return batch_names(self.n_galaxies(), self.config["batch_size"])

    def file_shape(self, name: str) -> tuple[int, int]:
        """(rows, columns) of a feature set's own file (its extractor's ``shape``)."""
        root = self.root(name)
        assert root in self.facts.file_shapes, f"feature set '{name}' has no file of its own"
        return self.facts.file_shapes[root]

    def n_rows(self, name: str) -> int:
        """Galaxies in a feature set: the catalog's, or the rows of a user's feature file."""
        root = self.root(name)
        if self.kind_of(root).shape is None:
            return self.n_galaxies()
        return self.file_shape(root)[0]

    # -- row digests (Snakemake params: a job reruns when its galaxies change) -----------
    def catalog_digest(self) -> str:
        """Changes exactly when any row of the catalog changes."""
        return self.facts.catalog_digest

    def batch_digest(self, batch: str) -> str:
        """Changes exactly when the galaxies of ``batch`` change."""
        return self.facts.batch_digests[batch]

    def training_digest(self, model: str) -> str:
        """Changes exactly when the model's training galaxies or their targets change."""
        return self.facts.training_digests[model]

    # -- feature sets stored projected ---------------------------------------------------
    @cached_property
    def projected(self) -> list[str]:
        """Feature sets stored projected per batch (``features.<fs>.store``; ``auto``: those with
        PCA above ``feature_storage.projected_above_n`` galaxies). Empty in a run against a
        reference, which projects with the reference's fit (rule ``project``)."""
        if self.reference is not None:
            return []
        above = self.config["feature_storage"]["projected_above_n"]
        out = []
        for name, fs in self.features.items():
            store = fs.get("store", "auto")
            if store == "projected" and not self.streamed(name):
                raise ConfigError(f"config key 'features.{name}.store': projected needs features extracted per "
                                  "batch (not a view, a user file, or an extractor read whole such as morphometrics)")
            if store == "projected" or (store == "auto" and self.streamed(name)
                                        and fs.get("pca", False) is not False and self.n_galaxies() > above):
                out.append(name)
        return out

    def fs_pattern(self, projected: bool) -> str:
        """A wildcard regex for the ``fs`` of the projected (or the other) feature sets: rules
        ``reduce`` and ``gather_projected`` write the same paths for disjoint feature sets."""
        chosen = self.projected
        return name_pattern([n for n in self.features if (n in chosen) == projected])

    def raw_stores(self) -> list[str]:
        """The feature stores kept raw for every batch: projected feature sets read raw layers
        from the first batches only (temporary stores)."""
        projected = set(self.projected)
        return sorted({self.store_name(n) for n in self.features if self.extracted(n) and n not in projected})

    def fit_batches(self) -> list[str]:
        """The first batches, holding ``feature_storage.fit_galaxies`` galaxies: a projection is
        fitted on them, so appending galaxies never refits."""
        wanted = self.config["feature_storage"]["fit_galaxies"]
        return self.batches[: max(1, -(-wanted // self.config["batch_size"]))]
