# Using a finished run: similar galaxies, and placing new galaxies into its clusterings.


rule neighbour_index:
    input:
        reduced=rules.reduce.output.store,
    output:
        index=directory(paths.INDEX),
        neighbours=directory(paths.NEIGHBOURS),
    log:
        "logs/neighbour_index/{fs}.log",
    benchmark:
        "benchmarks/neighbour_index/{fs}.tsv"
    conda:
        "../envs/core.yaml"
    params:
        settings=PLAN.similarity_params(),
    script:
        "../scripts/neighbour_index.py"


rule similar_sheets:
    input:
        index=rules.neighbour_index.output.index,
        images=images_if_any,
    output:
        report(
            directory(paths.SIMILAR),
            patterns=["{id}.png"],
            caption="../report/similar.rst",
            category="Similar galaxies",
            subcategory="{fs}",
            labels={"feature set": "{fs}", "galaxy": "{id}"},
        ),
    log:
        "logs/similar_sheets/{fs}.log",
    benchmark:
        "benchmarks/similar_sheets/{fs}.tsv"
    conda:
        "../envs/core.yaml"
    params:
        ids=PLAN.config["report"]["similar"],
        k=PLAN.config["report"]["similar_k"],
    script:
        "../scripts/similar_sheets.py"


rule project:
    input:
        # raw features; for a view, this run's projection of the feature set it views
        features=lambda w: (
            expand(rules.project.output.store, fs=PLAN.parents(w.fs))
            if PLAN.parent(w.fs)
            else feature_stores(w)
        ),
        ids=lambda w: PLAN.user_ids(w.fs),
        projection=lambda w: PLAN.in_reference(paths.PROJECTION, fs=w.fs),
        reference=lambda w: PLAN.in_reference(paths.REDUCED, fs=w.fs),
        reference_parent=lambda w: [
            PLAN.in_reference(paths.REDUCED, fs=p) for p in PLAN.parents(w.fs)
        ],
    output:
        store=directory(paths.PROJECTED),
    log:
        "logs/project/{fs}.log",
    benchmark:
        "benchmarks/project/{fs}.tsv"
    conda:
        "../envs/core.yaml"
    params:
        settings=lambda w: PLAN.features[w.fs],
        model=lambda w: PLAN.model_of(PLAN.extractor_of(w.fs)),
        view=lambda w: PLAN.view_params(w.fs),
    script:
        "../scripts/project.py"


rule assign:
    input:
        # what the reference run saved: its labels, reduced features and neighbour index
        labels=lambda w: PLAN.in_reference(paths.LABELS, fs=w.fs, job=w.job),
        reduced=lambda w: PLAN.in_reference(paths.REDUCED, fs=w.fs),
        index=lambda w: PLAN.in_reference(paths.INDEX, fs=w.fs),
        projected=rules.project.output.store,
    output:
        paths.ASSIGNED,
    log:
        "logs/assign/{fs}/{job}.log",
    benchmark:
        "benchmarks/assign/{fs}/{job}.tsv"
    conda:
        "../envs/core.yaml"
    params:
        job=lambda w: PLAN.cluster_params(w.job),
        settings=PLAN.assign_params(),
        seed=PLAN.seed,
    script:
        "../scripts/assign.py"
