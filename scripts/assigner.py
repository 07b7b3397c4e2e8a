"""Snakemake script for rule `assigner`: save what places new galaxies into one clustering."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.assign import assigner  # noqa: E402

with job_log(smk.log[0]):
    assigner(
        smk.wildcards.fs,
        smk.wildcards.job,
        smk.params.job["method"],
        smk.params.job["settings"],
        smk.params.settings,
        smk.params.seed,
        smk.input.reduced,
        smk.input.labels,
        smk.input.index,
        smk.output[0],
    )
