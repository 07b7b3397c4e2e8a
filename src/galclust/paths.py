"""Every output path of the workflow, written once.

The rules take their ``output:`` from these templates and chain their inputs through
``rules.X.output``; :class:`galclust.workflow.Plan` fills the same templates to list
targets. Wildcards: ``batch`` (b0000...), ``extractor`` (a feature store: an extractor or
model name, ``-d4`` with dihedral averaging), ``model``, ``fs`` (a feature set), ``job``
(a clustering, e.g. ``kmeans-k10``).
"""

from __future__ import annotations

RESULTS = "results"

CATALOG = f"{RESULTS}/catalog.ecsv"

BATCH = f"{RESULTS}/batches/{{batch}}"
CUTOUTS = f"{BATCH}/cutouts.ecsv"
IMAGES = f"{BATCH}/images.zarr"
PREPROCESS_REPORT = f"{BATCH}/preprocess.ecsv"
FEATURE_STORE = f"{BATCH}/features/{{extractor}}.zarr"
# features.<fs>.store: projected: the raw layer of the first batches only (temporary), then
# each batch's projected features
FIT_SAMPLE_STORE = f"{BATCH}/fit_sample/{{extractor}}.zarr"
PROJECTED_BATCH = f"{BATCH}/projected/{{fs}}.zarr"

MODEL_DIR = f"{RESULTS}/models/{{model}}"
MODEL = f"{MODEL_DIR}/model.keras"
MODEL_HISTORY = f"{MODEL_DIR}/history.tsv"
MODEL_LOSS = f"{MODEL_DIR}/loss.png"
MODEL_METRICS = f"{MODEL_DIR}/metrics.json"
#: the model card (galclust.modelcard): what another run needs to use model.keras by path
MODEL_CARD = f"{MODEL_DIR}/model.card.json"

FEATURE_SET = f"{RESULTS}/features/{{fs}}"
REDUCED = f"{FEATURE_SET}/reduced.zarr"
PROJECTION = f"{FEATURE_SET}/projection"
INDEX = f"{FEATURE_SET}/index"
NEIGHBOURS = f"{FEATURE_SET}/neighbours.zarr"
SIMILAR = f"{FEATURE_SET}/similar"
VARIANCE = f"{FEATURE_SET}/variance.png"
ELBOW = f"{FEATURE_SET}/elbow.png"
EIGENGAP = f"{FEATURE_SET}/eigengap.png"
INFORMATION = f"{FEATURE_SET}/information.png"
QUALITY = f"{FEATURE_SET}/quality.tsv"
MAP = f"{FEATURE_SET}/map.zarr"
CLUSTER_MAP = f"{FEATURE_SET}/cluster_map.png"
TRUTH_MAP = f"{FEATURE_SET}/truth_map.png"
THUMBNAIL_MAP = f"{FEATURE_SET}/thumbnail_map.png"

CLUSTERING = f"{RESULTS}/clustering/{{fs}}/{{job}}"
LABELS = f"{CLUSTERING}/labels.ecsv"
CLUSTER_METRICS = f"{CLUSTERING}/metrics.json"
CLUSTER_SUMMARY = f"{CLUSTERING}/summary.png"
CLUSTER_SIZES = f"{CLUSTERING}/sizes.png"
DENDROGRAM = f"{CLUSTERING}/dendrogram.png"
MEMBERS = f"{CLUSTERING}/members"
PHYSICAL_PAIRS = f"{CLUSTERING}/physical_pairs.png"
PHYSICAL_COLUMNS = f"{CLUSTERING}/physical_columns.png"

# placing new galaxies into a finished reference run's clusterings (assign.reference)
PROJECTED = f"{RESULTS}/assigned/{{fs}}/projected.zarr"
ASSIGNED = f"{RESULTS}/assigned/{{fs}}/{{job}}/assigned.ecsv"

COMPARISON = f"{RESULTS}/comparison"
PAIRWISE = f"{COMPARISON}/pairwise.tsv"
ARI = f"{COMPARISON}/ari.png"
AMI = f"{COMPARISON}/ami.png"
TRUTH = f"{COMPARISON}/truth.tsv"
TRUTH_PLOT = f"{COMPARISON}/truth.png"
QUALITY_PLOT = f"{COMPARISON}/quality.png"
VIEWS = f"{COMPARISON}/views.png"

EXPLORER = f"{RESULTS}/explorer/index.html"

SUMMARY = f"{RESULTS}/summary.md"
MANIFEST = f"{RESULTS}/manifest.json"

#: what the parse that plans a run measured in the catalog (galclust.workflow.facts), for the
#: jobs' own parses; beside Snakemake's records, named by the config's hash
PLAN_FACTS = ".snakemake/galclust/facts-{hash}.json"


def fill(template: str, **wildcards: str) -> str:
    """A template with its wildcards filled: ``fill(LABELS, fs="pixels", job="kmeans-k6")``."""
    return template.format(**wildcards)
