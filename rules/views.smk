# Feature spaces drawn: maps, clusters against catalog columns, the explorer page.


rule maps:
    input:
        reduced=rules.reduce.output.store,
        labels=lambda w: expand(
            rules.cluster.output.labels, fs=w.fs, job=PLAN.jobs_for(w.fs)
        ),
        catalog=catalog_if(PLAN.config["catalog"]["truth"]),
        images=images_if_any,
    output:
        map=directory(paths.MAP),
        clusters=report(
            paths.CLUSTER_MAP,
            caption="../report/cluster_map.rst",
            category="Maps",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "figure": "clusterings on the map"},
        ),
        truth=report(
            paths.TRUTH_MAP,
            caption="../report/truth_map.rst",
            category="Maps",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "figure": "truth on the map"},
        ),
        thumbnails=report(
            paths.THUMBNAIL_MAP,
            caption="../report/thumbnail_map.rst",
            category="Maps",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "figure": "thumbnail map"},
        ),
    log:
        "logs/maps/{fs}.log",
    benchmark:
        "benchmarks/maps/{fs}.tsv"
    conda:
        "../envs/core.yaml"
    params:
        settings=PLAN.config["report"]["maps"],
        seed=PLAN.seed,
        truth=PLAN.config["catalog"]["truth"],
    script:
        "../scripts/maps.py"


rule quality:
    input:
        reduced=rules.reduce.output.store,
        catalog=catalog_if(PLAN.config["catalog"]["truth"]),
    output:
        paths.QUALITY,
    log:
        "logs/quality/{fs}.log",
    benchmark:
        "benchmarks/quality/{fs}.tsv"
    conda:
        "../envs/core.yaml"
    params:
        truth=PLAN.config["catalog"]["truth"],
        seed=PLAN.seed,
    script:
        "../scripts/quality.py"


rule quality_plot:
    input:
        expand(rules.quality.output[0], fs=PLAN.features),
    output:
        report(
            paths.QUALITY_PLOT,
            caption="../report/quality.rst",
            category="Comparison",
            subcategory="against the truth",
            labels={"figure": "k-NN and linear-probe accuracy"},
        ),
    log:
        "logs/quality_plot.log",
    benchmark:
        "benchmarks/quality_plot.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/quality_plot.py"


rule physical:
    input:
        labels=rules.cluster.output.labels,
        catalog=rules.catalog.output,
    output:
        pairs=report(
            paths.PHYSICAL_PAIRS,
            caption="../report/physical.rst",
            category="Clusters against the catalog",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "clustering": "{job}", "figure": "pairs"},
        ),
        columns=report(
            paths.PHYSICAL_COLUMNS,
            caption="../report/physical.rst",
            category="Clusters against the catalog",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "clustering": "{job}", "figure": "columns"},
        ),
    log:
        "logs/physical/{fs}/{job}.log",
    benchmark:
        "benchmarks/physical/{fs}/{job}.tsv"
    conda:
        "../envs/core.yaml"
    params:
        pairs=PLAN.config["report"]["physical"]["pairs"],
        columns=PLAN.config["report"]["physical"]["columns"],
    script:
        "../scripts/physical.py"


rule explorer:
    input:
        map=rules.maps.output.map.format(fs=PLAN.explorer_features()),
        neighbours=rules.neighbour_index.output.neighbours.format(
            fs=PLAN.explorer_features()
        ),
        labels=expand(
            rules.cluster.output.labels,
            fs=PLAN.explorer_features(),
            job=PLAN.jobs_for(PLAN.explorer_features()),
        ),
        catalog=catalog_if(True),
        images=(
            expand(rules.preprocess.output.store, batch=PLAN.batches)
            if PLAN.has_images(PLAN.explorer_features())
            else []
        ),
    output:
        # linked from the report's landing page (report/workflow.rst), not embedded in it
        paths.EXPLORER,
    log:
        "logs/explorer.log",
    benchmark:
        "benchmarks/explorer.tsv"
    conda:
        "../envs/core.yaml"
    params:
        fs=PLAN.explorer_features(),
        settings=PLAN.config["report"]["explorer"],
        seed=PLAN.seed,
    script:
        "../scripts/explorer.py"
