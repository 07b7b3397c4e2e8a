"""Snakemake script for rule `cluster`: one clustering job."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    steps.run_clustering(
        smk.config,
        smk.wildcards.fs,
        smk.wildcards.job,
        smk.input.reduced,
        smk.output.labels,
        smk.output.metrics,
    )
