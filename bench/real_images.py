"""Feature sets on real galaxy images: k-NN / linear-probe accuracy and clustering ARI/AMI,
with clustimage side by side.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/real_images.py \\
        [--data /work/shared/realdata/gz2_spirals] [--n 2000] [--normalise none,full] \\
        [--feature-sets pixels,morphometrics,profiles,random_cnn,supervised_cnn,profiles+morphometrics] \\
        [--mask-stars] [--asinh B] [--supervised-ceiling] [--no-clustimage] [--out bench-real.md]

The data folder holds ``images/<id>.jpg`` and ``labels.csv`` (``id,label``). ``--n`` galaxies
are drawn per class-balanced, deterministic (``--seed``). Each image is read and preprocessed
as the workflow does (:func:`galclust.preprocess.load_image`, ``--size`` px, normalise mode
none or full), cached as .npy under ``--cache-dir``. Per feature set and mode:

- k-NN (k = 10) and linear-probe accuracy, 5-fold stratified (:mod:`galclust.quality`);
- k-means, ward, spectral, Gaussian mixtures (the workflow's ``gmm``: full covariances, one
  start) (k = 2..6) and HDBSCAN on the standardised features reduced by PCA (10 components; 5
  for HDBSCAN), best ARI over k (with its k) and the k = 2 ARI/AMI. HDBSCAN runs with
  ``min_cluster_size`` = n / 20 and ``min_samples`` = 10 twice: on the PCA, and as the
  workflow's density route for real features, on a UMAP view (the workflow's reducer: 5
  components, 30 neighbours, min_dist 0, seeded) with the workflow's ``hdbscan`` method. A
  result the workflow's summary would flag (> 90 % noise, a single cluster, or one cluster
  holding > 90 %: :func:`galclust.cluster.degenerate`) is marked "degenerate".

clustimage (its default, method ``pca``, and ``hog``) runs on the same image files in a
separate virtual environment (``--venv``, created and filled with ``pip install clustimage``
on first use), never in the project's. A measurement, not a test.

``simclr_small`` is SimCLR (:func:`galclust.ssl.train_simclr`, the workflow's views) with a
small convolutional encoder at 64 px, trained ``--ssl-epochs`` without labels on all the images
(drawn and not drawn): what self-supervision reaches on a CPU budget.

``supervised_cnn`` is the reference CNN trained on the class labels of the galaxies *outside*
the draw (``--supervised-epochs``), its dense_128 layer then extracted for the drawn ones: what
a user with catalog labels gets (``train.target`` a class column), measured on galaxies it
never saw.

Controls without training: ``random_cnn`` (the SimCLR encoder, seeded random weights) and
``random_resnet`` (the workflow's backbone extractor: ResNet50, ``weights: random``, 96 px,
global average pooling). ``--labels``/``--label-column`` score against another labels CSV
(e.g. ``bench/data/gz2_three_classes.csv``, column ``class``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from galclust.cluster import degenerate
from galclust.methods import METHODS
from galclust.quality import knn_accuracy, linear_probe_accuracy
from galclust.reducers.umap import fit_transform as umap_view

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SETS = ("pixels,morphometrics,profiles,profile_summary,random_cnn,profiles+morphometrics,"
                "profile_summary+morphometrics,profiles+random_cnn")
KS = (2, 3, 4, 5, 6)

CLUSTIMAGE_SCRIPT = r"""
import json, sys
from clustimage import Clustimage
paths = json.load(open(sys.argv[1]))
out = {}
for method in ("pca", "hog"):
    ci = Clustimage(method=method, verbose="error", ncores=1)
    res = ci.fit_transform(paths)
    out[method] = {"labels": [int(v) for v in res["labels"]],
                   "pathnames": [str(p) for p in res.get("pathnames", paths)]}
json.dump(out, open(sys.argv[2], "w"))
"""


# -- data ------------------------------------------------------------------------------------
def read_labels(path: Path, column: str = "label") -> list[dict[str, str]]:
    """``{"id", "label"}`` rows of a labels CSV, the label taken from ``column``."""
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    if rows and column not in rows[0]:
        raise SystemExit(f"{path}: no column {column!r} (has {', '.join(rows[0])})")
    return [{"id": r["id"], "label": r[column]} for r in rows]


def choose(data: Path, n: int, seed: int, labels_csv: Path | None = None,
           column: str = "label") -> tuple[list[str], np.ndarray]:
    """A class-balanced deterministic draw of n ids (all when n >= the sample) and their labels."""
    rows = read_labels(labels_csv or data / "labels.csv", column)
    rng = np.random.default_rng(seed)
    labels = sorted({r["label"] for r in rows})
    per = int(math.ceil(n / len(labels)))
    picked = []
    for lab in labels:
        ids = sorted(r["id"] for r in rows if r["label"] == lab)
        picked += [ids[i] for i in sorted(rng.permutation(len(ids))[: min(per, len(ids))])]
    by_id = {r["id"]: r["label"] for r in rows}
    picked = sorted(picked)[: n] if len(picked) > n else sorted(picked)
    return picked, np.asarray([by_id[i] for i in picked])


def held_out(data: Path, drawn: set[str], labels_csv: Path | None = None,
             column: str = "label") -> tuple[list[str], np.ndarray]:
    """The labelled galaxies outside the draw (sorted ids) and their labels."""
    rows = sorted((r["id"], r["label"]) for r in read_labels(labels_csv or data / "labels.csv", column)
                  if r["id"] not in drawn)
    return [r[0] for r in rows], np.asarray([r[1] for r in rows])


def images_for(data: Path, ids: list[str], mode: str, size: int, multiple: float, cache: Path,
               mask_stars: bool = False) -> tuple[np.ndarray, list[str], float]:
    """(n, size, size, 3) preprocessed images, detection flags and CPU seconds (0 when cached)."""
    from galclust.normalise import NormaliseSettings
    from galclust.preprocess import load_image

    key = (f"{mode}_{size}_{multiple:g}_{len(ids)}_{zlib.crc32(','.join(ids).encode()):08x}"
           + ("_masked" if mask_stars else ""))
    path, fpath = cache / f"{key}.npy", cache / f"{key}.flags.json"
    if path.exists() and fpath.exists():
        return np.load(path), json.loads(fpath.read_text()), 0.0
    settings = None if mode == "none" else NormaliseSettings(mode=mode, radius_multiple=multiple,
                                                             mask_stars=mask_stars)
    start = time.process_time()
    out, flags = np.zeros((len(ids), size, size, 3), np.float32), []
    for i, gid in enumerate(ids):
        out[i], flag = load_image(data / "images" / f"{gid}.jpg", size, None, settings)
        flags.append(flag)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    fpath.write_text(json.dumps(flags))
    return out, flags, time.process_time() - start


# -- features --------------------------------------------------------------------------------
#: (images, labels, epochs) of the labelled galaxies outside the draw, for supervised_cnn
#: (simclr_small uses their images, never their labels)
SUPERVISED: tuple[np.ndarray, np.ndarray, int] | None = None
#: epochs of simclr_small
SSL_EPOCHS = 50


def block(name: str, images: np.ndarray, seed: int) -> np.ndarray:
    """One feature block (n, d) float64, NaN-free."""
    if name == "pixels":
        flat = images.reshape(len(images), -1).astype(np.float64)
        return PCA(n_components=min(50, len(images) - 1), random_state=seed).fit_transform(flat)
    if name == "morphometrics":
        from galclust.morphometrics import MorphometricExtractor, impute_median

        ex = MorphometricExtractor()
        return impute_median(ex.transform(images)["morphometrics"], ex.last_flags).astype(np.float64)
    if name == "profiles":
        from galclust.profiles import ProfileExtractor

        return ProfileExtractor().transform(images)["profiles"].astype(np.float64)
    if name == "profile_summary":
        from galclust.profiles import summarise

        return summarise(block("profiles", images, seed)).astype(np.float64)
    if name == "supervised_cnn":
        # the reference CNN trained on the labels of the galaxies *not* drawn (galclust.cnn,
        # classification, balanced class weights), then cut at dense_128 for the drawn ones
        import keras

        from galclust.cnn import DENSE_128, train_reference_cnn

        if SUPERVISED is None or len(SUPERVISED[0]) < 20:
            raise SystemExit("supervised_cnn needs labelled galaxies outside the --n drawn (use --n < the sample)")
        train_images, train_labels, epochs = SUPERVISED
        model, result = train_reference_cnn(train_images, train_labels, epochs=epochs, batch_size=32,
                                            task="classification", seed=seed)
        print(f"<!-- supervised_cnn: {len(train_images)} training galaxies, {epochs} epochs, "
              f"test balanced accuracy {result.scores.get('test_balanced_accuracy', float('nan')):.3f} -->", flush=True)
        cut = keras.Model(model.inputs, model.get_layer(DENSE_128).output)
        return np.asarray(cut.predict(images, batch_size=64, verbose=0), dtype=np.float64)
    if name == "simclr_small":
        # SimCLR (galclust.ssl, the workflow's views and loss) with a small all-convolutional
        # encoder at 64 px, cheap enough for a CPU: trained without labels on the drawn galaxies
        # and those outside the draw, its pooled features taken for the drawn ones
        import keras
        from keras import layers

        from galclust.ssl import train_simclr

        pool = images if SUPERVISED is None else np.concatenate([images, SUPERVISED[0]])
        small = np.asarray(keras.ops.image.resize(pool, (64, 64), interpolation="area"), np.float32)
        inputs = keras.Input((64, 64, 3))
        x = inputs
        for width in (16, 32, 64, 64):
            x = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(x)
            x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = layers.GlobalAveragePooling2D(name="pool")(x)
        encoder = keras.Model(inputs, layers.Dense(128, activation="relu", name="dense_128")(x))
        encoder, history = train_simclr(small, epochs=SSL_EPOCHS, batch_size=128, seed=seed, encoder=encoder,
                                        verbose=0)
        print(f"<!-- simclr_small: {len(small)} galaxies, {SSL_EPOCHS} epochs, final loss "
              f"{history['loss'][-1]:.3f} -->", flush=True)
        cut = keras.Model(encoder.inputs, encoder.get_layer("pool").output)
        return np.asarray(cut.predict(small[: len(images)], batch_size=128, verbose=0), dtype=np.float64)
    if name == "random_cnn":
        import keras

        from galclust.ssl import build_encoder

        keras.utils.set_random_seed(seed)
        enc = build_encoder(images.shape[1])
        return np.asarray(enc.predict(images, batch_size=64, verbose=0), dtype=np.float64)
    if name == "random_resnet":
        # the workflow's backbone extractor (kind backbone, weights: random): ResNet50 at 96 px,
        # global average pooling -- the control the issue asks for beside the trained encoders
        from galclust.backbones import BackboneExtractor

        ex = BackboneExtractor("resnet50", "random", {"pool": "global_average_pooling"}, input_size=96,
                               batch_size=32, seed=seed)
        return np.asarray(ex.transform(images)["pool"], dtype=np.float64)
    raise SystemExit(f"unknown feature block {name!r}")


def combine(blocks: list[np.ndarray]) -> np.ndarray:
    """Concatenate standardised blocks, each scaled by 1/sqrt(width) so each weighs the same."""
    parts = []
    for b in blocks:
        z = StandardScaler().fit_transform(np.where(np.isfinite(b), b, np.nanmedian(b, axis=0)))
        parts.append(z / math.sqrt(z.shape[1]))
    return np.hstack(parts)


# -- clustering ------------------------------------------------------------------------------
def k_clusterers(E: np.ndarray, seed: int, n_neighbors: int = 15) -> dict[str, Callable[[int], np.ndarray]]:
    """method -> (k -> labels of E): k-means, ward, spectral (k-NN graph) and the workflow's GMM."""
    return {
        "kmeans": lambda k: KMeans(k, n_init=10, random_state=seed).fit_predict(E),
        "ward": lambda k: AgglomerativeClustering(k, linkage="ward").fit_predict(E),
        "spectral": lambda k: SpectralClustering(k, affinity="nearest_neighbors", n_neighbors=n_neighbors,
                                                 random_state=seed, assign_labels="cluster_qr").fit_predict(E),
        "gmm": lambda k: METHODS["gmm"].fit(E, {"k": k}, seed).labels,
    }


def clusterings(X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, dict[str, float | int | str]]:
    """Best-over-k and k = 2 ARI/AMI for k-means, ward, spectral, GMM; HDBSCAN's single results."""
    Z = StandardScaler().fit_transform(X)
    E = PCA(n_components=min(10, Z.shape[1]), random_state=seed).fit_transform(Z)
    out: dict[str, dict[str, float | int | str]] = {}
    for name, fit in k_clusterers(E, seed).items():
        best = (-1.0, 0, 0.0)
        for k in KS:
            lab = fit(k)
            ari, ami = adjusted_rand_score(y, lab), adjusted_mutual_info_score(y, lab)
            if k == 2:
                out[name] = {"ari2": ari, "ami2": ami}
            if ari > best[0]:
                best = (ari, k, ami)
        out[name].update({"best_ari": best[0], "best_k": best[1], "best_ami": best[2], "note": ""})
    density = {"min_cluster_size": max(10, len(E) // 20), "min_samples": 10}
    view = umap_view(Z, {"n_components": 5, "n_neighbors": 30, "min_dist": 0.0}, seed).values
    for name, space in (("hdbscan", E[:, :5]), ("hdbscan_umap", view)):
        lab = METHODS["hdbscan"].fit(space, density, seed).labels
        noise = float((lab < 0).mean())
        n_cl = len(set(lab[lab >= 0]))
        sizes = np.bincount(lab[lab >= 0]) if n_cl else np.zeros(1, int)
        why = degenerate({"n_galaxies": len(lab), "n_noise": int((lab < 0).sum()), "n_clusters": n_cl,
                          "largest_fraction": float(sizes.max() / len(lab))})  # the workflow's rule
        note = f"{n_cl} clusters, {noise:.0%} noise" + (f" (degenerate: {why})" if why else "")
        ari, ami = adjusted_rand_score(y, lab), adjusted_mutual_info_score(y, lab)
        out[name] = {"best_ari": ari, "best_k": n_cl, "best_ami": ami, "ari2": float("nan"),
                     "ami2": float("nan"), "note": note}
    return out


def supervised_ceiling(X: np.ndarray, y: np.ndarray, seed: int) -> float:
    """5-fold (stratified, shuffled with ``seed``) accuracy of gradient-boosted trees trained on
    the labels: how far a non-linear classifier *with* labels gets on these features, the bound
    that k-NN and clustering without labels work under."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=seed)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    return float(cross_val_score(model, X, y, cv=folds).mean())


# -- clustimage ------------------------------------------------------------------------------
def clustimage_scores(data: Path, ids: list[str], y: np.ndarray, venv: Path) -> dict[str, dict[str, float]]:
    """ARI/AMI of clustimage (methods pca and hog) on the original image files."""
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(py), "-c", "import clustimage"], capture_output=True).returncode != 0:
        subprocess.run([str(py), "-m", "pip", "install", "-q", "clustimage"], check=True)
    paths = [str(data / "images" / f"{gid}.jpg") for gid in ids]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "paths.json").write_text(json.dumps(paths))
        (Path(tmp) / "run.py").write_text(CLUSTIMAGE_SCRIPT)
        start = time.time()
        proc = subprocess.run([str(py), str(Path(tmp) / "run.py"), str(Path(tmp) / "paths.json"),
                               str(Path(tmp) / "out.json")], capture_output=True, text=True, cwd=tmp)
        if proc.returncode != 0:
            print(f"clustimage failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            return {}
        result = json.loads((Path(tmp) / "out.json").read_text())
        seconds = time.time() - start
    label_of = dict(zip(paths, y))
    scores = {}
    for method, res in result.items():
        truth = [label_of.get(p, label_of.get(os.path.abspath(p))) for p in res["pathnames"]]
        keep = [i for i, t in enumerate(truth) if t is not None]
        lab = np.asarray(res["labels"])[keep]
        tr = np.asarray(truth)[keep]
        scores[method] = {"ari": adjusted_rand_score(tr, lab), "ami": adjusted_mutual_info_score(tr, lab),
                          "k": len(set(lab.tolist())), "seconds": seconds}
    return scores


def main() -> int:
    global SUPERVISED, SSL_EPOCHS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/work/shared/realdata/gz2_spirals", type=Path)
    parser.add_argument("--labels", type=Path, default=None,
                        help="labels CSV with an id column (default: <data>/labels.csv)")
    parser.add_argument("--label-column", default="label", help="the labels CSV's class column")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=80)
    parser.add_argument("--radius-multiple", type=float, default=8.48)
    parser.add_argument("--normalise", default="none,full")
    parser.add_argument("--feature-sets", default=DEFAULT_SETS)
    parser.add_argument("--supervised-epochs", type=int, default=8,
                        help="supervised_cnn: epochs on the galaxies outside the draw")
    parser.add_argument("--mask-stars", action="store_true", help="normalise with mask_stars (neighbours to sky)")
    parser.add_argument("--asinh", type=float, default=None,
                        help="stretch the preprocessed images by asinh(x / b) / asinh(1 / b) (b = this value)")
    parser.add_argument("--ssl-epochs", type=int, default=50, help="simclr_small: contrastive epochs")
    parser.add_argument("--no-clustering", action="store_true", help="k-NN and probe only")
    parser.add_argument("--supervised-ceiling", action="store_true",
                        help="also: 5-fold accuracy of gradient-boosted trees trained on the labels, per "
                             "feature set (what the features allow when labels are used)")
    parser.add_argument("--no-clustimage", action="store_true")
    parser.add_argument("--venv", type=Path, default=REPO / ".bench-venv")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "galclust-real-bench")
    parser.add_argument("--out", type=Path, default=Path("bench-real-images.md"))
    args = parser.parse_args()
    SSL_EPOCHS = args.ssl_epochs
    ids, y = choose(args.data, args.n, args.seed, args.labels, args.label_column)
    lines = [f"real images: {args.data} ({len(ids)} galaxies, classes "
             f"{ {str(a): int(b) for a, b in zip(*np.unique(y, return_counts=True))} }), size {args.size}, seed {args.seed}", "",
             "| normalise | feature set | d | CPU s | k-NN acc | probe acc | k-means best ARI (k) | ward best ARI (k)"
             " | spectral best ARI (k) | GMM best ARI (k) | HDBSCAN ARI | HDBSCAN on UMAP-5 ARI | k-means k=2 ARI/AMI"
             " | ward k=2 ARI/AMI | spectral k=2 ARI/AMI | GMM k=2 ARI/AMI |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    ceilings: list[str] = []
    for mode in args.normalise.split(","):
        images, flags, prep_s = images_for(args.data, ids, mode, args.size, args.radius_multiple, args.cache_dir,
                                           args.mask_stars)
        if args.asinh:
            images = (np.arcsinh(images / args.asinh) / np.arcsinh(1 / args.asinh)).astype(np.float32)
        n_flag = sum(1 for f in flags if f)
        print(f"<!-- normalise {mode}: preprocessing {prep_s:.0f} CPU s, {n_flag} detections flagged -->", flush=True)
        cache: dict[str, tuple[np.ndarray, float]] = {}
        if "supervised_cnn" in args.feature_sets or "simclr_small" in args.feature_sets:
            others, others_y = held_out(args.data, set(ids), args.labels, args.label_column)
            held, _, _ = images_for(args.data, others, mode, args.size, args.radius_multiple, args.cache_dir,
                                    args.mask_stars)
            SUPERVISED = (held, others_y, args.supervised_epochs)
        for fs in args.feature_sets.split(","):
            parts = []
            for name in fs.split("+"):
                if name not in cache:
                    start = time.process_time()
                    cache[name] = (block(name, images, args.seed), time.process_time() - start)
                parts.append(cache[name])
            X = parts[0][0] if len(parts) == 1 else combine([p[0] for p in parts])
            cpu = sum(p[1] for p in parts)
            knn, probe = knn_accuracy(X, y, k=10, seed=args.seed), linear_probe_accuracy(X, y, seed=args.seed)
            if args.no_clustering:
                row = f"| {mode} | {fs} | {X.shape[1]} | {cpu:.0f} | {knn:.3f} | {probe:.3f} |" + " |" * 10
            else:
                c = clusterings(X, y, args.seed)
                by_k = ("kmeans", "ward", "spectral", "gmm")
                best = " | ".join(f"{c[m]['best_ari']:.3f} ({c[m]['best_k']})" for m in by_k)
                k2 = " | ".join(f"{c[m]['ari2']:.3f}/{c[m]['ami2']:.3f}" for m in by_k)
                dens = " | ".join(f"{c[m]['best_ari']:.3f} ({c[m]['note']})" for m in ("hdbscan", "hdbscan_umap"))
                row = (f"| {mode} | {fs} | {X.shape[1]} | {cpu:.0f} | {knn:.3f} | {probe:.3f} | {best} | "
                       f"{dens} | {k2} |")
            lines.append(row)
            print(row, flush=True)
            if args.supervised_ceiling:
                ceilings.append(f"| {mode} | {fs} | {knn:.3f} | {probe:.3f} | {supervised_ceiling(X, y, args.seed):.3f} |")
    if ceilings:
        lines += ["", "| normalise | feature set | k-NN acc | probe acc | gradient-boosted trees on the labels, 5-fold acc |",
                  "|---|---|---:|---:|---:|", *ceilings]
        print("\n".join(lines[-len(ceilings) - 2:]), flush=True)
    if not args.no_clustimage:
        for method, s in clustimage_scores(args.data, ids, y, args.venv).items():
            row = (f"| original files | clustimage {method} | | {s['seconds']:.0f} (wall, both) | | | "
                   f"ARI {s['ari']:.3f} (k={s['k']}, its own choice) | | | | | | AMI {s['ami']:.3f} | | | |")
            lines.append(row)
            print(row, flush=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
