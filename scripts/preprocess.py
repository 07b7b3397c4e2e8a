"""Snakemake script for rule `preprocess`: decode, find the galaxy, resize one batch."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.preprocess import preprocess  # noqa: E402

with job_log(smk.log[0], smk.output):
    preprocess(
        smk.input.manifest,
        smk.output.store,
        smk.output.report,
        smk.params.settings,
        smk.params.read_options,
    )
