# Feature sets stored projected per batch (features.<fs>.store): the projection is fitted on
# the first batches' raw layers (temporary), then each batch stores c values a galaxy.


use rule extract as extract_fit_sample with:
    output:
        store=temp(directory(paths.FIT_SAMPLE_STORE)),
    log:
        "logs/extract_fit_sample/{extractor}/{batch}.log",
    benchmark:
        "benchmarks/extract_fit_sample/{extractor}/{batch}.tsv"


rule fit_projection:
    input:
        # the first batches only: appending galaxies never refits
        features=lambda w: expand(
            rules.extract_fit_sample.output.store,
            batch=PLAN.fit_batches(),
            extractor=PLAN.store_name(w.fs),
        ),
    output:
        projection=directory(paths.PROJECTION),
        variance=report(
            paths.VARIANCE,
            caption="../report/variance.rst",
            category="Feature sets",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "figure": "PCA variance"},
        ),
    log:
        "logs/fit_projection/{fs}.log",
    benchmark:
        "benchmarks/fit_projection/{fs}.tsv"
    wildcard_constraints:
        fs=PLAN.fs_pattern(projected=True),
    conda:
        "../envs/core.yaml"
    resources:
        mem_mb=lambda w: PLAN.reduce_mem_mb(w.fs),
    params:
        settings=lambda w: PLAN.features[w.fs],
        model=lambda w: PLAN.model_of(PLAN.extractor_of(w.fs)),
    script:
        "../scripts/fit_projection.py"


rule extract_projected:
    input:
        images=rules.preprocess.output.store,
        model=lambda w: PLAN.model_inputs(PLAN.store_name(w.fs)),
        projection=rules.fit_projection.output.projection,
    output:
        store=directory(paths.PROJECTED_BATCH),
    log:
        "logs/extract_projected/{fs}/{batch}.log",
    benchmark:
        "benchmarks/extract_projected/{fs}/{batch}.tsv"
    conda:
        "../envs/tensorflow.yaml"
    threads: 2
    resources:
        gpu=lambda w: PLAN.uses_gpu(PLAN.store_name(w.fs)),
        mem_mb=4000,
    params:
        store=lambda w: PLAN.store_name(w.fs),
        settings=lambda w: PLAN.features[w.fs],
        model=lambda w: PLAN.model_of(PLAN.extractor_of(w.fs)),
        seed=PLAN.seed,
        dtype=PLAN.projected_dtype(),
    script:
        "../scripts/extract_projected.py"


rule gather_projected:
    input:
        features=lambda w: expand(
            rules.extract_projected.output.store, batch=PLAN.batches, fs=w.fs
        ),
        projection=rules.fit_projection.output.projection,
    output:
        store=directory(paths.REDUCED),
    log:
        "logs/gather_projected/{fs}.log",
    benchmark:
        "benchmarks/gather_projected/{fs}.tsv"
    wildcard_constraints:
        fs=PLAN.fs_pattern(projected=True),
    conda:
        "../envs/core.yaml"
    resources:
        mem_mb=lambda w: PLAN.gather_mem_mb(w.fs),
    params:
        settings=lambda w: PLAN.features[w.fs],
    script:
        "../scripts/gather_projected.py"
