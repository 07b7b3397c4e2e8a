from galclust.config import config_hash
from galclust.workflow import Plan

# Validates the config (one line naming the key on error) and plans batches and targets.
PLAN = Plan(config)
R = "results"


wildcard_constraints:
    batch=r"b[0-9][0-9][0-9][0-9]+",
    extractor=r"[A-Za-z][A-Za-z0-9_]*(?:-d4)?",
    model=r"[A-Za-z][A-Za-z0-9_]*",
    fs=r"[A-Za-z][A-Za-z0-9_]*",
    job=r"[a-z_]+-[a-z]+[0-9.]+",


def image_stores(wildcards=None):
    return [f"{R}/batches/{b}/images.zarr" for b in PLAN.batches]


def training_stores(wildcards):
    """The first batches, up to train.max_galaxies: appending galaxies never retrains."""
    return image_stores()[: PLAN.training_batches(wildcards.model)]


def feature_stores(wildcards):
    fs = PLAN.features[wildcards.fs]
    if fs["extractor"] == "file":
        return [fs["file"]]
    store = PLAN.store_name(wildcards.fs)
    return [f"{R}/batches/{b}/features/{store}.zarr" for b in PLAN.batches]


def images_if_any(wildcards):
    """Image stores for feature sets computed from images; none for user features."""
    if PLAN.features[wildcards.fs]["extractor"] == "file":
        return []
    return image_stores()


def model_input(wildcards):
    return PLAN.model_inputs(PLAN.split_store_name(wildcards.extractor)[0])


def all_labels(wildcards=None):
    return [f"{d}/labels.ecsv" for d in PLAN.clustering_dirs()]


def all_metrics(wildcards=None):
    return [f"{d}/metrics.json" for d in PLAN.clustering_dirs()]
