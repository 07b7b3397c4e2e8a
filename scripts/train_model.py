"""Snakemake script for rule `train_model`: train a network on the leading batches."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.train:train_model", foreground=True,
    model_name=smk.wildcards.model, kind=smk.params.kind, settings=smk.params.train,
    seed=smk.params.seed, image_stores=smk.input.images, catalog_path=smk.input.catalog,
    model_out=smk.output.model, history_out=smk.output.history, loss_plot=smk.output.loss,
    metrics_out=smk.output.metrics, monitor=smk.params.monitor, card_out=smk.output.card,
    preprocess=smk.params.preprocess, layers=smk.params.layers, credits=smk.params.credits)
