"""Snakemake script for rule `elbow_eigengap`: k-means elbow and spectral eigengap of a feature set."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.figures:elbow_eigengap",
    fs_name=smk.wildcards.fs, metrics_files=smk.input.metrics, elbow_plot=smk.output.elbow,
    eigengap_plot=smk.output.eigengap, information_plot=smk.output.information)
