"""Snakemake script for rule `catalog`: the standardised catalog."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.catalog:catalog", foreground=True,
    settings=smk.params.settings, out=smk.output[0])
