# What the run makes, from the rules' own outputs: `rule all` and the manifest expand each
# rule's output with the wildcards of its planned jobs (Plan.planned_jobs).


def run_outputs(wildcards=None):
    """Every output of every planned job (what results/manifest.json describes)."""
    return [
        path
        for rule, jobs in PLAN.planned_jobs().items()
        for w in jobs
        # str(): the templates without their flags (directory, report, ancient)
        for path in expand([str(t) for t in getattr(rules, rule).output], **w)
    ]
