"""Snakemake script for rule `compare`: ARI/AMI between clusterings and against the truth."""

from galclust import steps
from galclust.logs import job_log

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(smk.log[0]):
    catalog = smk.input.catalog[0] if smk.input.catalog else None
    steps.compare(
        smk.config,
        smk.input.labels,
        catalog,
        smk.output.pairwise,
        smk.output.ari,
        smk.output.ami,
        smk.output.truth,
        smk.output.truth_plot,
    )
