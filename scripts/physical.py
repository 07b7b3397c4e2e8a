"""Snakemake script for rule `physical`: one clustering against catalog columns."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.maps import physical  # noqa: E402

with job_log(smk.log[0], smk.output):
    physical(
        smk.wildcards.fs,
        smk.wildcards.job,
        smk.params.pairs,
        smk.params.columns,
        smk.input.labels,
        smk.input.catalog[0],
        smk.output.pairs,
        smk.output.columns,
    )
