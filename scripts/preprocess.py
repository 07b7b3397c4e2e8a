"""Snakemake script for rule `preprocess`: decode and resize one batch into its image store."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    steps.preprocess(smk.config, smk.input.manifest, smk.output.store, smk.output.report)
