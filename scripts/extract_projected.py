"""Snakemake script for rule `extract_projected`: one batch's projected features of a feature set."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.projected import extract_projected  # noqa: E402

with job_log(smk.log[0], smk.output):
    extract_projected(
        smk.params.store,
        smk.params.settings,
        smk.params.model,
        smk.params.seed,
        smk.input.images,
        smk.input.model[0] if smk.input.model else None,
        smk.input.projection,
        smk.params.dtype,
        smk.output.store,
    )
