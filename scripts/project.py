"""Snakemake script for rule `project`: this run's features through the reference run's projection."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.assign:project",
    fs_name=smk.wildcards.fs, fs=smk.params.settings, model=smk.params.model, view=smk.params.view,
    inputs=smk.input.features, projection_dir=smk.input.projection, reference_reduced=smk.input.reference,
    reference_parents=smk.input.reference_parent, out=smk.output.store)
