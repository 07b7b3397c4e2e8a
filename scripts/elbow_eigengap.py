"""Snakemake script for rule `elbow_eigengap`: k-means elbow and spectral eigengap of a feature set."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.figures import elbow_eigengap  # noqa: E402

with job_log(smk.log[0], smk.output):
    elbow_eigengap(
        smk.wildcards.fs,
        smk.input.metrics,
        smk.output.elbow,
        smk.output.eigengap,
        smk.output.information,
    )
