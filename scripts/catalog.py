"""Snakemake script for rule `catalog`: write the standardised catalog."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    steps.write_catalog(smk.config, smk.output[0])
