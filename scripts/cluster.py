"""Snakemake script for rule `cluster`: one clustering job."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.cluster:cluster",
    fs_name=smk.wildcards.fs, job=smk.params.job, seed=smk.params.seed, reduced=smk.input.reduced,
    labels_out=smk.output.labels, metrics_out=smk.output.metrics)
