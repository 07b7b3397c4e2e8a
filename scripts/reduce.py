"""Snakemake script for rule `reduce`: PCA of one feature set."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    steps.reduce(
        smk.config, smk.wildcards.fs, smk.input.features, smk.output.store, smk.output.variance
    )
