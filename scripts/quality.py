"""Snakemake script for rule `quality`: k-NN and linear-probe accuracy against the truth."""

from _run import first, run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.quality:quality",
    fs_name=smk.wildcards.fs, truth=smk.params.truth, seed=smk.params.seed, reduced=smk.input.reduced,
    catalog_path=first(smk.input.catalog), out=smk.output[0])
