"""Snakemake script for rule `summary`: the run's Markdown summary."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.summary import summary  # noqa: E402

with job_log(smk.log[0], smk.output):
    summary(
        smk.params.config_hash,
        smk.input.metrics,
        smk.input.truth,
        smk.input.models,
        smk.input.quality,
        smk.output[0],
    )
