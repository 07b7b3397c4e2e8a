"""Snakemake script for rule `member_pdfs`: one PDF per cluster with every member."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.figures import member_pdfs  # noqa: E402

with job_log(smk.log[0], smk.output):
    title = f"{smk.wildcards.job} on {smk.wildcards.fs}: "
    member_pdfs(smk.input.labels, smk.input.images, smk.output[0], title)
