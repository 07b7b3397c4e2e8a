"""Snakemake script for rule `assign`: new galaxies into one reference clustering."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.assign import assign  # noqa: E402

with job_log(smk.log[0], smk.output):
    assign(
        smk.wildcards.fs,
        smk.wildcards.job,
        smk.params.job["method"],
        smk.params.job["settings"],
        smk.params.settings,
        smk.params.seed,
        smk.input.reduced,
        smk.input.labels,
        smk.input.index,
        smk.input.projected,
        smk.output[0],
    )
