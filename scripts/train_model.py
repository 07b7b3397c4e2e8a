"""Snakemake script for rule `train_model`: train a network on the leading batches."""

import sys

smk = snakemake  # noqa: F821 (injected by Snakemake)
# galclust from this checkout, also inside per-rule conda environments.
sys.path.insert(0, f"{smk.scriptdir}/../src")

from galclust.logs import job_log  # noqa: E402
from galclust.stages.train import train_model  # noqa: E402

with job_log(smk.log[0], smk.output):
    train_model(
        smk.wildcards.model,
        smk.params.kind,
        smk.params.train,
        smk.params.seed,
        smk.input.images,
        smk.input.catalog,
        smk.output.model,
        smk.output.history,
        smk.output.loss,
        smk.output.metrics,
        monitor=smk.params.monitor,
        card_out=smk.output.card,
        preprocess=smk.params.preprocess,
        layers=smk.params.layers,
        credits=smk.params.credits,
    )
