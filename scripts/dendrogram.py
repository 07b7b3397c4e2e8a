"""Snakemake script for rule `dendrogram`: the ward tree with example images."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.figures import dendrogram  # noqa: E402

with job_log(smk.log[0], smk.output):
    dendrogram(
        smk.wildcards.fs,
        smk.params.leaves,
        smk.params.seed,
        smk.input.labels,
        smk.input.reduced,
        smk.input.images,
        smk.output[0],
        smk.params.settings,
        smk.params.method,
    )
