# galclust: group galaxy images by what they look like.
#   snakemake --cores 8                 (workstation)
#   snakemake --profile slurm           (SLURM cluster)
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# The logic lives in the galclust package (src/); jobs import it from here too.
GALCLUST_SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, GALCLUST_SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (GALCLUST_SRC, os.environ.get("PYTHONPATH")) if p
)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# config.yaml is the default; a config given with --configfile replaces it (no merging).
if not config:

    configfile: "config.yaml"


# galclust's validator first: it fills defaults and stops with one line naming the bad key;
# Snakemake's own validation of the same schema then records it the usual way.
from galclust.config import validate_config

validate_config(config)
validate(config, "src/galclust/schemas/config.schema.yaml")


include: "rules/common.smk"
include: "rules/acquire.smk"
include: "rules/features.smk"
include: "rules/cluster.smk"
include: "rules/aggregate.smk"


rule all:
    input:
        PLAN.final_targets(),
    default_target: True
