"""Snakemake script for rule `explorer`: the offline explorer page."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.maps import explorer  # noqa: E402

with job_log(smk.log[0], smk.output):
    explorer(
        smk.params.fs,
        smk.params.settings,
        smk.params.seed,
        smk.input.map,
        smk.input.neighbours,
        smk.input.labels,
        smk.input.catalog[0] if smk.input.catalog else None,
        smk.input.images,
        smk.output[0],
    )
