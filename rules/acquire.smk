rule catalog:
    output:
        f"{R}/catalog.ecsv",
    log:
        "logs/catalog.log",
    benchmark:
        "benchmarks/catalog.tsv"
    conda:
        "../envs/core.yaml"
    params:
        # Re-run exactly when the catalog's content changes (file, query or demo settings).
        rows=lambda w: PLAN.catalog_digest(),
    script:
        "../scripts/catalog.py"


rule acquire:
    output:
        manifest=f"{R}/batches/{{batch}}/cutouts.ecsv",
    log:
        "logs/acquire/{batch}.log",
    benchmark:
        "benchmarks/acquire/{batch}.tsv"
    conda:
        "../envs/core.yaml"
    resources:
        downloads=1,
    params:
        # Re-run exactly when this batch's galaxies or the cutout settings change.
        rows=lambda w: PLAN.batch_digest(w.batch),
        source=PLAN.source_params(),
    script:
        "../scripts/acquire.py"


rule preprocess:
    input:
        manifest=f"{R}/batches/{{batch}}/cutouts.ecsv",
    output:
        store=directory(f"{R}/batches/{{batch}}/images.zarr"),
        report=f"{R}/batches/{{batch}}/preprocess.ecsv",
    log:
        "logs/preprocess/{batch}.log",
    benchmark:
        "benchmarks/preprocess/{batch}.tsv"
    conda:
        "../envs/core.yaml"
    params:
        preprocess=PLAN.config["preprocess"],
    script:
        "../scripts/preprocess.py"
