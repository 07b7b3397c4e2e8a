rule catalog:
    output:
        paths.CATALOG,
    log:
        "logs/catalog.log",
    benchmark:
        "benchmarks/catalog.tsv"
    conda:
        "../envs/core.yaml"
    params:
        settings=PLAN.catalog_params(),
        # re-run exactly when the catalog's content changes (file, query or demo settings)
        rows=lambda w: PLAN.catalog_digest(),
    script:
        "../scripts/catalog.py"


rule acquire:
    input:
        # ancient: appending galaxies rewrites the catalog, but only this batch's rows
        # (params.rows) decide whether its cutouts are fetched again
        catalog=ancient(rules.catalog.output[0]),
    output:
        manifest=paths.CUTOUTS,
    log:
        "logs/acquire/{batch}.log",
    benchmark:
        "benchmarks/acquire/{batch}.tsv"
    # the critical path (acquire, preprocess, train_model, extract, reduce, cluster) runs
    # before the figures whenever both are ready: the network starts training sooner
    priority: 4
    conda:
        "../envs/core.yaml"
    resources:
        downloads=1,
    params:
        rows=lambda w: PLAN.batch_digest(w.batch),
        batch_size=PLAN.config["batch_size"],
        source=PLAN.source_params(),
        download=PLAN.config["source"]["download"],
    script:
        "../scripts/acquire.py"


rule preprocess:
    input:
        manifest=rules.acquire.output.manifest,
    output:
        store=directory(paths.IMAGES),
        report=paths.PREPROCESS_REPORT,
    log:
        "logs/preprocess/{batch}.log",
    benchmark:
        "benchmarks/preprocess/{batch}.tsv"
    priority: 4
    conda:
        "../envs/core.yaml"
    params:
        settings=PLAN.config["preprocess"],
        read_options=PLAN.read_options(),
    script:
        "../scripts/preprocess.py"
