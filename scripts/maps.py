"""Snakemake script for rule `maps`: a feature set's 2-D map with its clusterings, truth and thumbnails."""

from _run import first, run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.maps:maps",
    fs_name=smk.wildcards.fs, settings=smk.params.settings, seed=smk.params.seed, truth=smk.params.truth,
    reduced=smk.input.reduced, labels_paths=smk.input.labels, catalog_path=first(smk.input.catalog),
    image_stores=smk.input.images, map_out=smk.output.map, cluster_map=smk.output.clusters,
    truth_map=smk.output.truth, thumbnail_map=smk.output.thumbnails)
