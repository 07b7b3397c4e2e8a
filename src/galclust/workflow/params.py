"""What each rule's job receives beyond its files: its settings as ``params`` (so Snakemake reruns
a job exactly when a setting it reads changes), the files a model starts from, and the memory
a job asks the scheduler for."""

from __future__ import annotations

from typing import Any

from ..acquire.sources import SOURCES
from ..extractors import EXTRACTORS, split_store_name
from ..methods import METHODS
from .galaxies import Galaxies

MB = 10**6
#: Snakemake's own headroom for a clustering job (Python, numpy, scikit-learn, the features)
BASE_MEM_MB = 2000


def mem_mb(needed_bytes: int) -> int:
    """A job's ``mem_mb``: the headroom plus ``needed_bytes``, rounded up to whole MB."""
    return BASE_MEM_MB - (-needed_bytes // MB)


class RuleParams(Galaxies):
    """Per-rule params, model inputs and memory estimates."""

    # -- catalog and cutouts --------------------------------------------------------
    def catalog_params(self) -> dict[str, Any]:
        """What the catalog depends on: the catalog block (``truth`` aside: every column is kept),
        the source, the seed (demo draws)."""
        source = {k: v for k, v in self.config["source"].items() if k != "download"}
        catalog = {k: v for k, v in self.config["catalog"].items() if k != "truth"}
        return {"catalog": catalog, "source": source, "seed": self.seed}

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

    def projected_dtype(self) -> str:
        return str(self.config["feature_storage"]["dtype"])

    # -- models -------------------------------------------------------------------------
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

    # -- clustering, similarity, assignment ------------------------------------------------
    def cluster_params(self, job: str) -> dict[str, Any]:
        """A clustering job as a rule's ``params`` carry it (plain data: its name, method, settings);
        the stages make it a :class:`~galclust.config.ClusteringJob` again, once."""
        spec = self.jobs[job]
        return {"name": spec.name, "method": spec.method, "params": spec.params}

    def similarity_params(self) -> dict[str, Any]:
        return {**self.config["similarity"], "seed": self.seed}

    def assign_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.config["assign"].items() if k != "reference"}

    # -- memory ------------------------------------------------------------------------------
    def clustering_mem_mb(self, name: str, job: str) -> int:
        """Memory for a clustering job, from its method's prediction for N and d."""
        spec = self.jobs[job]
        return mem_mb(METHODS[spec.method].memory_bytes(self.n_rows(name), self.reduced_width(name), spec.params))

    def reduce_mem_mb(self, name: str) -> int:
        """Streamed PCA needs little; a view holds its input and the reducer's own needs."""
        view = self.view_params(name)
        if view is None:
            return 8000
        from ..reducers import REDUCERS

        width = sum(self.reduced_width(p) for p in self.parents(name))
        return mem_mb(REDUCERS[view["method"]].memory_bytes(self.n_rows(name), width, view))

    def gather_mem_mb(self, name: str) -> int:
        """The gathered features (N · c float32), a read block and its copy."""
        return mem_mb(2 * 4 * self.n_rows(name) * self.reduced_width(name))
