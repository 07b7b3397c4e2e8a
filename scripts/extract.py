"""Snakemake script for rule `extract`: features of one batch by one extractor."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust import steps  # noqa: E402
from galclust.logs import job_log  # noqa: E402

with job_log(smk.log[0]):
    model = smk.input.model[0] if smk.input.model else None
    steps.extract(smk.config, smk.wildcards.extractor, smk.input.images, model, smk.output.store)
