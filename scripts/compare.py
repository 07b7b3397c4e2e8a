"""Snakemake script for rule `compare`: ARI/AMI between clusterings and against the truth."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.compare import compare  # noqa: E402

with job_log(smk.log[0], smk.output):
    compare(
        smk.params.truth,
        smk.input.labels,
        smk.input.catalog[0] if smk.input.catalog else None,
        smk.output.pairwise,
        smk.output.ari,
        smk.output.ami,
        smk.output.truth,
        smk.output.truth_plot,
        smk.params.families,
        smk.output.views,
    )
