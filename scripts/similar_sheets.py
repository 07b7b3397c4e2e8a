"""Snakemake script for rule `similar_sheets`: image sheets of report.similar's galaxies and their neighbours."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.similar:similar_sheets",
    fs_name=smk.wildcards.fs, query_ids=smk.params.ids, k=smk.params.k, index_dir=smk.input.index,
    image_stores=smk.input.images, outdir=smk.output[0])
