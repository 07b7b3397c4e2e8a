"""Snakemake script for rule `quality_plot`: the k-NN / probe accuracies of every feature set, drawn."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.quality:quality_plot",
    tables=list(smk.input), out=smk.output[0])
