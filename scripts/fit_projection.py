"""Snakemake script for rule `fit_projection`: z-scoring and PCA of a projected feature set."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.projected import fit_projection  # noqa: E402

with job_log(smk.log[0], smk.output):
    fit_projection(
        smk.wildcards.fs,
        smk.params.settings,
        smk.params.model,
        smk.input.features,
        smk.output.projection,
        smk.output.variance,
    )
