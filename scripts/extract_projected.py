"""Snakemake script for rule `extract_projected`: one batch's projected features of a feature set."""

from _run import first, run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.projected:extract_projected",
    store=smk.params.store, fs=smk.params.settings, model=smk.params.model, seed=smk.params.seed,
    image_store=smk.input.images, model_path=first(smk.input.model), projection_dir=smk.input.projection,
    dtype=smk.params.dtype, out=smk.output.store)
