rule elbow_eigengap:
    input:
        # only the clusterings these plots read, so other branches never redraw them
        metrics=lambda w: expand(
            rules.cluster.output.metrics,
            fs=w.fs,
            job=PLAN.jobs_for(w.fs, PLAN.jobs_with("diagnostics")),
        ),
    output:
        elbow=report(
            paths.ELBOW,
            caption="../report/elbow.rst",
            category="Feature sets",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "figure": "k-means elbow"},
        ),
        eigengap=report(
            paths.EIGENGAP,
            caption="../report/eigengap.rst",
            category="Feature sets",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "figure": "spectral eigengap"},
        ),
        information=report(
            paths.INFORMATION,
            caption="../report/information.rst",
            category="Feature sets",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "figure": "GMM BIC/AIC"},
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
        labels=clustering_outputs(rules.cluster.output.labels),
        catalog=rules.catalog.output if PLAN.needs_images else [],
    output:
        pairwise=paths.PAIRWISE,
        ari=report(
            paths.ARI,
            caption="../report/ari.rst",
            category="Comparison",
            subcategory="between clusterings",
            labels={"figure": "adjusted Rand index (ARI)"},
        ),
        ami=report(
            paths.AMI,
            caption="../report/ami.rst",
            category="Comparison",
            subcategory="between clusterings",
            labels={"figure": "adjusted mutual information (AMI)"},
        ),
        truth=paths.TRUTH,
        truth_plot=report(
            paths.TRUTH_PLOT,
            caption="../report/truth.rst",
            category="Comparison",
            subcategory="against the truth",
            labels={"figure": "ARI and AMI against the catalog's truth"},
        ),
        views=report(
            paths.VIEWS,
            caption="../report/views.rst",
            category="Comparison",
            subcategory="between views",
            labels={
                "figure": "ARI between clusterings of PCA, t-SNE, UMAP and LDA views"
            },
        ),
    log:
        "logs/compare.log",
    benchmark:
        "benchmarks/compare.tsv"
    priority: 1
    conda:
        "../envs/core.yaml"
    # one core, and before the figures: started as soon as the last clustering ends, it runs
    # beside the remaining figures instead of waiting for two free cores at the end
    threads: 1
    params:
        truth=PLAN.config["catalog"]["truth"],
        families=PLAN.view_families(),
    script:
        "../scripts/compare.py"


rule summary:
    input:
        # what it reads, and only that: no other change reruns it
        metrics=clustering_outputs(rules.cluster.output.metrics),
        truth=rules.compare.output.truth,
        quality=expand(rules.quality.output[0], fs=PLAN.features),
        models=expand(rules.train_model.output.metrics, model=PLAN.trained_models()),
    output:
        paths.SUMMARY,
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
        outputs=run_outputs,
    output:
        paths.MANIFEST,
    log:
        "logs/manifest.log",
    benchmark:
        "benchmarks/manifest.tsv"
    conda:
        "../envs/core.yaml"
    params:
        # the run's config hash is recorded at the top: re-run when the config changes
        config_hash=PLAN.run_hash(),
    script:
        "../scripts/manifest.py"
