"""Snakemake script for rule `quality_plot`: the k-NN / probe accuracies of every feature set, drawn."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.quality import quality_plot  # noqa: E402

with job_log(smk.log[0], smk.output):
    quality_plot(list(smk.input), smk.output[0])
