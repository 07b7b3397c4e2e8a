"""Snakemake script for rule `reduce`: PCA of one feature set."""

from _run import first, run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.reduce:reduce",
    name=smk.wildcards.fs, fs=smk.params.settings, model=smk.params.model, view=smk.params.view,
    seed=smk.params.seed, feature_stores=smk.input.features, catalog_path=first(smk.input.catalog),
    out=smk.output.store, variance_plot=smk.output.variance, projection_dir=smk.output.projection)
