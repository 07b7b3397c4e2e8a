"""Snakemake script for rule `extract`: features of one batch by one extractor."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    model = smk.input.model[0] if smk.input.model else None
    steps.extract(smk.config, smk.wildcards.extractor, smk.input.images, model, smk.output.store)
