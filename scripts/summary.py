"""Snakemake script for rule `summary`: the run's Markdown summary."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.summary:summary",
    metrics_files=smk.input.metrics, truth_table=smk.input.truth, model_metrics=smk.input.models,
    quality_tables=smk.input.quality, out=smk.output[0])
