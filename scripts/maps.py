"""Snakemake script for rule `maps`: a feature set's 2-D map with its clusterings, truth and thumbnails."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.maps import maps  # noqa: E402

with job_log(smk.log[0], smk.output):
    maps(
        smk.wildcards.fs,
        smk.params.settings,
        smk.params.seed,
        smk.params.truth,
        smk.input.reduced,
        smk.input.labels,
        smk.input.catalog[0] if smk.input.catalog else None,
        smk.input.images,
        smk.output.map,
        smk.output.clusters,
        smk.output.truth,
        smk.output.thumbnails,
    )
