"""Snakemake script for rule `reduce`: PCA of one feature set."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.reduce import reduce  # noqa: E402

with job_log(smk.log[0], smk.output):
    reduce(
        smk.wildcards.fs,
        smk.params.settings,
        smk.params.model,
        smk.params.view,
        smk.params.seed,
        smk.input.features,
        smk.input.catalog[0] if smk.input.catalog else None,
        smk.output.store,
        smk.output.variance,
        smk.output.projection,
    )
