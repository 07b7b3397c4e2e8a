# galclust: group galaxy images by what they look like.
#   snakemake --cores 8                 (workstation)
#   snakemake --profile slurm           (SLURM cluster)
import os
import sys

from snakemake.utils import min_version

min_version("9.0")

# The logic lives in the galclust package (src/); scripts/ import it from there too.
sys.path.insert(0, os.path.join(workflow.basedir, "src"))


# config.yaml is the default; a config given with --configfile replaces it (no merging).
if not config:

    configfile: "config.yaml"


# The config is validated once, by galclust.workflow.Plan (rules/common.smk): against the
# schema with the plugins' blocks, filling defaults, stopping with one line naming the bad key.


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/targets.smk"
include: "rules/acquire.smk"
include: "rules/features.smk"
include: "rules/projected.smk"
include: "rules/cluster.smk"
include: "rules/use.smk"
include: "rules/views.smk"
include: "rules/aggregate.smk"


rule all:
    default_target: True
    input:
        run_outputs,
        rules.manifest.output,
