"""Snakemake script for rule `project`: this run's features through the reference run's projection."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.assign import project  # noqa: E402

with job_log(smk.log[0], smk.output):
    project(
        smk.wildcards.fs,
        smk.params.settings,
        smk.params.model,
        smk.params.view,
        smk.input.features,
        smk.input.projection,
        smk.input.reference,
        smk.input.reference_parent,
        smk.output.store,
    )
