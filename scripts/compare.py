"""Snakemake script for rule `compare`: ARI/AMI between clusterings and against the truth."""

from _run import first, run  # scripts/_run.py: galclust from this checkout, the job's log

smk = snakemake  # noqa: F821 (injected by Snakemake)
run(smk, "stages.compare:compare",
    truth_cols=smk.params.truth, labels_paths=smk.input.labels, catalog_path=first(smk.input.catalog),
    pairwise_table=smk.output.pairwise, ari_plot=smk.output.ari, ami_plot=smk.output.ami,
    truth_table=smk.output.truth, truth_plot=smk.output.truth_plot, families=smk.params.families,
    views_plot=smk.output.views, threads=smk.threads)
