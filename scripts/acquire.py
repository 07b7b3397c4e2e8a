"""Snakemake script for rule `acquire`: fetch, render or locate one batch's cutouts."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.acquire:acquire", foreground=True,
    catalog_path=smk.input.catalog, batch=smk.wildcards.batch, batch_size=smk.params.batch_size,
    source=smk.params.source, download=smk.params.download, manifest=smk.output.manifest,
    # beside the job's log: the table of failed galaxies, which Snakemake would delete with the output
    kept_on_failure=smk.log[0].removesuffix(".log") + "/cutouts.ecsv")
