"""Snakemake script for rule `neighbour_index`: index a feature set and precompute each galaxy's neighbours."""

from _run import run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.similar:neighbour_index",
    fs_name=smk.wildcards.fs, settings=smk.params.settings, reduced=smk.input.reduced,
    index_dir=smk.output.index, neighbours_out=smk.output.neighbours)
