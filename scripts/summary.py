"""Snakemake script for rule `summary`: the run's Markdown summary."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    steps.summarise(smk.config, smk.input.metrics, smk.input.truth, smk.input.models, smk.output[0])
