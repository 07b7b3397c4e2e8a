"""Snakemake script for rule `acquire`: fetch, render or locate one batch's cutouts."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.acquire import acquire  # noqa: E402

with job_log(smk.log[0], smk.output):
    acquire(
        smk.input.catalog,
        smk.wildcards.batch,
        smk.params.batch_size,
        smk.params.source,
        smk.params.download,
        smk.output.manifest,
        smk.log[0].removesuffix(".log") + "/cutouts.ecsv",
    )
