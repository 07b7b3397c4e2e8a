"""What the Snakefile needs at parse time: the validated config, batches, targets, params.

Kept light (no TensorFlow import): Snakemake parses the Snakefile for every job. Every path
comes from :mod:`galclust.paths`; every method, extractor and source from its registry. One
module per concern, each class building on the one below:

- :mod:`.layout`: what the config says the run is made of (feature sets, stores, models, jobs);
- :mod:`.facts`: what only the catalog and the user's files tell, measured once per run;
- :mod:`.galaxies`: batches, galaxies per feature set, projected storage, row digests;
- :mod:`.params`: each rule's params, model inputs and memory;
- :mod:`.targets`: the planned jobs and the report's choices;
- :mod:`.validate`: the checks before any job.
"""

from __future__ import annotations

from typing import Any

from ..config import validate_config
from .facts import CatalogFacts
from .params import RuleParams
from .targets import Targets
from .validate import Checks

__all__ = ["CatalogFacts", "Plan"]


class Plan(Checks, RuleParams, Targets):
    """The workflow's plan for one config: which batches, feature sets and clusterings.

    The config is validated here, once per parse (defaults filled, one line naming a bad key);
    ``check_files`` False trusts the model files the submitting parse checked (a job's parse)."""

    def __init__(self, config: dict[str, Any], check_files: bool = True) -> None:
        super().__init__(validate_config(config, check_files))
