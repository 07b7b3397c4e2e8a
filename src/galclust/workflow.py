"""What the Snakefile needs at parse time: the validated config, batches, targets.

Kept light (no TensorFlow import): Snakemake parses the Snakefile for every job.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from astropy.table import Table

from .catalog import batch_names, batch_rows, load_catalog, rows_digest
from .config import ClusteringJob, clustering_jobs, validate_config

RESULTS = "results"


class Plan:
    """The workflow's plan for one config: which batches, feature sets and clusterings."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = validate_config(config)
        self.seed: int = self.config["seed"]
        self.features: dict[str, dict[str, Any]] = self.config["features"]
        self.jobs: dict[str, ClusteringJob] = clustering_jobs(self.config)

    # -- galaxies and batches -------------------------------------------------
    @property
    def needs_images(self) -> bool:
        """False when every feature set is a user file (no cutouts to fetch)."""
        return any(fs["extractor"] != "file" for fs in self.features.values())

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
        """The source settings that change the cutouts (download tuning excluded).

        The demo's ``n_galaxies`` and ``class_mix`` only choose the catalog's rows, which
        each batch's row digest already covers: appending galaxies must not re-render the
        cutouts of the batches that were there before.
        """
        source = dict(self.config["source"])
        source.pop("download", None)
        kind = source["kind"]
        settings = dict(source.get(kind, {}))
        if kind == "demo":
            settings.pop("n_galaxies", None)
            settings.pop("class_mix", None)
        return {"kind": kind, "cache_dir": source["cache_dir"], kind: settings}

    # -- feature sets ----------------------------------------------------------
    TTA_SUFFIX = "-d4"

    def store_name(self, name: str) -> str:
        """The per-batch feature store a feature set reads: its extractor, ``-d4`` with TTA."""
        fs = self.features[name]
        return fs["extractor"] + (self.TTA_SUFFIX if fs.get("tta") else "")

    @classmethod
    def split_store_name(cls, store: str) -> tuple[str, bool]:
        """(extractor, dihedral averaging?) of a feature-store name."""
        if store.endswith(cls.TTA_SUFFIX):
            return store[: -len(cls.TTA_SUFFIX)], True
        return store, False

    def extractors(self) -> list[str]:
        """Feature stores (extractor, ``-d4`` with TTA) used by image-based feature sets."""
        return sorted({self.store_name(n) for n, fs in self.features.items() if fs["extractor"] != "file"})

    def trained_models(self) -> list[str]:
        """Models the workflow trains (kind cnn or simclr, no ``path`` given)."""
        used = {self.split_store_name(s)[0] for s in self.extractors()}
        models = self.config["models"]
        return sorted(
            m for m in used
            if m in models and models[m]["kind"] in ("cnn", "simclr") and not models[m].get("path")
        )

    def model_inputs(self, extractor: str) -> list[str]:
        """Files an extractor needs: a trained or given model, or a local weights file."""
        model = self.config["models"].get(extractor)
        if model is None:
            return []
        if model["kind"] == "backbone":
            weights = model.get("weights", "imagenet")
            return [] if weights in ("imagenet", "random") else [weights]
        return [self.model_file(extractor)]

    def n_rows(self, name: str) -> int:
        """Galaxies in a feature set: the catalog's, or the rows of a user's feature file."""
        fs = self.features[name]
        if fs["extractor"] != "file":
            return len(self.catalog)
        path = fs["file"]
        try:
            if path.endswith(".npy"):
                import numpy as np

                return int(np.load(path, mmap_mode="r", allow_pickle=False).shape[0])
            from .store import count_rows

            return count_rows([path]) if path.endswith(".zarr") else 0
        except (OSError, ValueError):
            return 0  # reported properly by the reduce job

    def clustering_mem_mb(self, name: str, job: str) -> int:
        """Memory for a clustering job: affinity propagation keeps about four N×N float64
        matrices (similarities, responsibilities, availabilities, a temporary), ward about two."""
        n = self.n_rows(name)
        method = self.jobs[job].method
        matrices = {"affinity_propagation": 4, "agglomerative": 2}.get(method, 0)
        return 2000 - (-matrices * 8 * n * n // 10**6)  # rounded up to whole MB

    def training_batches(self, model: str) -> int:
        """How many leading batches hold the model's training galaxies (train.max_galaxies)."""
        max_galaxies = self.config["models"][model]["train"]["max_galaxies"]
        return max(1, -(-max_galaxies // self.config["batch_size"]))

    def training_digest(self, model: str) -> str:
        """Changes exactly when the training galaxies or their targets change."""
        settings = self.config["models"][model]["train"]
        rows = self.catalog[: self.training_batches(model) * self.config["batch_size"]]
        if self.config["models"][model]["kind"] == "simclr":  # no target: the galaxies alone
            return rows_digest(rows, ["id"])
        target = settings["target"]
        if target not in rows.colnames:
            from .errors import ConfigError

            raise ConfigError(
                f"config key 'models.{model}.train.target': the catalog has no column '{target}' "
                f"(columns: {', '.join(rows.colnames)})"
            )
        return rows_digest(rows, ["id", target])

    def model_file(self, model: str) -> str:
        """The .keras file of a trained (or given) model."""
        path = self.config["models"][model].get("path")
        return path or f"{RESULTS}/models/{model}/model.keras"

    # -- targets ---------------------------------------------------------------
    def clustering_dirs(self) -> list[str]:
        return [f"{RESULTS}/clustering/{fs}/{job}" for fs in self.features for job in self.jobs]

    def member_pdf_dirs(self) -> list[str]:
        return [f"{RESULTS}/clustering/{t}/members" for t in self.config["report"]["member_pdfs"]]

    def jobs_of(self, method: str) -> list[str]:
        return [name for name, job in self.jobs.items() if job.method == method]

    def outputs(self) -> list[str]:
        """Every output of the run (what ``results/manifest.json`` describes)."""
        out = [f"{RESULTS}/catalog.ecsv"] if self.needs_images else []
        for b in self.batches:
            d = f"{RESULTS}/batches/{b}"
            out += [f"{d}/cutouts.ecsv", f"{d}/images.zarr", f"{d}/preprocess.ecsv"]
            out += [f"{d}/features/{e}.zarr" for e in self.extractors()]
        for m in self.trained_models():
            out += [f"{RESULTS}/models/{m}/{f}" for f in ("model.keras", "history.tsv", "loss.png", "metrics.json")]
        for fs in self.features:
            out += [f"{RESULTS}/features/{fs}/{f}" for f in ("reduced.zarr", "variance.png", "elbow.png", "eigengap.png")]
        for d in self.clustering_dirs():
            out += [f"{d}/{f}" for f in ("labels.ecsv", "metrics.json", "summary.png", "sizes.png")]
        out += [f"{RESULTS}/clustering/{fs}/{job}/dendrogram.png"
                for fs in self.features for job in self.jobs_of("agglomerative")]
        out += self.member_pdf_dirs()
        out += [f"{RESULTS}/comparison/{f}" for f in ("pairwise.tsv", "ari.png", "ami.png", "truth.tsv", "truth.png")]
        out.append(f"{RESULTS}/summary.md")
        return out

    def final_targets(self) -> list[str]:
        targets = [f"{RESULTS}/summary.md"]
        targets += [f"{d}/summary.png" for d in self.clustering_dirs()]
        targets += self.member_pdf_dirs()
        return targets
