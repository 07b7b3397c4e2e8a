"""Reproduce the reference study 003's experiment: cluster PCA, t-SNE, UMAP and LDA views of a
feature set with k-means and DBSCAN, and score each clustering against the true class.

    nice -n 10 .venv/bin/python bench/reductions.py --demo 2000 [--out DIR]
    nice -n 10 .venv/bin/python bench/reductions.py --run results [--feature-set cnn]
    nice -n 10 .venv/bin/python bench/reductions.py --features F.zarr --catalog catalog.ecsv

Inputs: a finished run (``<run>/features/<fs>/reduced.zarr`` with ``<run>/catalog.ecsv``),
a Zarr store (``features``, ``ids``) with a catalog, or ``--demo N``: the demo sample drawn
and rendered at 80 × 80 here, with two feature sets computed on the spot — ``pixels``
(the flattened images, PCA to 50 axes, the analogue of a run's reduced.zarr) and
``morphometrics`` (8 numbers per galaxy, z-scored).

Views (the study's settings by default): PCA-7, tSNE-2 (perplexity 200, learning rate 50),
UMAP-2, LDA-(classes − 1, at most 7; supervised by the truth column). Clusterings: k-means
with k = the number of true classes, and DBSCAN with min_samples = max(5, 1 % of N) and eps
the ``--eps-quantile`` quantile of each point's distance to its min_samples-th neighbour.
Prints one Markdown table (ARI / AMI against the truth, clusters found, noise fraction,
seconds per view). With ``--out`` it also writes, per feature set, the cluster maps on the
t-SNE and UMAP views, the truth map, a thumbnail map (demo) and clusters in the
lambda_R–ellipticity plane (when the catalog has them). A measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from astropy.table import Table
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from galclust.reducers import lda, pca, tsne, umap  # noqa: E402
from galclust.store import read_array, read_ids  # noqa: E402


def demo_sets(n: int, seed: int) -> tuple[Table, dict[str, np.ndarray], np.ndarray]:
    """The demo catalog, its pixel and morphometric features, and the 80 × 80 images."""
    from galclust import demo
    from galclust.morphometrics import impute_median_mask, invalid_mask, morphometrics

    cat = demo.draw_catalog(n, seed=seed)
    images = np.stack([demo.render(row, 80) for row in cat])
    measured = [morphometrics(im) for im in images]
    morph = np.stack([v for v, _ in measured])
    morph = impute_median_mask(morph, invalid_mask([f for _, f in measured]))
    morph = (morph - morph.mean(0)) / np.where(morph.std(0) > 0, morph.std(0), 1.0)
    pixels = images.reshape(n, -1).astype(np.float32) / 255.0
    pixels = pca.fit_transform(pixels, {"n_components": 50}, seed).values
    return cat, {"pixels-PCA50": pixels, "morphometrics": morph.astype(np.float32)}, images


def run_sets(run: Path, names: list[str] | None) -> tuple[Table, dict[str, np.ndarray]]:
    cat = Table.read(run / "catalog.ecsv")
    sets: dict[str, np.ndarray] = {}
    for store in sorted((run / "features").glob("*/reduced.zarr")):
        name = store.parent.name
        if names and name not in names:
            continue
        sets[name] = align(cat, read_ids(store), read_array(store, "features"))
    return cat, sets


def align(cat: Table, ids: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Feature rows in catalog order (rows absent from the store: error)."""
    index = {str(i): k for k, i in enumerate(ids.tolist())}
    missing = [str(i) for i in cat["id"] if str(i) not in index]
    if missing:
        sys.exit(f"{len(missing)} catalog ids have no features, e.g. {missing[:3]}")
    return np.asarray(X)[[index[str(i)] for i in cat["id"]]].astype(np.float32)


def dbscan_eps(Y: np.ndarray, min_samples: int, quantile: float) -> float:
    dist, _ = NearestNeighbors(n_neighbors=min_samples).fit(Y).kneighbors(Y)
    return float(np.quantile(dist[:, -1], quantile))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--demo", type=int, help="draw and render N demo galaxies")
    src.add_argument("--run", type=Path, help="a finished run's results directory")
    src.add_argument("--features", type=Path, help="a Zarr store with 'features' and 'ids'")
    parser.add_argument("--catalog", type=Path, help="the catalog (with --features)")
    parser.add_argument("--feature-set", action="append", help="with --run: only these feature sets")
    parser.add_argument("--truth", default="klass")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--perplexity", type=float, default=200.0)
    parser.add_argument("--learning-rate", type=float, default=50.0)
    parser.add_argument("--n-components", type=int, default=7, help="PCA and (at most) LDA axes")
    parser.add_argument("--eps-quantile", type=float, default=0.9)
    parser.add_argument("--out", type=Path, help="write figures here")
    args = parser.parse_args()

    images = None
    if args.demo:
        cat, sets, images = demo_sets(args.demo, args.seed)
    elif args.run:
        cat, sets = run_sets(args.run, args.feature_set)
    else:
        if args.catalog is None:
            parser.error("--features needs --catalog")
        cat = Table.read(args.catalog)
        sets = {args.features.stem: align(cat, read_ids(args.features), read_array(args.features, "features"))}
    if args.truth not in cat.colnames:
        sys.exit(f"the catalog has no truth column '{args.truth}'")
    truth = np.asarray(cat[args.truth]).astype(str)
    classes = np.unique(truth)
    k = len(classes)
    n = len(cat)
    min_samples = max(5, n // 100)
    views = {
        "PCA": (pca, {"n_components": args.n_components}),
        "tSNE": (tsne, {"perplexity": args.perplexity, "learning_rate": args.learning_rate}),
        "UMAP": (umap, {"n_neighbors": 15, "min_dist": 0.1}),
        "LDA": (lda, {"target": args.truth, "n_components": min(args.n_components, k - 1)}),
    }
    rows = []
    for fs, X in sets.items():
        maps: dict[str, np.ndarray] = {}
        labelings: dict[str, dict[str, np.ndarray]] = {}
        for view, (module, params) in views.items():
            t0 = time.perf_counter()
            emb = module.REDUCER.fit_transform(X, {**params, "n_components": min(params.get("n_components", 2), X.shape[1])}
                                               if view == "PCA" else params, args.seed, truth)
            seconds = time.perf_counter() - t0
            Y = emb.values.astype(np.float64)
            name = emb.info["label"]
            if Y.shape[1] == 2:
                maps[name] = Y
            km = KMeans(n_clusters=k, n_init=10, random_state=args.seed).fit_predict(Y)
            eps = dbscan_eps(Y, min_samples, args.eps_quantile)
            db = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(Y)
            labelings[name] = {f"kmeans-k{k}": km, "dbscan": db}
            for job, lab in ((f"kmeans-k{k}", km), (f"dbscan eps={eps:.3g}", db)):
                rows.append((fs, name, job, adjusted_rand_score(truth, lab), adjusted_mutual_info_score(truth, lab),
                             len(set(lab.tolist()) - {-1}), float(np.mean(lab == -1)), seconds))
            print(f"{fs} {name}: {seconds:.1f} s", file=sys.stderr, flush=True)
        if args.out:
            write_figures(args.out / fs, cat, truth, maps, labelings, images, args.seed)
    print(f"\n003's experiment on {n} galaxies ({k} true classes, truth column '{args.truth}'); "
          f"DBSCAN min_samples {min_samples}, eps at the {args.eps_quantile:.2f} quantile of the k-distance\n")
    print("| features | view | clustering | ARI | AMI | clusters | noise | view s |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for fs, view, job, ari, ami, nc, noise, s in rows:
        print(f"| {fs} | {view} | {job} | {ari:.3f} | {ami:.3f} | {nc} | {noise:.2f} | {s:.1f} |")
    return 0


def write_figures(out: Path, cat: Table, truth: np.ndarray, maps: dict[str, np.ndarray],
                  labelings: dict[str, dict[str, np.ndarray]], images: np.ndarray | None, seed: int) -> None:
    """Cluster maps on each 2-D view, the truth map, thumbnails and physical pairs."""
    from galclust.plots.maps import cluster_maps, thumbnail_map, truth_maps
    from galclust.plots.physical import physical_columns, physical_pairs

    out.mkdir(parents=True, exist_ok=True)
    for name, xy in maps.items():
        every = {f"{view} {job}": lab for view, jobs in labelings.items() for job, lab in jobs.items()}
        cluster_maps(xy, {"truth": np.unique(truth, return_inverse=True)[1], **every}, out / f"clusters_{name}.png",
                     f"clusterings of each view, drawn on {name}")
        columns = {c: cat[c] for c in ("klass", "lambda_r", "ellipticity", "sersic_n") if c in cat.colnames}
        truth_maps(xy, columns, out / f"truth_{name}.png", f"catalog columns on {name}")
        if images is not None:
            thumbnail_map(xy, images, out / f"thumbnails_{name}.png", grid=(30, 30), seed=seed)
    if {"ellipticity", "lambda_r"} <= set(cat.colnames):
        for view, jobs in labelings.items():
            lab = next(iter(jobs.values()))
            physical_pairs(cat, cat["id"], lab, [("ellipticity", "lambda_r")], out / f"physical_{view}.png",
                           title=f"k-means on {view} in the lambda_R - ellipticity plane")
            physical_columns(cat, cat["id"], lab, ["lambda_r", "ellipticity"], out / f"violins_{view}.png")


if __name__ == "__main__":
    raise SystemExit(main())
