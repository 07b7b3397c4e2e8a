"""What can only be checked against the catalog, the user's files, the machine and a reference
run, before any job: run by the parse that plans the run (``rules/common.smk``); a job's own
parse trusts it. The config itself is validated by :func:`galclust.config.validate_config`."""

from __future__ import annotations

import os
from pathlib import Path

from .. import paths
from ..errors import ConfigError
from ..methods import METHODS
from ..methods._scale import check_method_fits
from .galaxies import Galaxies
from .params import MB


class Checks(Galaxies):
    """The checks before any job."""

    def check(self) -> None:
        """Truth and report columns exist, every feature set has enough galaxies for its
        clusterings, results/ is writable, and no feature set asks for more PCA components than
        it has galaxies or columns."""
        columns = self.facts.columns if self.needs_images else None
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

    def max_mem_bytes(self) -> int:
        """The memory one job may use: ``max_mem_mb``, else this machine's physical memory."""
        if self.config["max_mem_mb"]:
            return int(self.config["max_mem_mb"]) * MB
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))

    @staticmethod
    def _check_writable() -> None:
        """results/ (or the folder it will be made in) must be writable before any job starts."""
        target = Path(paths.RESULTS)
        while not target.exists() and target != target.parent:
            target = target.parent
        if not os.access(target, os.W_OK):
            raise ConfigError(f"{paths.RESULTS}: not writable ({target.resolve()} is read-only for this user)")

    def check_reference(self) -> None:
        """Everything the reference run must provide, checked before any job."""
        if self.reference is None:
            return
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
