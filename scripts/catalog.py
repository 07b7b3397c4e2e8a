"""Snakemake script for rule `catalog`: the standardised catalog."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.catalog import catalog  # noqa: E402

with job_log(smk.log[0], smk.output):
    catalog(smk.params.settings, smk.output[0])
