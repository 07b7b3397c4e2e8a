"""One function per workflow rule, with explicit arguments.

``scripts/*.py`` unpack Snakemake's inputs, outputs and params and call these;
tests call them directly.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from . import __version__
from .atomic import write_text_atomic
from .catalog import batch_rows
from .config import ClusteringJob, clustering_jobs, config_hash
from .errors import ConfigError, GalclustError
from .store import (
    count_rows, create_store, iter_blocks, open_store, provenance, read_array, read_attrs, read_ids, row_width,
)
from .tables import read_table, write_table
from .workflow import Plan

log = logging.getLogger(__name__)
PathLike = str | os.PathLike[str]


def _write_json(path: PathLike, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def _provenance(config: dict[str, Any]) -> dict[str, Any]:
    return {"config_hash": config_hash(config), "galclust_version": __version__}


# -- catalog, acquisition, preprocessing -------------------------------------------------------

def write_catalog(config: dict[str, Any], out: PathLike) -> None:
    """The standardised catalog (with any truth columns) as ECSV."""
    write_table(Plan(config).catalog, out)


def acquire(config: dict[str, Any], batch: str, manifest: PathLike) -> None:
    """Fetch, render or locate the cutouts of one batch; writes its manifest table."""
    from .acquire import acquire_batch

    plan = Plan(config)
    rows = batch_rows(plan.catalog, batch, config["batch_size"])
    acquire_batch(rows, config["source"], manifest, config_hash=config_hash(plan.source_params()))


def preprocess(config: dict[str, Any], manifest: PathLike, store: PathLike, report: PathLike) -> None:
    """Decode and resize one batch's cutouts into its image store."""
    from .preprocess import preprocess_batch

    source = config["source"]
    read_options = None
    if source["kind"] == "legacy" and source["legacy"]["format"] == "fits":
        read_options = {"lupton": source["legacy"]["lupton"]}
    preprocess_batch(
        manifest, store, report,
        size=config["preprocess"]["size"],
        attrs={**_provenance(config), "preprocess": config["preprocess"]},
        read_options=read_options,
        normalise=config["preprocess"].get("normalise"),
    )


# -- the CNN ---------------------------------------------------------------------------------

def _images_and_target(image_stores: Sequence[PathLike], catalog: Table, target: str,
                       max_galaxies: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``max_galaxies`` galaxies with a finite target, in catalog order."""
    if target not in catalog.colnames:
        raise ConfigError(f"config key 'models.*.train.target': the catalog has no column '{target}' "
                          f"(columns: {', '.join(catalog.colnames)})")
    values = dict(zip(np.asarray(catalog["id"], dtype=str), np.asarray(catalog[target], dtype=float)))
    ids = np.concatenate([read_ids(p) for p in image_stores]) if image_stores else np.array([], str)
    y = np.array([values.get(g, np.nan) for g in ids])
    usable = np.flatnonzero(np.isfinite(y))[:max_galaxies]
    images = np.concatenate([read_array(p, "images") for p in image_stores])[usable]
    return images, y[usable].astype(np.float32), ids[usable]


def train_model(config: dict[str, Any], model_key: str, image_stores: Sequence[PathLike],
                model_out: PathLike, history_out: PathLike, loss_plot: PathLike,
                metrics_out: PathLike) -> None:
    """Train a model (the reference CNN on a catalog column, or the same network
    self-supervised); save it with its loss history, loss plot and scores."""
    from .cnn import save_model
    from .plots import loss_history

    model_cfg = config["models"][model_key]
    settings = model_cfg["train"]
    metrics: dict[str, Any]
    if model_cfg["kind"] == "simclr":
        from .ssl import train_simclr

        images = _leading_images(image_stores, settings["max_galaxies"])
        log.info("self-supervised training of %s on %d galaxies", model_key, len(images))
        model, history = train_simclr(
            images, epochs=settings["epochs"], batch_size=settings["batch_size"],
            temperature=settings["temperature"], learning_rate=settings["learning_rate"],
            seed=config["seed"], validation_fraction=settings["validation_fraction"],
        )
        title = f"{model_key}: contrastive (NT-Xent) training"
        metrics = {"target": None, "n_train": len(images),
                   "final_loss": history["loss"][-1] if history.get("loss") else None}
    else:
        from .cnn import train_reference_cnn

        catalog = Plan(config).catalog
        images, target, _ = _images_and_target(image_stores, catalog, settings["target"],
                                               settings["max_galaxies"])
        log.info("training %s on %d galaxies, target %s", model_key, len(images), settings["target"])
        model, result = train_reference_cnn(
            images, target,
            epochs=settings["epochs"], batch_size=settings["batch_size"],
            learning_rate=settings["learning_rate"],
            validation_fraction=settings["validation_fraction"], test_fraction=settings["test_fraction"],
            augment=settings["augment"], seed=config["seed"],
        )
        history = result.history
        title = f"{model_key}: regression of {settings['target']}"
        metrics = {"target": settings["target"], "n_train": result.n_train,
                   "n_validation": result.n_validation, "n_test": result.n_test,
                   "test_pearson": result.test_pearson, "test_spearman": result.test_spearman}
    save_model(model, model_out)
    epochs = len(next(iter(history.values()), []))
    write_table(Table({"epoch": np.arange(1, epochs + 1), **{k: np.asarray(v) for k, v in history.items()}}),
                history_out)
    loss_history(history, loss_plot, title=title)
    _write_json(metrics_out, {"model": model_key, "kind": model_cfg["kind"], **metrics, **_provenance(config)})


def _leading_images(image_stores: Sequence[PathLike], max_galaxies: int) -> np.ndarray:
    """The first ``max_galaxies`` images across the stores, in catalog order."""
    images = np.concatenate([read_array(p, "images") for p in image_stores])
    return images[:max_galaxies]


def make_extractor(config: dict[str, Any], store: str, model_path: PathLike | None) -> Any:
    """The extractor behind a feature-store name (``pixels``, ``morphometrics``, a model,
    each optionally ``-d4`` for dihedral test-time averaging)."""
    from .extract import KerasExtractor, PixelExtractor

    name, tta = Plan.split_store_name(store)
    extractor: Any
    if name == "pixels":
        extractor = PixelExtractor()
    elif name == "morphometrics":
        from .morphometrics import MorphometricExtractor

        extractor = MorphometricExtractor()
    else:
        model_cfg = config["models"][name]
        if model_cfg["kind"] == "backbone":
            from .backbones import BackboneExtractor

            weights = str(model_path) if model_path else model_cfg.get("weights", "imagenet")
            extractor = BackboneExtractor(
                model_cfg["backbone"], weights, model_cfg["layers"],
                input_size=model_cfg.get("input_size"), batch_size=model_cfg["batch_size"],
                seed=config["seed"], label=name,
            )
        else:
            from .cnn import load_model

            if model_cfg["kind"] == "simclr":
                from . import ssl  # noqa: F401  (registers the custom layers before loading)
            model = load_model(model_path)  # type: ignore[arg-type]
            extractor = KerasExtractor(model, model_cfg["layers"], name=name,
                                       batch_size=model_cfg["batch_size"])
    if tta:
        from .extract import DihedralAverage

        return DihedralAverage(extractor)
    return extractor


def extract(config: dict[str, Any], store: str, image_store: PathLike,
            model_path: PathLike | None, out: PathLike) -> None:
    """Features of one batch by one extractor, streamed from its image store."""
    from .extract import extract_store

    model_cfg = config["models"].get(Plan.split_store_name(store)[0], {})
    if model_cfg.get("mixed_precision"):
        from .backbones import enable_mixed_precision

        enable_mixed_precision()
    extract_store(image_store, out, make_extractor(config, store, model_path), attrs={
        **_provenance(config), "model_file": str(model_path) if model_path else None,
        "tta": Plan.split_store_name(store)[1],
    })


# -- compression ----------------------------------------------------------------------------

def feature_label(prefix: str, width: int, n_components: int | None) -> str:
    """The study's naming: ``CNN-37632_PCA-100``; without PCA just ``CNN-37632``."""
    return f"{prefix}-{width}" + (f"_PCA-{n_components}" if n_components else "")


def _load_user_features(fs: dict[str, Any], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Bring-your-own features: .npy (no pickle), a Zarr store, or a table."""
    path = Path(fs["file"])
    key = f"features.{name}.file"
    if not path.exists():
        raise ConfigError(f"config key '{key}': {path} not found")
    if path.suffix == ".npy":
        X = np.load(path, allow_pickle=False)
        ids = None
    elif path.suffix == ".zarr" or path.is_dir():
        X, ids = read_array(path, "features"), read_ids(path)
    else:
        table = read_table(path)
        id_col = "id" if "id" in table.colnames else None
        ids = np.asarray(table[id_col], dtype=str) if id_col else None
        X = np.column_stack([np.asarray(table[c], dtype=float) for c in table.colnames if c != id_col])
    if X.ndim != 2:
        raise GalclustError(f"{path}: features must be a 2-D array (galaxies × features), got shape {X.shape}")
    if fs.get("ids"):
        id_path = Path(fs["ids"])
        if id_path.suffix == ".npy":
            ids = np.load(id_path, allow_pickle=False).astype(str)
        else:
            id_table = read_table(id_path)
            ids = np.asarray(id_table[id_table.colnames[0]], dtype=str)
    if ids is None:
        ids = np.arange(len(X)).astype(str)
    if len(ids) != len(X):
        raise GalclustError(f"{path}: {len(X)} feature rows but {len(ids)} ids")
    if not np.isfinite(X).all():
        bad = np.flatnonzero(~np.isfinite(X).all(axis=1))[:10] + 1
        raise GalclustError(f"{path}: non-finite feature values in rows {', '.join(map(str, bad))}")
    return ids, np.asarray(X, dtype=np.float32)


def reduce(config: dict[str, Any], name: str, feature_stores: Sequence[PathLike],
           out: PathLike, variance_plot: PathLike) -> None:
    """PCA of one feature set (streamed over the batch stores), or a pass-through."""
    from .plots import pca_variance
    from .reduce import ChunkedPCA

    fs = config["features"][name]
    pca_setting = fs.get("pca", False)
    if fs["extractor"] == "file":
        ids, X = _load_user_features(fs, name)
        width = X.shape[1]
        blocks = _in_memory_blocks(X)
        n_rows, prefix = len(X), fs.get("label", Path(fs["file"]).stem)
    elif fs["extractor"] == "morphometrics":
        from .morphometrics import impute_median_mask

        # A handful of numbers per galaxy: read them whole to impute failed measurements
        # with the sample's medians (the extractor stores the placeholder mask beside them).
        stores = list(feature_stores)
        ids = np.concatenate([read_ids(p) for p in stores])
        X = impute_median_mask(np.concatenate([read_array(p, "morphometrics") for p in stores]),
                               np.concatenate([read_array(p, "invalid") for p in stores]) > 0)
        width, n_rows, prefix = X.shape[1], len(X), "Morphometrics"
        blocks = _in_memory_blocks(X)
    else:
        array = "pixels" if fs["extractor"] == "pixels" else fs["layer"]
        stores = list(feature_stores)
        ids = np.concatenate([read_ids(p) for p in stores]) if stores else np.array([], str)
        n_rows = count_rows(stores)
        width = row_width(stores[0], array) if stores else 0
        blocks = lambda: (b.reshape(len(b), -1) for _, b in iter_blocks(stores, array, 512))  # noqa: E731
        prefix = _feature_prefix(config, fs["extractor"])
    if n_rows < 2:
        raise GalclustError(f"feature set '{name}': {n_rows} galaxies, at least 2 are needed")
    attrs: dict[str, Any] = {**_provenance(config), "feature_set": name, "settings": fs, "input_width": width}
    if fs.get("standardise", fs["extractor"] == "morphometrics"):
        # features on different scales (concentration, colours...) weigh equally after z-scoring
        blocks = _standardised(blocks)
        attrs["standardised"] = True
    if pca_setting is False:
        reduced = np.concatenate(list(blocks())).astype(np.float32)
        label = fs.get("label") or feature_label(prefix, width, None)
        ratios = None
    else:
        pca = ChunkedPCA(pca_setting, max_components=fs.get("max_components", 200)).fit(blocks, n_rows, width)
        reduced = np.concatenate([pca.transform(b) for b in blocks()])
        label = fs.get("label") or feature_label(prefix, width, pca.n_components_)
        ratios = pca.explained_variance_ratio_
        attrs["explained_variance_ratio"] = ratios.tolist()
        attrs["explained_variance"] = float(ratios.sum())
    attrs["label"] = label
    with create_store(out, ids, attrs) as writer:
        writer.create("features", reduced.shape[1:])
        writer.write("features", 0, reduced)
    if ratios is not None:
        pca_variance(ratios, variance_plot, label=label)
    else:
        _placeholder_figure(variance_plot, f"{label}: PCA skipped (features used as given)")
    log.info("%s: %d galaxies, %d -> %d features", label, n_rows, width, reduced.shape[1])


def _in_memory_blocks(X: np.ndarray, rows: int = 1024) -> Callable[[], Iterable[np.ndarray]]:
    """Row blocks of an in-memory array, in the form the streamed stores provide."""
    return lambda: (X[i : i + rows] for i in range(0, len(X), rows))


def _feature_prefix(config: dict[str, Any], extractor: str) -> str:
    """The study-style label prefix: Pixels-19200, CNN-37632, SimCLR-128, ResNet50-2048..."""
    if extractor == "pixels":
        return "Pixels"
    model = config["models"][extractor]
    names = {"cnn": "CNN", "simclr": "SimCLR"}
    if model["kind"] in names:
        return names[model["kind"]]
    return {"resnet50": "ResNet50", "vgg16": "VGG16", "efficientnetb0": "EfficientNetB0"}[model["backbone"]]


def _standardised(blocks: Callable[[], Iterable[np.ndarray]]) -> Callable[[], Iterable[np.ndarray]]:
    """Blocks z-scored per column, the mean and spread found in one streaming pass."""
    count, total, squares = 0, 0.0, 0.0
    for block in blocks():
        b = np.asarray(block, dtype=np.float64)
        count += len(b)
        total = total + b.sum(axis=0)
        squares = squares + (b * b).sum(axis=0)
    mean = total / max(count, 1)
    std = np.sqrt(np.maximum(squares / max(count, 1) - mean * mean, 0.0))
    std = np.where(std > 0, std, 1.0)  # constant columns stay 0 instead of NaN
    return lambda: (((np.asarray(b, np.float64) - mean) / std).astype(np.float32) for b in blocks())


def _placeholder_figure(path: PathLike, text: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import save_figure

    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center")
    save_figure(fig, path)


# -- clustering -----------------------------------------------------------------------------

def run_clustering(config: dict[str, Any], name: str, job_name: str, reduced: PathLike,
                   labels_out: PathLike, metrics_out: PathLike) -> None:
    """One clustering job: labels table (id, label) and its scores."""
    from .cluster import fit_predict, laplacian_spectrum, scores

    job: ClusteringJob = clustering_jobs(config)[job_name]
    X, ids = read_array(reduced, "features"), read_ids(reduced)
    labels, estimator = fit_predict(X, job, config["seed"])
    result: dict[str, Any] = {
        "feature_set": name, "label": read_attrs(reduced).get("label", name),
        "clustering": job_name, "method": job.method, "params": job.params,
        **scores(X, labels, seed=config["seed"], estimator=estimator), **_provenance(config),
    }
    if job.method == "spectral":
        result["laplacian_eigenvalues"] = laplacian_spectrum(X, job.params["n_neighbors"]).tolist()
    table = Table({"id": ids, "label": labels})
    table.meta.update({"feature_set": name, "clustering": job_name, **_provenance(config),
                       "provenance": provenance()})
    write_table(table, labels_out)
    _write_json(metrics_out, result)
    log.info("%s on %s: %d clusters", job_name, name, result["n_clusters"])


def _images_for(image_stores: Sequence[PathLike], ids: np.ndarray) -> np.ndarray:
    """Images of ``ids`` (in that order) gathered from the batch image stores."""
    wanted = {g: i for i, g in enumerate(ids)}
    size = None
    out: np.ndarray | None = None
    for store in image_stores:
        store_ids, images = read_ids(store), open_store(store)["images"]
        if out is None:
            size = images.shape[1:]
            out = np.zeros((len(ids), *size), np.float32)
        rows = [(j, wanted[g]) for j, g in enumerate(store_ids) if g in wanted]
        if rows:
            src, dst = zip(*rows)
            out[list(dst)] = np.asarray(images.get_orthogonal_selection((list(src),)))
    if out is None:
        raise GalclustError("no image store given")
    return out


def plot_clustering(config: dict[str, Any], name: str, job_name: str, labels_path: PathLike,
                    reduced: PathLike, image_stores: Sequence[PathLike], summary: PathLike,
                    sizes: PathLike) -> None:
    """Per-clustering figures: a summary (random members per cluster) and cluster sizes."""
    from .plots import cluster_sizes, cluster_summary, feature_scatter

    ids, labels = _read_labels(labels_path)
    title = f"{job_name} on {read_attrs(reduced).get('label', name)}"
    cluster_sizes(labels, sizes, title=title)
    if image_stores:
        cluster_summary(_images_for(image_stores, ids), labels, summary,
                        n_examples=config["report"]["summary_examples"], seed=config["seed"],
                        ids=ids, title=title)
    else:  # user features without images: show the clusters in feature space instead
        feature_scatter(read_array(reduced, "features"), labels, summary, title=title)


def dendrogram(config: dict[str, Any], name: str, labels_path: PathLike, reduced: PathLike,
               image_stores: Sequence[PathLike], out: PathLike) -> None:
    """The ward tree of a feature set, truncated, with example images at its top nodes."""
    from .plots import dendrogram_with_images

    ids, _ = _read_labels(labels_path)
    X = read_array(reduced, "features")
    images = _images_for(image_stores, ids) if image_stores else None
    dendrogram_with_images(X, images, out, n_leaves=config["report"]["dendrogram_leaves"],
                           seed=config["seed"], title=f"{read_attrs(reduced).get('label', name)}")


def _read_labels(path: PathLike) -> tuple[np.ndarray, np.ndarray]:
    table = read_table(path)
    return np.asarray(table["id"], dtype=str), np.asarray(table["label"])


def member_pdfs(config: dict[str, Any], labels_path: PathLike, image_stores: Sequence[PathLike],
                outdir: PathLike, title_prefix: str = "") -> None:
    """One PDF per cluster showing every member."""
    from .plots import cluster_member_pdfs

    ids, labels = _read_labels(labels_path)
    if not image_stores:
        raise GalclustError(f"{labels_path}: member PDFs need images, and this feature set has none")
    cluster_member_pdfs(_images_for(image_stores, ids), labels, outdir, title_prefix=title_prefix)


# -- aggregation ----------------------------------------------------------------------------

def elbow_and_eigengap(config: dict[str, Any], name: str, metrics_files: Sequence[PathLike],
                       elbow_plot: PathLike, eigengap_plot: PathLike) -> None:
    """k-means inertia against k, and the Laplacian spectrum of the k-NN graph."""
    from .plots import eigengap, elbow

    metrics = [json.loads(Path(p).read_text()) for p in metrics_files]
    kmeans = sorted((m["params"]["k"], m["inertia"]) for m in metrics if m["method"] == "kmeans")
    label = metrics[0]["label"] if metrics else name
    if kmeans:
        elbow([k for k, _ in kmeans], [i for _, i in kmeans], elbow_plot, title=f"k-means elbow, {label}")
    else:
        _placeholder_figure(elbow_plot, f"{label}: no k-means clustering configured")
    spectral = [m for m in metrics if m["method"] == "spectral"]
    if spectral:
        eigengap(np.asarray(spectral[0]["laplacian_eigenvalues"]), eigengap_plot, title=f"eigengap, {label}")
    else:
        _placeholder_figure(eigengap_plot, f"{label}: no spectral clustering configured")


def compare(config: dict[str, Any], labels_paths: Sequence[PathLike], catalog_path: PathLike | None,
            pairwise_table: PathLike, ari_plot: PathLike, ami_plot: PathLike,
            truth_table: PathLike, truth_plot: PathLike) -> dict[str, Any]:
    """ARI/AMI between all clusterings, and against the catalog's truth columns."""
    from .compare import against, align, pairwise
    from .plots import score_heatmap

    labelings = {}
    for path in labels_paths:
        t = read_table(path)
        labelings[f"{t.meta['feature_set']}/{t.meta['clustering']}"] = (np.asarray(t["id"], dtype=str), np.asarray(t["label"]))
    ids, aligned = align(labelings)
    names = list(aligned)
    ari, ami = pairwise(aligned)
    rows = [(a, b, ari[i, j], ami[i, j]) for i, a in enumerate(names) for j, b in enumerate(names) if j > i]
    write_table(Table(rows=rows or None, names=("a", "b", "ari", "ami"), dtype=(str, str, float, float)), pairwise_table)
    score_heatmap(ari, names, names, ari_plot, title="adjusted Rand index between clusterings", vmin=-0.1)
    score_heatmap(ami, names, names, ami_plot, title="adjusted mutual information between clusterings", vmin=-0.1)
    truth_cols = list(config["catalog"].get("truth", []))
    truth_rows: list[tuple[str, str, float, float]] = []
    if catalog_path is not None and truth_cols:
        catalog = read_table(catalog_path)
        missing = [c for c in truth_cols if c not in catalog.colnames]
        if missing:
            raise ConfigError(f"config key 'catalog.truth': column(s) {', '.join(missing)} not in the catalog")
        index = {g: i for i, g in enumerate(np.asarray(catalog["id"], dtype=str))}
        known = np.array([g in index for g in ids])
        if known.any():
            sel = [index[g] for g in ids[known]]
            truths = {c: np.asarray(catalog[c])[sel].astype(str) for c in truth_cols}
            t_ari, t_ami = against({n: l[known] for n, l in aligned.items()}, truths)
            for i, n in enumerate(names):
                for j, c in enumerate(truth_cols):
                    truth_rows.append((n, c, float(t_ari[i, j]), float(t_ami[i, j])))
            both = np.column_stack([t_ari, t_ami])
            cols = [f"ARI vs {c}" for c in truth_cols] + [f"AMI vs {c}" for c in truth_cols]
            score_heatmap(both, names, cols, truth_plot, title="agreement with the catalog's truth", vmin=-0.1)
    if not truth_rows:
        _placeholder_figure(truth_plot, "no truth columns in the catalog (catalog.truth)")
    write_table(Table(rows=truth_rows or None, names=("clustering", "truth", "ari", "ami"),
                      dtype=(str, str, float, float)), truth_table)
    return {"pairwise": rows, "truth": truth_rows}


def summarise(config: dict[str, Any], metrics_files: Sequence[PathLike], truth_table: PathLike,
              model_metrics: Sequence[PathLike], out: PathLike) -> None:
    """A Markdown summary of the run: where to look, and the headline numbers."""
    metrics = [json.loads(Path(p).read_text()) for p in metrics_files]
    truth = read_table(truth_table)
    truth_by = {(str(r["clustering"]), str(r["truth"])): (float(r["ari"]), float(r["ami"])) for r in truth}
    truth_cols = sorted({t for _, t in truth_by})
    lines = ["# galclust run summary", "", f"config hash `{config_hash(config)}`, galclust {__version__}", ""]
    for path in model_metrics:
        m = json.loads(Path(path).read_text())
        if m.get("kind") == "simclr":
            lines.append(f"- {m['model']}: self-supervised (NT-Xent) on {m['n_train']} galaxies, "
                         f"final loss {m['final_loss']:.3f}")
            continue
        lines.append(f"- CNN trained on `{m['target']}` ({m['n_train']} train / {m['n_validation']} validation / "
                     f"{m['n_test']} test): test Pearson r = {m['test_pearson']:.3f}, Spearman = {m['test_spearman']:.3f}")
    lines += ["", "| feature set | clustering | clusters | noise | silhouette | CH | DB |"
              + "".join(f" ARI {c} | AMI {c} |" for c in truth_cols),
              "|---|---|---:|---:|---:|---:|---:|" + "---:|---:|" * len(truth_cols)]
    for m in metrics:
        key = f"{m['feature_set']}/{m['clustering']}"
        cells = [f"{m['feature_set']} ({m['label']})", m["clustering"], str(m["n_clusters"]), str(m["n_noise"]),
                 _fmt(m["silhouette"]), _fmt(m["calinski_harabasz"], 1), _fmt(m["davies_bouldin"])]
        for c in truth_cols:
            a, b = truth_by.get((key, c), (math.nan, math.nan))
            cells += [_fmt(a), _fmt(b)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Where to look: `results/clustering/<feature set>/<clustering>/` (summary.png, sizes.png, "
              "labels.ecsv, metrics.json, members/), `results/comparison/` (ARI/AMI heatmaps), "
              "`results/features/<feature set>/` (PCA variance, elbow, eigengap), `results/models/` (loss curves).", ""]
    write_text_atomic(out, "\n".join(lines))


def _fmt(value: float, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"
