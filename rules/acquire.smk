rule catalog:
    output:
        f"{R}/catalog.ecsv",
    params:
        catalog=lambda w: PLAN.config["catalog"],
        source=PLAN.source_params(),
    log:
        "logs/catalog.log",
    benchmark:
        "benchmarks/catalog.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/catalog.py"


rule acquire:
    output:
        manifest=f"{R}/batches/{{batch}}/cutouts.ecsv",
    params:
        # Re-run exactly when this batch's galaxies or the cutout settings change.
        rows=lambda w: PLAN.batch_digest(w.batch),
        source=PLAN.source_params(),
    log:
        "logs/acquire/{batch}.log",
    benchmark:
        "benchmarks/acquire/{batch}.tsv"
    resources:
        downloads=1,
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/acquire.py"


rule preprocess:
    input:
        manifest=f"{R}/batches/{{batch}}/cutouts.ecsv",
    output:
        store=directory(f"{R}/batches/{{batch}}/images.zarr"),
        report=f"{R}/batches/{{batch}}/preprocess.ecsv",
    params:
        preprocess=PLAN.config["preprocess"],
    log:
        "logs/preprocess/{batch}.log",
    benchmark:
        "benchmarks/preprocess/{batch}.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/preprocess.py"
