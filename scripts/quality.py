"""Snakemake script for rule `quality`: k-NN and linear-probe accuracy against the truth."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.quality import quality  # noqa: E402

with job_log(smk.log[0], smk.output):
    quality(
        smk.wildcards.fs,
        smk.params.truth,
        smk.params.seed,
        smk.input.reduced,
        smk.input.catalog[0] if smk.input.catalog else None,
        smk.output[0],
    )
