"""Snakemake script for rule `similar_sheets`: image sheets of report.similar's galaxies and their neighbours."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.similar import similar_sheets  # noqa: E402

with job_log(smk.log[0], smk.output):
    similar_sheets(
        smk.wildcards.fs,
        smk.params.ids,
        smk.params.k,
        smk.input.index,
        smk.input.images,
        smk.output[0],
    )
