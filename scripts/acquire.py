"""Snakemake script for rule `acquire`: fetch, render or locate one batch's cutouts."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    steps.acquire(smk.config, smk.wildcards.batch, smk.output.manifest)
