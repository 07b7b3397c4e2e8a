"""Snakemake script for rule `extract`: features of one batch by one extractor."""

from _run import first, run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.extract:extract",
    store=smk.wildcards.extractor, model=smk.params.model, seed=smk.params.seed,
    image_store=smk.input.images, model_path=first(smk.input.model), out=smk.output.store)
