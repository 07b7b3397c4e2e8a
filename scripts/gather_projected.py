"""Snakemake script for rule `gather_projected`: a projected feature set's batches as its reduced store."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.projected import gather_projected  # noqa: E402

with job_log(smk.log[0], smk.output):
    gather_projected(
        smk.wildcards.fs,
        smk.params.settings,
        smk.input.features,
        smk.input.projection,
        smk.output.store,
    )
