"""Snakemake script for rule `fit_projection`: z-scoring and PCA of a projected feature set."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.projected:fit_projection",
    name=smk.wildcards.fs, fs=smk.params.settings, model=smk.params.model,
    sample_stores=smk.input.features, projection_dir=smk.output.projection, variance_plot=smk.output.variance)
