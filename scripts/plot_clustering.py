"""Snakemake script for rule `plot_clustering`: example members and sizes of one clustering."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.figures import plot_clustering  # noqa: E402

with job_log(smk.log[0], smk.output):
    plot_clustering(
        smk.wildcards.fs,
        smk.wildcards.job,
        smk.params.examples,
        smk.params.seed,
        smk.input.labels,
        smk.input.reduced,
        smk.input.images,
        smk.output.summary,
        smk.output.sizes,
    )
