rule cluster:
    input:
        reduced=f"{R}/features/{{fs}}/reduced.zarr",
    output:
        labels=f"{R}/clustering/{{fs}}/{{job}}/labels.ecsv",
        metrics=f"{R}/clustering/{{fs}}/{{job}}/metrics.json",
    log:
        "logs/cluster/{fs}/{job}.log",
    benchmark:
        "benchmarks/cluster/{fs}/{job}.tsv"
    conda:
        "../envs/core.yaml"
    resources:
        # from the data size: affinity propagation and ward hold N×N float64 matrices
        mem_mb=lambda w, attempt: PLAN.clustering_mem_mb(w.fs, w.job) * attempt,
    params:
        job=lambda w: PLAN.jobs[w.job].params,
        seed=PLAN.seed,
    script:
        "../scripts/cluster.py"


rule plot_clustering:
    input:
        labels=f"{R}/clustering/{{fs}}/{{job}}/labels.ecsv",
        reduced=f"{R}/features/{{fs}}/reduced.zarr",
        images=images_if_any,
    output:
        summary=report(
            f"{R}/clustering/{{fs}}/{{job}}/summary.png",
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
            f"{R}/clustering/{{fs}}/{{job}}/sizes.png",
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
        report=PLAN.config["report"],
    script:
        "../scripts/plot_clustering.py"


rule dendrogram:
    input:
        labels=f"{R}/clustering/{{fs}}/{{job}}/labels.ecsv",
        reduced=f"{R}/features/{{fs}}/reduced.zarr",
        images=images_if_any,
    output:
        report(
            f"{R}/clustering/{{fs}}/{{job}}/dendrogram.png",
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
        job=r"agglomerative-k\d+",
    conda:
        "../envs/core.yaml"
    params:
        leaves=PLAN.config["report"]["dendrogram_leaves"],
    script:
        "../scripts/dendrogram.py"


rule member_pdfs:
    input:
        labels=f"{R}/clustering/{{fs}}/{{job}}/labels.ecsv",
        images=images_if_any,
    output:
        directory(f"{R}/clustering/{{fs}}/{{job}}/members"),
    log:
        "logs/member_pdfs/{fs}/{job}.log",
    benchmark:
        "benchmarks/member_pdfs/{fs}/{job}.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/member_pdfs.py"
