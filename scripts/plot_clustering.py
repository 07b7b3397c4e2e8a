"""Snakemake script for rule `plot_clustering`: summary and size figures of one clustering."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    steps.plot_clustering(
        smk.config,
        smk.wildcards.fs,
        smk.wildcards.job,
        smk.input.labels,
        smk.input.reduced,
        smk.input.images,
        smk.output.summary,
        smk.output.sizes,
    )
