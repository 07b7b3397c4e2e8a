"""Snakemake script for rule `cluster`: one clustering job."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.cluster import cluster  # noqa: E402

with job_log(smk.log[0], smk.output):
    cluster(
        smk.wildcards.fs,
        smk.wildcards.job,
        smk.params.job["method"],
        smk.params.job["settings"],
        smk.params.seed,
        smk.input.reduced,
        smk.output.labels,
        smk.output.metrics,
    )
