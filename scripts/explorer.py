"""Snakemake script for rule `explorer`: the offline explorer page."""

from _run import first, run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.maps:explorer",
    fs_name=smk.params.fs, settings=smk.params.settings, seed=smk.params.seed, map_store=smk.input.map,
    neighbours=smk.input.neighbours, labels_paths=smk.input.labels, catalog_path=first(smk.input.catalog),
    image_stores=smk.input.images, out=smk.output[0])
