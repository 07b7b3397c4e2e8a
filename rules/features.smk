rule train_model:
    input:
        # the first batches, up to train.max_galaxies: appending galaxies never retrains
        images=lambda w: expand(
            rules.preprocess.output.store,
            batch=PLAN.batches[: PLAN.training_batches(w.model)],
        ),
        # ancient: only the training galaxies' targets (params.targets) trigger a retrain
        catalog=ancient(rules.catalog.output[0]),
        # a fine-tuned backbone's starting weights, when a local file
        weights=lambda w: PLAN.train_inputs(w.model),
    output:
        model=paths.MODEL,
        history=paths.MODEL_HISTORY,
        loss=report(
            paths.MODEL_LOSS,
            caption="../report/loss.rst",
            category="Training",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "loss curves"},
        ),
        metrics=paths.MODEL_METRICS,
        card=paths.MODEL_CARD,
    log:
        "logs/train_model/{model}.log",
    benchmark:
        "benchmarks/train_model/{model}.tsv"
    priority: 4
    conda:
        "../envs/tensorflow.yaml"
    # TensorFlow's pools are fixed by train.threads (2), but keep ~1.3 cores busy on small
    # batches: one core claimed lets the other run the branches that need no network
    threads: 1
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        kind=lambda w: PLAN.config["models"][w.model]["kind"],
        train=lambda w: PLAN.train_settings(w.model),
        seed=PLAN.seed,
        targets=lambda w: PLAN.training_digest(w.model),
        # truth columns a self-supervised model is scored against after each epoch
        monitor=lambda w: PLAN.monitor_columns(w.model),
        # for the model card: what the images were, which layers are features, who to credit
        preprocess=PLAN.config["preprocess"],
        layers=lambda w: PLAN.config["models"][w.model]["layers"],
        credits=lambda w: PLAN.config["models"][w.model].get("credits"),
    script:
        "../scripts/train_model.py"


rule extract:
    input:
        images=rules.preprocess.output.store,
        model=lambda w: PLAN.model_inputs(w.extractor),
    output:
        store=directory(paths.FEATURE_STORE),
    log:
        "logs/extract/{extractor}/{batch}.log",
    benchmark:
        "benchmarks/extract/{extractor}/{batch}.tsv"
    priority: 3
    conda:
        "../envs/tensorflow.yaml"
    # one core: a network's features are the same bytes on one thread or two (measured), and
    # two batches side by side beat one on two threads (importing TensorFlow is most of a
    # demo batch); a profile's set-threads gives big batches more
    threads: 1
    resources:
        gpu=lambda w: PLAN.uses_gpu(w.extractor),
        mem_mb=4000,
    params:
        model=lambda w: PLAN.model_of(w.extractor),
        # seeds random-weight backbones
        seed=PLAN.seed,
    script:
        "../scripts/extract.py"


rule reduce:
    input:
        features=feature_stores,
        # a supervised view (LDA) reads its classes from the catalog
        catalog=lambda w: catalog_if((PLAN.view_params(w.fs) or {}).get("target")),
        # the ids of a user's feature file (features.<fs>.ids): editing them reruns the job
        ids=lambda w: PLAN.user_ids(w.fs),
    output:
        store=directory(paths.REDUCED),
        variance=report(
            paths.VARIANCE,
            caption="../report/variance.rst",
            category="Feature sets",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "figure": "PCA variance"},
        ),
        # the fitted z-scoring and PCA, to place new galaxies later (assign.reference)
        projection=directory(paths.PROJECTION),
    log:
        "logs/reduce/{fs}.log",
    benchmark:
        "benchmarks/reduce/{fs}.tsv"
    wildcard_constraints:
        # projected feature sets are gathered instead (rules/projected.smk)
        fs=PLAN.fs_pattern(projected=False),
    priority: 2
    conda:
        "../envs/core.yaml"
    resources:
        mem_mb=lambda w: PLAN.reduce_mem_mb(w.fs),
    params:
        settings=lambda w: PLAN.features[w.fs],
        model=lambda w: PLAN.model_of(PLAN.extractor_of(w.fs)),
        view=lambda w: PLAN.view_params(w.fs),
        seed=PLAN.seed,
    script:
        "../scripts/reduce.py"
