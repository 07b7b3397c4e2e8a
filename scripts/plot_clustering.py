"""Snakemake script for rule `plot_clustering`: example members and sizes of one clustering."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.figures:plot_clustering",
    fs_name=smk.wildcards.fs, job_name=smk.wildcards.job, n_examples=smk.params.examples,
    seed=smk.params.seed, labels_path=smk.input.labels, reduced=smk.input.reduced, image_stores=smk.input.images,
    summary=smk.output.summary, sizes=smk.output.sizes)
