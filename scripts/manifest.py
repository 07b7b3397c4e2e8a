"""Snakemake script for rule `manifest`: what made each output."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "provenance:write_manifest",
    run_hash=smk.params.config_hash, outputs=smk.input.outputs, out=smk.output[0])
