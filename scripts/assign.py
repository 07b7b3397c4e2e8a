"""Snakemake script for rule `assign`: new galaxies into one reference clustering."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.assign:assign",
    fs_name=smk.wildcards.fs, job=smk.params.job, settings=smk.params.settings, seed=smk.params.seed,
    reference_reduced=smk.input.reduced, reference_labels=smk.input.labels, reference_index=smk.input.index,
    projected=smk.input.projected, out=smk.output[0])
