"""What the Snakefile needs at parse time: the validated config, batches, targets, params.

Kept light (no TensorFlow import): Snakemake parses the Snakefile for every job. Every
path comes from :mod:`galclust.paths`; every method, extractor and source from its registry.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from astropy.table import Table

from . import paths
from .acquire.sources import SOURCES
from .catalog import batch_names, batch_rows, load_catalog, rows_digest
from .config import ClusteringJob, clustering_jobs, config_hash, validate_config
from .errors import ConfigError
from .extractors import EXTRACTORS, ExtractorKind, kind_for
from .methods import METHODS
from .methods._scale import check_method_fits
from .stages.extract import TTA_SUFFIX, split_store_name
from .supervised import target_columns

MB = 10**6
#: Snakemake's own headroom for a clustering job (Python, numpy, scikit-learn, the features)
BASE_MEM_MB = 2000


class Plan:
    """The workflow's plan for one config: which batches, feature sets and clusterings."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = validate_config(config)
        self.seed: int = self.config["seed"]
        self.features: dict[str, dict[str, Any]] = self.config["features"]
        self.jobs: dict[str, ClusteringJob] = clustering_jobs(self.config)

    # -- a reference run (assign.reference) ----------------------------------------
    @property
    def reference(self) -> str | None:
        """The reference run's results directory when this run places galaxies into it."""
        return self.config["assign"]["reference"]

    def in_reference(self, template: str, **wildcards: str) -> str:
        """A path of the reference run: ``template`` with ``results/`` replaced by it."""
        assert self.reference is not None
        return self.reference.rstrip("/") + paths.fill(template, **wildcards)[len(paths.RESULTS):]

    def check_reference(self) -> None:
        """Everything the reference run must provide, checked before any job."""
        if self.reference is None:
            return
        from pathlib import Path

        if Path(self.reference).resolve() == Path(paths.RESULTS).resolve():
            raise ConfigError("config key 'assign.reference': the reference is this run's own results/")
        needed = [self.in_reference(paths.PROJECTION, fs=fs) for fs in self.features]
        needed += [self.in_reference(paths.REDUCED, fs=fs) for fs in self.features]
        needed += [self.in_reference(paths.INDEX, fs=fs) for fs in self.features]
        needed += [self.in_reference(paths.LABELS, **w) for w in self.clusterings()]
        needed += [self.model_file(m) for m in self.reference_models()]
        missing = [p for p in needed if not Path(p).exists()]
        if missing:
            raise ConfigError(f"config key 'assign.reference': {len(missing)} file(s) the reference run should "
                              f"have are missing, e.g. {missing[0]} (run the reference workflow to the end "
                              "with the same feature sets and clusterings)")

    def reference_models(self) -> list[str]:
        """Models this run takes from the reference run (those it would otherwise train)."""
        if self.reference is None:
            return []
        used = {split_store_name(s)[0] for s in self.extractors()}
        models = self.config["models"]
        return sorted(m for m in used if m in models and self.is_trained(m))

    def check(self) -> None:
        """What can only be checked against the catalog, before any job: truth columns exist, and
        no feature set asks for more PCA components than it has galaxies or columns."""
        columns = self.catalog.colnames if self.needs_images else None
        wanted = [("catalog.truth", c) for c in self.config["catalog"]["truth"]]
        wanted += [(f"features.{n}.reduce.target", fs["reduce"]["target"])
                   for n, fs in self.features.items() if fs.get("reduce", {}).get("target")]
        physical = self.config["report"]["physical"]
        wanted += [("report.physical.pairs", c) for pair in physical["pairs"] for c in pair]
        wanted += [("report.physical.columns", c) for c in physical["columns"]]
        for key, column in wanted:
            if columns is not None and column not in columns:
                raise ConfigError(f"config key '{key}': column '{column}' not in the catalog {self.catalog_name()} "
                                  f"(columns: {', '.join(columns)})")
        self._check_rows()
        self._check_writable()
        _ = self.projected  # `store: projected` where a feature set cannot be: its key, before any job
        for name, fs in self.features.items():
            pca = fs.get("pca", False)
            if "from" in fs or isinstance(pca, bool) or not isinstance(pca, int):
                continue
            n = self.n_rows(name)
            kind = self.kind_of(name)
            if kind.shape is not None and kind.origin is not None:  # the user's own file: its columns
                width = self.file_shape(name)[1]
                if pca > width:
                    raise ConfigError(f"config key 'features.{name}.pca': {pca} components asked for, but "
                                      f"{kind.origin(fs, f'features.{name}')} has {width} columns")
                continue
            if pca > n:
                raise ConfigError(f"config key 'features.{name}.pca': {pca} components asked for, but the "
                                  f"catalog has {n} galaxies")
            model = self.model_of(fs["extractor"]) or {}
            width = kind.width(fs, model, self.config["preprocess"]["size"])
            if width is not None and pca > width:
                raise ConfigError(f"config key 'features.{name}.pca': {pca} components asked for, but "
                                  f"{fs['extractor']} features have {width} columns")

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

    def _check_rows(self) -> None:
        """Enough galaxies for every feature set and every clustering's setting."""
        for name in self.features:
            n = self.n_rows(name)
            root = self.features[self.root(name)]
            origin = self.kind_of(name).origin
            where = origin(root, f"features.{self.root(name)}") if origin is not None else self.catalog_name()
            if n == 0:
                raise ConfigError(f"{where}: no rows; feature set '{name}' needs at least 2 galaxies")
            if n < 2:
                raise ConfigError(f"{where}: 1 galaxy for feature set '{name}'; clustering needs at least 2")
            for job in self.jobs_for(name):
                spec = self.jobs[job]
                method = METHODS[spec.method]
                check_method_fits(method, n, self.reduced_width(name), spec.params, self.max_mem_bytes())
                value = spec.params[method.setting]
                if (method.needs_k or method.at_most_n) and value > n:
                    raise ConfigError(f"config key 'clustering.{spec.method}.{method.setting}': {value} is more "
                                      f"than the {n} galaxies of feature set '{name}'")

    def catalog_name(self) -> str:
        """The catalog as a person knows it: its file, or what it was made from."""
        catalog = self.config["catalog"]
        if catalog.get("path"):
            return str(catalog["path"])
        if catalog.get("sql"):
            return f"the SQL catalog ({catalog['sql'].get('cache')})"
        return f"the {self.config['source']['kind']} catalog"

    def max_mem_bytes(self) -> int:
        """The memory one job may use: ``max_mem_mb``, else this machine's physical memory."""
        if self.config["max_mem_mb"]:
            return int(self.config["max_mem_mb"]) * MB
        import os

        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))

    @staticmethod
    def _check_writable() -> None:
        """results/ (or the folder it will be made in) must be writable before any job starts."""
        import os
        from pathlib import Path

        target = Path(paths.RESULTS)
        while not target.exists() and target != target.parent:
            target = target.parent
        if not os.access(target, os.W_OK):
            raise ConfigError(f"{paths.RESULTS}: not writable ({target.resolve()} is read-only for this user)")

    def file_shape(self, name: str) -> tuple[int, int]:
        """(rows, columns) of a feature set's own file (its extractor's ``shape``); errors name the key."""
        shape = self.kind_of(name).shape
        assert shape is not None, f"feature set '{name}' has no file of its own"
        return shape(self.features[self.root(name)], f"features.{self.root(name)}")

    # -- galaxies and batches -------------------------------------------------
    @property
    def needs_images(self) -> bool:
        """False when every feature set is a user file (no cutouts to fetch)."""
        return any(self.has_images(n) for n in self.features)

    def catalog_params(self) -> dict[str, Any]:
        """What the catalog depends on: the catalog block (``truth`` aside: every column is kept),
        the source, the seed (demo draws)."""
        source = {k: v for k, v in self.config["source"].items() if k != "download"}
        catalog = {k: v for k, v in self.config["catalog"].items() if k != "truth"}
        return {"catalog": catalog, "source": source, "seed": self.seed}

    @cached_property
    def catalog(self) -> Table:
        return load_catalog(self.config)

    @cached_property
    def batches(self) -> list[str]:
        if not self.needs_images:
            return []
        return batch_names(len(self.catalog), self.config["batch_size"])

    def catalog_digest(self) -> str:
        """Changes exactly when any row of the catalog changes."""
        return rows_digest(self.catalog)

    def batch_digest(self, batch: str) -> str:
        """Changes exactly when the galaxies of ``batch`` change (a Snakemake params trigger)."""
        return rows_digest(batch_rows(self.catalog, batch, self.config["batch_size"]))

    def source_params(self) -> dict[str, Any]:
        """The source settings that change the cutouts (download tuning and the settings that
        only choose catalog rows, which each batch's row digest already covers, left out:
        appending galaxies must not re-render the cutouts of earlier batches)."""
        source = self.config["source"]
        kind = source["kind"]
        settings = {k: v for k, v in source.get(kind, {}).items() if k not in SOURCES[kind].row_settings}
        return {"kind": kind, "cache_dir": source["cache_dir"], kind: settings}

    def read_options(self) -> dict[str, Any] | None:
        """How preprocess decodes the source's raw files (None: plain images)."""
        source = self.config["source"]
        return SOURCES[source["kind"]].read_options(source.get(source["kind"], {}))

    # -- feature sets ----------------------------------------------------------
    def store_name(self, name: str) -> str:
        """The per-batch feature store a feature set reads: its extractor, ``-d4`` with TTA."""
        fs = self.features[name]
        return fs["extractor"] + (TTA_SUFFIX if fs.get("tta") else "")

    def _extracted(self, name: str) -> bool:
        """Whether a feature set is extracted from the images (not a view, not a user's file)."""
        fs = self.features[name]
        return "from" not in fs and self.kind_of(name).images

    def extractors(self) -> list[str]:
        """Feature stores (extractor, ``-d4`` with TTA) used by image-based feature sets."""
        return sorted({self.store_name(n) for n in self.features if self._extracted(n)})

    def raw_stores(self) -> list[str]:
        """The feature stores kept raw for every batch: projected feature sets read raw layers
        from the first batches only (temporary stores)."""
        projected = set(self.projected)
        return sorted({self.store_name(n) for n in self.features if self._extracted(n) and n not in projected})

    def _streamed(self, name: str) -> bool:
        """Whether a feature set's raw features stream from per-batch stores (not views, user
        files, or extractors read whole such as morphometrics' imputation)."""
        if not self._extracted(name):
            return False
        return self.kind_of(name).read is None

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
            if store == "projected" and not self._streamed(name):
                raise ConfigError(f"config key 'features.{name}.store': projected needs features extracted per "
                                  "batch (not a view, a user file, or an extractor read whole such as morphometrics)")
            if store == "projected" or (store == "auto" and self._streamed(name)
                                        and fs.get("pca", False) is not False and len(self.catalog) > above):
                out.append(name)
        return out

    def fs_pattern(self, projected: bool) -> str:
        """A wildcard regex for the ``fs`` of the projected (or the other) feature sets: rules
        ``reduce`` and ``gather_projected`` write the same paths for disjoint feature sets."""
        names = [n for n in self.features if (n in self.projected) == projected]
        return "(?:" + "|".join(re.escape(n) for n in names) + ")" if names else "(?!)"

    def fit_batches(self) -> list[str]:
        """The first batches, holding ``feature_storage.fit_galaxies`` galaxies: a projection is
        fitted on them, so appending galaxies never refits."""
        wanted = self.config["feature_storage"]["fit_galaxies"]
        return self.batches[: max(1, -(-wanted // self.config["batch_size"]))]

    def projected_dtype(self) -> str:
        return str(self.config["feature_storage"]["dtype"])

    def model_of(self, store_or_extractor: str) -> dict[str, Any] | None:
        """The ``models`` entry behind a feature store or extractor name (None: built-in)."""
        return self.config["models"].get(split_store_name(store_or_extractor)[0])

    def uses_gpu(self, store: str) -> int:
        return int(kind_for(self.model_of(store), split_store_name(store)[0]).uses_gpu)

    def trained_models(self) -> list[str]:
        """Models the workflow trains (a kind with a trainer, no ``path`` given)."""
        used = {split_store_name(s)[0] for s in self.extractors()}
        models = self.config["models"]
        if self.reference is not None:
            return []  # taken from the reference run
        return sorted(m for m in used if m in models and self.is_trained(m))

    def is_trained(self, model: str) -> bool:
        """Whether the workflow trains this model (its kind trains it, and no ``path`` is given)."""
        settings = self.config["models"][model]
        kind = EXTRACTORS[settings["kind"]]
        return kind.train is not None and kind.trains(settings) and not settings.get("path")

    def train_settings(self, model: str) -> dict[str, Any]:
        """What a training job reads: the ``train`` block, plus the model keys its kind trains
        from (a backbone's architecture and starting weights), so changing them retrains it."""
        settings = self.config["models"][model]
        kind = EXTRACTORS[settings["kind"]]
        return {**settings["train"], **{k: settings.get(k) for k in kind.train_keys}}

    def monitor_columns(self, model: str) -> list[str]:
        """Truth columns a self-supervised model's training is scored against (none for others)."""
        kind = EXTRACTORS[self.config["models"][model]["kind"]]
        return list(self.config["catalog"]["truth"]) if kind.monitors else []

    def train_inputs(self, model: str) -> list[str]:
        """Local files a training job starts from (a backbone's weights file)."""
        settings = self.config["models"][model]
        return EXTRACTORS[settings["kind"]].model_files(settings)

    def model_inputs(self, extractor: str) -> list[str]:
        """Files an extractor needs: a trained or given model, or a local weights file."""
        model = self.model_of(extractor)
        if model is None:
            return []
        name = split_store_name(extractor)[0]
        if not model.get("path") and not self.is_trained(name):
            return EXTRACTORS[model["kind"]].model_files(model)
        return [self.model_file(name)]

    def model_file(self, model: str) -> str:
        """The .keras file of a trained (or given) model."""
        path = self.config["models"][model].get("path")
        if path:
            return path
        if self.reference is not None:
            return self.in_reference(paths.MODEL, model=model)
        return paths.fill(paths.MODEL, model=model)

    def training_batches(self, model: str) -> int:
        """How many leading batches hold the model's training galaxies (train.max_galaxies)."""
        max_galaxies = self.config["models"][model]["train"]["max_galaxies"]
        return max(1, -(-max_galaxies // self.config["batch_size"]))

    def training_digest(self, model: str) -> str:
        """Changes exactly when the training galaxies or their targets change."""
        model_cfg = self.config["models"][model]
        rows = self.catalog[: self.training_batches(model) * self.config["batch_size"]]
        if not EXTRACTORS[model_cfg["kind"]].needs_target:  # self-supervised: the galaxies alone
            return rows_digest(rows, ["id"])
        targets = target_columns(model_cfg["train"])
        where = sorted(model_cfg["train"].get("where") or {})
        for key, target in [("target", t) for t in targets] + [(f"where.{w}", w) for w in where]:
            if target not in rows.colnames:
                raise ConfigError(
                    f"config key 'models.{model}.train.{key}': the catalog has no column '{target}' "
                    f"(columns: {', '.join(rows.colnames)})"
                )
        return rows_digest(rows, ["id", *targets, *where])

    def n_rows(self, name: str) -> int:
        """Galaxies in a feature set: the catalog's, or the rows of a user's feature file."""
        root = self.root(name)
        if self.kind_of(root).shape is None:
            return len(self.catalog)
        return self.file_shape(root)[0]

    def reduced_width(self, name: str) -> int:
        """Columns of a reduced feature set, as far as the config tells (an upper bound)."""
        if "from" in self.features[name]:
            from .reducers import REDUCERS

            if REDUCERS[self.features[name]["reduce"]["method"]].combines:  # side by side: no reduction
                return sum(self.reduced_width(p) for p in self.parents(name))
            wanted = self.features[name]["reduce"].get("n_components")
            return wanted if isinstance(wanted, int) else self.reduced_width(self.root(name))
        pca = self.features[name].get("pca", False)
        if isinstance(pca, int) and not isinstance(pca, bool):
            return pca
        return int(self.features[name].get("max_components", 200))

    def clustering_mem_mb(self, name: str, job: str) -> int:
        """Memory for a clustering job, from its method's prediction for N and d."""
        spec = self.jobs[job]
        needed = METHODS[spec.method].memory_bytes(self.n_rows(name), self.reduced_width(name), spec.params)
        return BASE_MEM_MB - (-needed // MB)  # rounded up to whole MB

    def similarity_params(self) -> dict[str, Any]:
        return {**self.config["similarity"], "seed": self.seed}

    def assign_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.config["assign"].items() if k != "reference"}

    def reduce_mem_mb(self, name: str) -> int:
        """Streamed PCA needs little; a view holds its input and the reducer's own needs."""
        view = self.view_params(name)
        if view is None:
            return 8000
        from .reducers import REDUCERS

        width = sum(self.reduced_width(p) for p in self.parents(name))
        needed = REDUCERS[view["method"]].memory_bytes(self.n_rows(name), width, view)
        return BASE_MEM_MB - (-needed // MB)

    def gather_mem_mb(self, name: str) -> int:
        """The gathered features (N · c float32), a read block and its copy."""
        return BASE_MEM_MB - (-(2 * 4 * self.n_rows(name) * self.reduced_width(name)) // MB)

    def cluster_params(self, job: str) -> dict[str, Any]:
        """A clustering job as a rule's ``params`` carry it (plain data: its name, method, settings);
        the stages make it a :class:`~galclust.config.ClusteringJob` again, once."""
        spec = self.jobs[job]
        return {"name": spec.name, "method": spec.method, "params": spec.params}

    def jobs_of(self, method: str) -> list[str]:
        return [name for name, job in self.jobs.items() if job.method == method]

    def jobs_with(self, feature: str) -> list[str]:
        """The jobs whose method's entry declares ``feature`` (``diagnostics``, ``dendrogram``), in
        registry order."""
        return [job for name, method in METHODS.items() if getattr(method, feature) for job in self.jobs_of(name)]

    @staticmethod
    def jobs_pattern(jobs: list[str]) -> str:
        """A wildcard regex matching exactly these job names (none: nothing)."""
        return "(?:" + "|".join(re.escape(j) for j in jobs) + ")" if jobs else "(?!)"

    def jobs_for(self, fs: str, jobs: list[str] | None = None) -> list[str]:
        """The clusterings run on feature set ``fs``: all, or those of its ``methods`` list."""
        methods = self.features[fs].get("methods")
        names = list(self.jobs) if jobs is None else jobs
        return [j for j in names if methods is None or self.jobs[j].method in methods]

    def run_hash(self) -> str:
        return config_hash(self.config)

    # -- targets ---------------------------------------------------------------
    def clusterings(self) -> list[dict[str, str]]:
        """Wildcards of every clustering job: {fs, job}."""
        return [{"fs": fs, "job": job} for fs in self.features for job in self.jobs_for(fs)]

    def explorer_features(self) -> str:
        """The feature set the explorer page shows (``report.explorer.features``, else the first)."""
        return self.config["report"]["explorer"]["features"] or next(iter(self.features))

    def physical_targets(self) -> list[dict[str, str]]:
        """Clusterings drawn against catalog columns (none when no column is configured)."""
        physical = self.config["report"]["physical"]
        if not (physical["pairs"] or physical["columns"]) or not self.needs_images:
            return []
        chosen = physical["clusterings"]
        if chosen == "all":
            return self.clusterings()
        if chosen == "member_pdfs":
            return self.member_pdf_targets()
        return [dict(zip(("fs", "job"), t.split("/", 1))) for t in chosen]

    def view_families(self) -> dict[str, list[str]]:
        """Feature sets with views, and their views: compared in one figure (PCA vs t-SNE vs LDA)."""
        families: dict[str, list[str]] = {}
        for name in self.features:
            families.setdefault(self.root(name), []).append(name)
        return {root: members for root, members in families.items() if len(members) > 1}

    def member_pdf_targets(self) -> list[dict[str, str]]:
        return [dict(zip(("fs", "job"), t.split("/", 1))) for t in self.config["report"]["member_pdfs"]]

    def planned_jobs(self) -> dict[str, list[dict[str, str]]]:
        """The wildcards of every job whose outputs the run keeps, by rule (temporary stores aside):
        ``rule all`` and ``results/manifest.json`` expand the rules' own outputs with them
        (``rules/targets.smk``). A run against a reference projects and assigns instead of
        training, reducing and clustering."""
        batches = [{"batch": b} for b in self.batches]
        feature_sets = [{"fs": fs} for fs in self.features]
        jobs: dict[str, list[dict[str, str]]] = {
            "catalog": [{}] if self.needs_images else [],
            "acquire": batches,
            "preprocess": batches,
            "extract": [{"batch": b, "extractor": e} for b in self.batches for e in self.raw_stores()],
            "extract_projected": [{"batch": b, "fs": fs} for b in self.batches for fs in self.projected],
        }
        if self.reference is not None:
            return {**jobs, "project": feature_sets, "assign": self.clusterings()}
        own = [{"fs": fs} for fs in self.features if fs not in self.projected]
        projected = [{"fs": fs} for fs in self.projected]
        return {
            **jobs,
            "train_model": [{"model": m} for m in self.trained_models()],
            "reduce": own,
            "fit_projection": projected,
            "gather_projected": projected,
            "elbow_eigengap": feature_sets,
            "neighbour_index": feature_sets,
            "similar_sheets": feature_sets if self.config["report"]["similar"] else [],
            "maps": feature_sets,
            "quality": feature_sets,
            "cluster": self.clusterings(),
            "plot_clustering": self.clusterings(),
            "dendrogram": [{"fs": fs, "job": job}
                           for fs in self.features for job in self.jobs_for(fs, self.jobs_with("dendrogram"))],
            "member_pdfs": self.member_pdf_targets(),
            "physical": self.physical_targets(),
            "quality_plot": [{}],
            "explorer": [{}],
            "compare": [{}],
            "summary": [{}],
        }
