"""Snakemake script for rule `gather_projected`: a projected feature set's batches as its reduced store."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.projected:gather_projected",
    name=smk.wildcards.fs, fs=smk.params.settings, batch_stores=smk.input.features,
    projection_dir=smk.input.projection, out=smk.output.store)
