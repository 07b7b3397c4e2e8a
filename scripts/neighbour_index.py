"""Snakemake script for rule `neighbour_index`: index a feature set and precompute each galaxy's neighbours."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.similar import neighbour_index  # noqa: E402

with job_log(smk.log[0], smk.output):
    neighbour_index(
        smk.wildcards.fs,
        smk.params.settings,
        smk.input.reduced,
        smk.output.index,
        smk.output.neighbours,
    )
