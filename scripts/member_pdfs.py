"""Snakemake script for rule `member_pdfs`: one PDF per cluster with every member."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    title = f"{smk.wildcards.job} on {smk.wildcards.fs}: "
    steps.member_pdfs(smk.config, smk.input.labels, smk.input.images, smk.output[0], title)
