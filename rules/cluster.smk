rule cluster:
    input:
        reduced=rules.reduce.output.store,
    output:
        labels=paths.LABELS,
        metrics=paths.CLUSTER_METRICS,
    log:
        "logs/cluster/{fs}/{job}.log",
    benchmark:
        "benchmarks/cluster/{fs}/{job}.tsv"
    priority: 1
    conda:
        "../envs/core.yaml"
    resources:
        # the method's own prediction for N galaxies and d features (its route included)
        mem_mb=lambda w, attempt: PLAN.clustering_mem_mb(w.fs, w.job) * attempt,
    params:
        job=lambda w: PLAN.cluster_params(w.job),
        seed=PLAN.seed,
    script:
        "../scripts/cluster.py"


rule plot_clustering:
    input:
        labels=rules.cluster.output.labels,
        reduced=rules.reduce.output.store,
        images=images_if_any,
    output:
        summary=report(
            paths.CLUSTER_SUMMARY,
            caption="../report/summary.rst",
            category="Clusters",
            subcategory="{fs}",
            labels={
                "feature set": "{fs}",
                "clustering": "{job}",
                "figure": "examples",
            },
        ),
        sizes=report(
            paths.CLUSTER_SIZES,
            caption="../report/sizes.rst",
            category="Clusters",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "clustering": "{job}", "figure": "sizes"},
        ),
    log:
        "logs/plot_clustering/{fs}/{job}.log",
    benchmark:
        "benchmarks/plot_clustering/{fs}/{job}.tsv"
    conda:
        "../envs/core.yaml"
    params:
        examples=PLAN.config["report"]["summary_examples"],
        seed=PLAN.seed,
    script:
        "../scripts/plot_clustering.py"


rule dendrogram:
    input:
        labels=rules.cluster.output.labels,
        reduced=rules.reduce.output.store,
        images=images_if_any,
    output:
        report(
            paths.DENDROGRAM,
            caption="../report/dendrogram.rst",
            category="Dendrograms",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "clustering": "{job}"},
        ),
    log:
        "logs/dendrogram/{fs}/{job}.log",
    benchmark:
        "benchmarks/dendrogram/{fs}/{job}.tsv"
    wildcard_constraints:
        # the jobs of methods that draw a tree (Method.dendrogram)
        job=PLAN.jobs_pattern(PLAN.jobs_with("dendrogram")),
    conda:
        "../envs/core.yaml"
    params:
        leaves=PLAN.config["report"]["dendrogram_leaves"],
        seed=PLAN.seed,
        # its route and micro-clusters at scale are the clustering's own
        settings=lambda w: PLAN.jobs[w.job].params,
        method=lambda w: PLAN.jobs[w.job].method,
    script:
        "../scripts/dendrogram.py"


rule member_pdfs:
    input:
        labels=rules.cluster.output.labels,
        images=images_if_any,
    output:
        directory(paths.MEMBERS),
    log:
        "logs/member_pdfs/{fs}/{job}.log",
    benchmark:
        "benchmarks/member_pdfs/{fs}/{job}.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/member_pdfs.py"
