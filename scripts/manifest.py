"""Snakemake script for rule `manifest`: what made each output."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.provenance import write_manifest  # noqa: E402

with job_log(smk.log[0], smk.output):
    write_manifest(smk.params.config_hash, smk.input.outputs, smk.output[0])
