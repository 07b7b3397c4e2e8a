"""What the config says the run is made of: feature sets and their views, extractors and their
stores, models, clustering jobs and the reference run. Reads no file but the config."""

from __future__ import annotations

import re
from typing import Any

from .. import paths
from ..config import ClusteringJob, clustering_jobs, config_hash
from ..extractors import EXTRACTORS, TTA_SUFFIX, ExtractorKind, kind_for, split_store_name
from ..methods import METHODS


def name_pattern(names: list[str]) -> str:
    """A wildcard regex matching exactly these names (none: nothing)."""
    return "(?:" + "|".join(re.escape(n) for n in names) + ")" if names else "(?!)"


class Layout:
    """The run's structure, from a validated config (defaults filled)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.seed: int = config["seed"]
        self.features: dict[str, dict[str, Any]] = config["features"]
        self.jobs: dict[str, ClusteringJob] = clustering_jobs(config)

    def run_hash(self) -> str:
        return config_hash(self.config)

    # -- feature sets and their views -----------------------------------------
    def parents(self, name: str) -> list[str]:
        """The feature sets a view (``from``) reduces again, or puts side by side (a list)."""
        wanted = self.features[name].get("from", [])
        return [wanted] if isinstance(wanted, str) else list(wanted)

    def parent(self, name: str) -> str | None:
        """The (first) feature set a view reduces again; None for a feature set of its own. Its
        extractor stands for the view's (the galaxies and their images are the same)."""
        return next(iter(self.parents(name)), None)

    def root(self, name: str) -> str:
        """The feature set whose extractor a view's features come from."""
        while (parent := self.parent(name)) is not None:
            name = parent
        return name

    def extractor_of(self, name: str) -> str:
        return str(self.features[self.root(name)]["extractor"])

    def kind_of(self, name: str) -> ExtractorKind:
        """The extractor entry behind a feature set (a view's: its root's)."""
        extractor = self.extractor_of(name)
        return kind_for(self.config["models"].get(extractor), extractor)

    def has_images(self, name: str) -> bool:
        return self.kind_of(name).images

    @property
    def needs_images(self) -> bool:
        """False when every feature set is a user file (no cutouts to fetch)."""
        return any(self.has_images(n) for n in self.features)

    def feature_inputs(self, name: str) -> list[str]:
        """Files a feature set not computed from images reads instead of batch stores (its file)."""
        return self.kind_of(name).inputs(self.features[name])

    def user_ids(self, name: str) -> list[str]:
        """The ids file of a user's feature file (``features.<fs>.ids``), an input of the jobs that
        read the file; none for views (they read their parents' stores) and other feature sets."""
        fs = self.features[name]
        return [fs["ids"]] if fs.get("ids") and "from" not in fs else []

    def view_params(self, name: str) -> dict[str, Any] | None:
        """A view's reducer settings, with the config key its messages name."""
        fs = self.features[name]
        if "from" not in fs:
            return None
        return {**fs["reduce"], "_key": f"features.{name}.reduce"}

    def reduced_width(self, name: str) -> int:
        """Columns of a reduced feature set, as far as the config tells (an upper bound)."""
        if "from" in self.features[name]:
            from ..reducers import REDUCERS

            if REDUCERS[self.features[name]["reduce"]["method"]].combines:  # side by side: no reduction
                return sum(self.reduced_width(p) for p in self.parents(name))
            wanted = self.features[name]["reduce"].get("n_components")
            return wanted if isinstance(wanted, int) else self.reduced_width(self.root(name))
        pca = self.features[name].get("pca", False)
        if isinstance(pca, int) and not isinstance(pca, bool):
            return pca
        return int(self.features[name].get("max_components", 200))

    def catalog_name(self) -> str:
        """The catalog as a person knows it: its file, or what it was made from."""
        catalog = self.config["catalog"]
        if catalog.get("path"):
            return str(catalog["path"])
        if catalog.get("sql"):
            return f"the SQL catalog ({catalog['sql'].get('cache')})"
        return f"the {self.config['source']['kind']} catalog"

    # -- feature stores ----------------------------------------------------------
    def store_name(self, name: str) -> str:
        """The per-batch feature store a feature set reads: its extractor, ``-d4`` with TTA."""
        fs = self.features[name]
        return fs["extractor"] + (TTA_SUFFIX if fs.get("tta") else "")

    def extracted(self, name: str) -> bool:
        """Whether a feature set is extracted from the images (not a view, not a user's file)."""
        fs = self.features[name]
        return "from" not in fs and self.kind_of(name).images

    def streamed(self, name: str) -> bool:
        """Whether a feature set's raw features stream from per-batch stores (not views, user
        files, or extractors read whole such as morphometrics' imputation)."""
        return self.extracted(name) and self.kind_of(name).read is None

    def extractors(self) -> list[str]:
        """Feature stores (extractor, ``-d4`` with TTA) used by image-based feature sets."""
        return sorted({self.store_name(n) for n in self.features if self.extracted(n)})

    # -- models ---------------------------------------------------------------------
    def model_of(self, store_or_extractor: str) -> dict[str, Any] | None:
        """The ``models`` entry behind a feature store or extractor name (None: built-in)."""
        return self.config["models"].get(split_store_name(store_or_extractor)[0])

    def uses_gpu(self, store: str) -> int:
        return int(kind_for(self.model_of(store), split_store_name(store)[0]).uses_gpu)

    def is_trained(self, model: str) -> bool:
        """Whether the workflow trains this model (its kind trains it, and no ``path`` is given)."""
        settings = self.config["models"][model]
        kind = EXTRACTORS[settings["kind"]]
        return kind.train is not None and kind.trains(settings) and not settings.get("path")

    def _models_to_train(self) -> list[str]:
        used = {split_store_name(s)[0] for s in self.extractors()}
        models = self.config["models"]
        return sorted(m for m in used if m in models and self.is_trained(m))

    def trained_models(self) -> list[str]:
        """Models the workflow trains (a kind with a trainer, no ``path`` given); none against a
        reference run, which gives them."""
        return [] if self.reference is not None else self._models_to_train()

    def reference_models(self) -> list[str]:
        """Models this run takes from the reference run (those it would otherwise train)."""
        return [] if self.reference is None else self._models_to_train()

    def training_batches(self, model: str) -> int:
        """How many leading batches hold the model's training galaxies (train.max_galaxies)."""
        max_galaxies = self.config["models"][model]["train"]["max_galaxies"]
        return max(1, -(-max_galaxies // self.config["batch_size"]))

    def model_file(self, model: str) -> str:
        """The .keras file of a trained (or given) model."""
        path = self.config["models"][model].get("path")
        if path:
            return str(path)
        if self.reference is not None:
            return self.in_reference(paths.MODEL, model=model)
        return paths.fill(paths.MODEL, model=model)

    # -- a reference run (assign.reference) ----------------------------------------
    @property
    def reference(self) -> str | None:
        """The reference run's results directory when this run places galaxies into it."""
        return self.config["assign"]["reference"]

    def in_reference(self, template: str, **wildcards: str) -> str:
        """A path of the reference run: ``template`` with ``results/`` replaced by it."""
        assert self.reference is not None
        return self.reference.rstrip("/") + paths.fill(template, **wildcards)[len(paths.RESULTS):]

    # -- clustering jobs --------------------------------------------------------------
    def jobs_of(self, method: str) -> list[str]:
        return [name for name, job in self.jobs.items() if job.method == method]

    def jobs_with(self, feature: str) -> list[str]:
        """The jobs whose method's entry declares ``feature`` (``diagnostics``, ``dendrogram``), in
        registry order."""
        return [job for name, method in METHODS.items() if getattr(method, feature) for job in self.jobs_of(name)]

    @staticmethod
    def jobs_pattern(jobs: list[str]) -> str:
        """A wildcard regex matching exactly these job names (none: nothing)."""
        return name_pattern(jobs)

    def jobs_for(self, fs: str, jobs: list[str] | None = None) -> list[str]:
        """The clusterings run on feature set ``fs``: all, or those of its ``methods`` list."""
        methods = self.features[fs].get("methods")
        names = list(self.jobs) if jobs is None else jobs
        return [j for j in names if methods is None or self.jobs[j].method in methods]

    def clusterings(self) -> list[dict[str, str]]:
        """Wildcards of every clustering job: {fs, job}."""
        return [{"fs": fs, "job": job} for fs in self.features for job in self.jobs_for(fs)]
