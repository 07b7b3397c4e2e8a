rule train_cnn:
    input:
        images=image_stores,
        catalog=f"{R}/catalog.ecsv",
    output:
        model=f"{R}/models/{{model}}/model.keras",
        history=f"{R}/models/{{model}}/history.tsv",
        loss=report(
            f"{R}/models/{{model}}/loss.png",
            caption="../report/loss.rst",
            category="Training",
            labels={"model": "{model}"},
        ),
        metrics=f"{R}/models/{{model}}/metrics.json",
    params:
        train=lambda w: PLAN.config["models"][w.model]["train"],
        seed=PLAN.seed,
    log:
        "logs/train_cnn/{model}.log",
    benchmark:
        "benchmarks/train_cnn/{model}.tsv"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    conda:
        "../envs/tensorflow.yaml"
    script:
        "../scripts/train_cnn.py"


def model_input(wildcards):
    if wildcards.extractor == "pixels":
        return []
    return [PLAN.model_file(wildcards.extractor)]


rule extract:
    input:
        images=f"{R}/batches/{{batch}}/images.zarr",
        model=model_input,
    output:
        store=directory(f"{R}/batches/{{batch}}/features/{{extractor}}.zarr"),
    params:
        layers=lambda w: PLAN.config["models"].get(w.extractor, {}).get("layers"),
    log:
        "logs/extract/{extractor}/{batch}.log",
    benchmark:
        "benchmarks/extract/{extractor}/{batch}.tsv"
    threads: 2
    resources:
        gpu=lambda w: 0 if w.extractor == "pixels" else 1,
        mem_mb=4000,
    conda:
        "../envs/tensorflow.yaml"
    script:
        "../scripts/extract.py"


rule reduce:
    input:
        features=feature_stores,
    output:
        store=directory(f"{R}/features/{{fs}}/reduced.zarr"),
        variance=report(
            f"{R}/features/{{fs}}/variance.png",
            caption="../report/variance.rst",
            category="Feature sets",
            subcategory="{fs}",
        ),
    params:
        settings=lambda w: PLAN.features[w.fs],
    log:
        "logs/reduce/{fs}.log",
    benchmark:
        "benchmarks/reduce/{fs}.tsv"
    resources:
        mem_mb=8000,
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/reduce.py"
