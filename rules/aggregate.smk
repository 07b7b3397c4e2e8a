rule elbow_eigengap:
    input:
        # only the clusterings these plots read, so other branches never redraw them
        metrics=lambda w: [
            f"{R}/clustering/{w.fs}/{job}/metrics.json"
            for job in PLAN.jobs_of("kmeans") + PLAN.jobs_of("spectral")
        ],
    output:
        elbow=report(
            f"{R}/features/{{fs}}/elbow.png",
            caption="../report/elbow.rst",
            category="Feature sets",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "figure": "k-means elbow"},
        ),
        eigengap=report(
            f"{R}/features/{{fs}}/eigengap.png",
            caption="../report/eigengap.rst",
            category="Feature sets",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "figure": "spectral eigengap"},
        ),
    log:
        "logs/elbow_eigengap/{fs}.log",
    benchmark:
        "benchmarks/elbow_eigengap/{fs}.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/elbow_eigengap.py"


rule compare:
    input:
        labels=all_labels,
        catalog=[f"{R}/catalog.ecsv"] if PLAN.needs_images else [],
    output:
        pairwise=f"{R}/comparison/pairwise.tsv",
        ari=report(
            f"{R}/comparison/ari.png",
            caption="../report/ari.rst",
            category="Comparison",
            subcategory="between clusterings",
            labels={"figure": "adjusted Rand index (ARI)"},
        ),
        ami=report(
            f"{R}/comparison/ami.png",
            caption="../report/ami.rst",
            category="Comparison",
            subcategory="between clusterings",
            labels={"figure": "adjusted mutual information (AMI)"},
        ),
        truth=f"{R}/comparison/truth.tsv",
        truth_plot=report(
            f"{R}/comparison/truth.png",
            caption="../report/truth.rst",
            category="Comparison",
            subcategory="against the truth",
            labels={"figure": "ARI and AMI against the catalog's truth"},
        ),
    log:
        "logs/compare.log",
    benchmark:
        "benchmarks/compare.tsv"
    conda:
        "../envs/core.yaml"
    params:
        truth=PLAN.config["catalog"]["truth"],
    script:
        "../scripts/compare.py"


rule summary:
    input:
        metrics=all_metrics,
        truth=f"{R}/comparison/truth.tsv",
        models=[f"{R}/models/{m}/metrics.json" for m in PLAN.trained_models()],
        plots=[f"{R}/features/{fs}/elbow.png" for fs in PLAN.features],
        ari=f"{R}/comparison/ari.png",
        dendrograms=[
            f"{R}/clustering/{fs}/{job}/dendrogram.png"
            for fs in PLAN.features
            for job in PLAN.jobs_of("agglomerative")
        ],
    output:
        f"{R}/summary.md",
    log:
        "logs/summary.log",
    benchmark:
        "benchmarks/summary.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/summary.py"


rule manifest:
    input:
        outputs=PLAN.outputs(),
    output:
        f"{R}/manifest.json",
    log:
        "logs/manifest.log",
    benchmark:
        "benchmarks/manifest.tsv"
    conda:
        "../envs/core.yaml"
    params:
        # the run's config hash is recorded at the top: re-run when the config changes
        config_hash=config_hash(config),
    script:
        "../scripts/manifest.py"
