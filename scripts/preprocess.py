"""Snakemake script for rule `preprocess`: decode, find the galaxy, resize one batch."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.preprocess:preprocess", foreground=True,
    manifest=smk.input.manifest, store=smk.output.store, report=smk.output.report,
    settings=smk.params.settings, read_options=smk.params.read_options)
