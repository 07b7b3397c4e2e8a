"""Snakemake script for rule `dendrogram`: the ward tree with example images."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.figures:dendrogram",
    fs_name=smk.wildcards.fs, n_leaves=smk.params.leaves, seed=smk.params.seed,
    labels_path=smk.input.labels, reduced=smk.input.reduced, image_stores=smk.input.images, out=smk.output[0],
    method=smk.params.method, settings=smk.params.settings)
