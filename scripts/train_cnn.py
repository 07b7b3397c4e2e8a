"""Snakemake script for rule `train_cnn`: train the reference CNN on a catalog column."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust import steps  # noqa: E402
from galclust.logs import job_log  # noqa: E402

with job_log(smk.log[0]):
    steps.train_model(
        smk.config,
        smk.wildcards.model,
        smk.input.images,
        smk.output.model,
        smk.output.history,
        smk.output.loss,
        smk.output.metrics,
    )
