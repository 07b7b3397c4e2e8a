"""Snakemake script for rule `dendrogram`: dendrogram of an agglomerative clustering."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    steps.dendrogram(
        smk.config,
        smk.wildcards.fs,
        smk.input.labels,
        smk.input.reduced,
        smk.input.images,
        smk.output[0],
    )
