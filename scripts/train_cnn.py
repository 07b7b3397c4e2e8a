"""Snakemake script for rule `train_cnn`: train the reference CNN on a catalog column."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    steps.train_model(
        smk.config,
        smk.wildcards.model,
        smk.input.images,
        smk.input.catalog,
        smk.output.model,
        smk.output.history,
        smk.output.loss,
        smk.output.metrics,
    )
