"""Snakemake script for rule `member_pdfs`: one PDF per cluster with every member."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.figures:member_pdfs",
    labels_path=smk.input.labels, image_stores=smk.input.images, outdir=smk.output[0],
    title_prefix=f"{smk.wildcards.job} on {smk.wildcards.fs}: ")
