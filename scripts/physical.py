"""Snakemake script for rule `physical`: one clustering against catalog columns."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.maps:physical",
    fs_name=smk.wildcards.fs, job_name=smk.wildcards.job, pairs=smk.params.pairs,
    columns=smk.params.columns, labels_path=smk.input.labels, catalog_path=smk.input.catalog[0],
    pairs_out=smk.output.pairs, columns_out=smk.output.columns)
