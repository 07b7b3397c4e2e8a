rule train_cnn:
    input:
        images=training_stores,
    output:
        model=f"{R}/models/{{model}}/model.keras",
        history=f"{R}/models/{{model}}/history.tsv",
        loss=report(
            f"{R}/models/{{model}}/loss.png",
            caption="../report/loss.rst",
            category="Training",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "loss curves"},
        ),
        metrics=f"{R}/models/{{model}}/metrics.json",
    log:
        "logs/train_cnn/{model}.log",
    benchmark:
        "benchmarks/train_cnn/{model}.tsv"
    conda:
        "../envs/tensorflow.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        train=lambda w: PLAN.config["models"][w.model]["train"],
        seed=PLAN.seed,
        # the targets of the training galaxies (read from the catalog, not the whole file,
        # so galaxies appended beyond them never retrain the model)
        targets=lambda w: PLAN.training_digest(w.model),
    script:
        "../scripts/train_cnn.py"


rule extract:
    input:
        images=f"{R}/batches/{{batch}}/images.zarr",
        model=model_input,
    output:
        store=directory(f"{R}/batches/{{batch}}/features/{{extractor}}.zarr"),
    log:
        "logs/extract/{extractor}/{batch}.log",
    benchmark:
        "benchmarks/extract/{extractor}/{batch}.tsv"
    conda:
        "../envs/tensorflow.yaml"
    threads: 2
    resources:
        gpu=lambda w: 0 if w.extractor in ("pixels", "morphometrics") else 1,
        mem_mb=4000,
    params:
        model=lambda w: PLAN.config["models"].get(PLAN.split_store_name(w.extractor)[0]),
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
            labels={"feature set": "{fs}", "figure": "PCA variance"},
        ),
    log:
        "logs/reduce/{fs}.log",
    benchmark:
        "benchmarks/reduce/{fs}.tsv"
    conda:
        "../envs/core.yaml"
    resources:
        mem_mb=8000,
    params:
        settings=lambda w: PLAN.features[w.fs],
    script:
        "../scripts/reduce.py"
