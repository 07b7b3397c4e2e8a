from galclust import paths
from galclust.workflow import Plan

# Validates the config (one line naming the key on error) and plans batches and targets; a job's
# own parse trusts the model files (layers, SHA-256) that the submitting parse checked.
PLAN = Plan(config, check_files=workflow.is_main_process)
# What only the catalog, the user's files and a reference run can tell is measured and checked
# before any job by the parse that plans the run, and kept in .snakemake/galclust/ for the jobs'
# own parses (a SLURM job: `--mode remote`), which trust it and never read the catalog.
if workflow.is_main_process:
    PLAN.check()
    PLAN.check_reference()
    PLAN.write_facts()
else:
    PLAN.read_facts()


wildcard_constraints:
    batch=r"b[0-9][0-9][0-9][0-9]+",
    extractor=r"[A-Za-z][A-Za-z0-9_]*(?:-d4)?",
    model=r"[A-Za-z][A-Za-z0-9_]*",
    fs=r"[A-Za-z][A-Za-z0-9_]*",
    job=r"[a-z_]+-[a-z]+(?:[0-9.]+|auto)",


def feature_stores(wildcards):
    """The per-batch stores a feature set reads (its user file for `extractor: file`, the
    reduced store of the feature set it is a view of)."""
    fs = PLAN.features[wildcards.fs]
    if "from" in fs:
        return expand(rules.reduce.output.store, fs=PLAN.parents(wildcards.fs))
    if not PLAN.has_images(wildcards.fs):
        return PLAN.feature_inputs(wildcards.fs)
    return expand(
        rules.extract.output.store,
        batch=PLAN.batches,
        extractor=PLAN.store_name(wildcards.fs),
    )


def images_if_any(wildcards):
    """Image stores for feature sets computed from images; none for user features."""
    if not PLAN.has_images(wildcards.fs):
        return []
    return expand(rules.preprocess.output.store, batch=PLAN.batches)


def catalog_if(needed):
    """The catalog table as an input where a job reads catalog columns."""
    return rules.catalog.output if needed and PLAN.needs_images else []


def clustering_outputs(output, jobs=None):
    """One output of rule `cluster` (or a rule after it) for every feature set and job."""
    return [
        output.format(fs=fs, job=job)
        for fs in PLAN.features
        for job in PLAN.jobs_for(fs, jobs)
    ]
