"""Snakemake script for rule `elbow_eigengap`: k-means elbow and spectral eigengap plots."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    steps.elbow_and_eigengap(
        smk.config, smk.wildcards.fs, smk.input.metrics, smk.output.elbow, smk.output.eigengap
    )
