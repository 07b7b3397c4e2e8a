"""Transfer benchmark: a trained encoder judged on real labelled sets it was not trained on.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/transfer.py \\
        [--model models/gz2_five_encoder.keras] [--realdata ../shared/realdata] \\
        [--feature-sets encoder,encoder_pool,profile_summary,pixels,encoder+profile_summary] \\
        [--no-clustimage] [--out bench/results/transfer_gz2.md]

Sets (every galaxy of each, none picked by hand):

- ``gz2_five`` ``test`` split (2,169 galaxies, five Galaxy Zoo 2 classes): the encoder shipped in
  ``models/`` was trained on the ``train`` split only;
- ``gz2_spirals`` (spiral / non-spiral) without the 355 galaxies it shares with ``gz2_five``
  (those were left out of the encoder's training too, ``bench/gz2_five_catalog.py``): other
  classes, other selection.

Images are preprocessed as the model card says (:func:`galclust.preprocess.load_image`; cached
as .npy under ``--cache-dir``) and features taken by the workflow's extractors. Per set and
feature set: cross-validated 10-NN and linear-probe accuracy (:mod:`galclust.quality`), the
ARI of k-means, ward, spectral and the workflow's GMM on the standardised features (PCA to
10 components where wider) for k = 2..8 -- the best at k = the number of classes and the best
overall -- the confusion matrix (class x cluster) of the best k = n clustering, and the
supervised ceiling: the accuracy and ARI of gradient-boosted trees' 5-fold cross-validated
predictions *trained on the labels*, on the same features. clustimage (its default ``pca``
and ``hog``) runs on the same files in a separate virtual environment (``--venv``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
import zlib
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score
from sklearn.preprocessing import StandardScaler

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from galclust.quality import knn_accuracy, linear_probe_accuracy  # noqa: E402

KS = tuple(range(2, 9))


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def sets(realdata: Path) -> dict[str, tuple[Path, list[str], np.ndarray]]:
    """name -> (data folder, ids, labels): every galaxy of each judged set."""
    five = read_rows(realdata / "gz2_five" / "labels.csv")
    spirals = read_rows(realdata / "gz2_spirals" / "labels.csv")
    shared = {r["id"] for r in five} & {r["id"] for r in spirals}
    test = [r for r in five if r["split"] == "test"]
    others = [r for r in spirals if r["id"] not in shared]
    return {
        "gz2_five_test": (realdata / "gz2_five", [r["id"] for r in test], np.array([r["label"] for r in test])),
        "gz2_spirals_unseen": (realdata / "gz2_spirals", [r["id"] for r in others],
                               np.array([r["label"] for r in others])),
    }


def images_for(data: Path, ids: list[str], preprocess: dict, cache: Path) -> np.ndarray:
    """Preprocessed as the card says, cached by (settings, ids)."""
    from galclust.normalise import NormaliseSettings
    from galclust.preprocess import load_image

    key = f"{zlib.crc32(json.dumps(preprocess, sort_keys=True).encode()):08x}_{len(ids)}_" \
          f"{zlib.crc32(','.join(ids).encode()):08x}"
    path = cache / f"{data.name}_{key}.npy"
    if path.exists():
        return np.load(path)
    normalise = preprocess.get("normalise") or {}
    settings = NormaliseSettings.from_config(normalise) if normalise.get("mode", "none") != "none" else None
    out = np.zeros((len(ids), preprocess["size"], preprocess["size"], 3), np.float32)
    for i, gid in enumerate(ids):
        out[i], _ = load_image(data / "images" / f"{gid}.jpg", preprocess["size"], None, settings)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def features(name: str, images: np.ndarray, model_path: Path, seed: int) -> np.ndarray:
    """One feature block (n, d), float64, as the workflow computes it."""
    if "+" in name:
        # each block z-scored and scaled by 1/sqrt(width): neither dominates by its width
        parts = []
        for part in name.split("+"):
            z = StandardScaler().fit_transform(features(part, images, model_path, seed))
            parts.append(z / math.sqrt(z.shape[1]))
        return np.hstack(parts)
    if name in ("encoder", "encoder_pool"):
        from galclust.cnn import load_model
        from galclust.extract import KerasExtractor

        layer = "embedding" if name == "encoder" else "pool"
        ex = KerasExtractor(load_model(model_path), {layer: layer}, batch_size=128)
        return ex.transform(images)[layer].astype(np.float64)
    if name == "profile_summary":
        from galclust.profiles import ProfileExtractor, summarise

        return summarise(ProfileExtractor().transform(images)["profiles"]).astype(np.float64)
    if name == "pixels":
        flat = images.reshape(len(images), -1).astype(np.float64)
        return PCA(n_components=min(50, len(images) - 1), random_state=seed).fit_transform(flat)
    raise SystemExit(f"unknown feature set {name!r}")


def clusterings(X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, dict[int, np.ndarray]]:
    """method -> k -> labels, on the standardised features (PCA-10 where wider)."""
    from real_images import k_clusterers

    Z = StandardScaler().fit_transform(X)
    E = PCA(n_components=10, random_state=seed).fit_transform(Z) if Z.shape[1] > 10 else Z
    fits = k_clusterers(E, seed, n_neighbors=30)
    return {name: {k: np.asarray(fit(k)) for k in KS} for name, fit in fits.items()}


def ceiling(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[float, float]:
    """(accuracy, ARI) of gradient-boosted trees' 5-fold cross-validated predictions."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=seed)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    predicted = cross_val_predict(model, X, y, cv=folds)
    return float(np.mean(predicted == y)), float(adjusted_rand_score(y, predicted))


def confusion(y: np.ndarray, labels: np.ndarray) -> str:
    """Class x cluster counts as a Markdown table."""
    classes = sorted(set(y.tolist()))
    clusters = sorted(set(labels.tolist()))
    head = "| class \\ cluster | " + " | ".join(str(c) for c in clusters) + " |"
    rows = [head, "|---" * (len(clusters) + 1) + "|"]
    for c in classes:
        counts = [int(np.sum((y == c) & (labels == k))) for k in clusters]
        rows.append(f"| {c} | " + " | ".join(str(v) for v in counts) + " |")
    return "\n".join(rows)


def score(name: str, X: np.ndarray, y: np.ndarray, seed: int) -> dict:
    n_classes = len(set(y.tolist()))
    labelings = clusterings(X, y, seed)
    aris = {(m, k): adjusted_rand_score(y, lab) for m, by_k in labelings.items() for k, lab in by_k.items()}
    at_n = max((v, m) for (m, k), v in aris.items() if k == n_classes)
    best = max((v, m, k) for (m, k), v in aris.items())
    accuracy, ceiling_ari = ceiling(X, y, seed)
    return {
        "feature_set": name, "width": int(X.shape[1]), "knn": knn_accuracy(X, y), "probe": linear_probe_accuracy(X, y),
        "ari_at_n": at_n[0], "method_at_n": at_n[1],
        "ami_at_n": adjusted_mutual_info_score(y, labelings[at_n[1]][n_classes]),
        "best_ari": best[0], "best_method": f"{best[1]}-k{best[2]}",
        "ceiling_accuracy": accuracy, "ceiling_ari": ceiling_ari,
        "confusion": confusion(y, labelings[at_n[1]][n_classes]),
        "per_method_at_n": {m: round(v, 3) for (m, k), v in sorted(aris.items()) if k == n_classes},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "gz2_five_encoder.keras")
    parser.add_argument("--realdata", type=Path, default=REPO.parent / "shared" / "realdata")
    parser.add_argument("--feature-sets", default="encoder,encoder_pool,profile_summary,pixels,encoder+profile_summary")
    parser.add_argument("--sets", default="gz2_five_test,gz2_spirals_unseen")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/galclust-transfer-bench"))
    parser.add_argument("--no-clustimage", action="store_true")
    parser.add_argument("--venv", type=Path, default=REPO / ".bench-venv")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from galclust.modelcard import card_for, check_model_file

    card = card_for(args.model)
    if card is None:
        raise SystemExit(f"{args.model}: no model card beside it")
    check_model_file(args.model, card, "--model")
    lines = [f"# Transfer: `{args.model.name}` on real sets it was not trained on", "",
             f"`PYTHONPATH=src .venv/bin/python bench/transfer.py {' '.join(sys.argv[1:])}`", "",
             f"Model card: trained on {card['training_set']['n']} galaxies ({card['training_set'].get('where')}), "
             f"{card['epochs']} epochs, seed {card['seed']}, classes {card.get('classes')}; "
             f"preprocessing {json.dumps(card['preprocess'])}; SHA-256 `{card['sha256'][:16]}…`.", ""]
    results = {}
    for set_name in args.sets.split(","):
        data, ids, y = sets(args.realdata)[set_name]
        start = time.time()
        images = images_for(data, ids, card["preprocess"], args.cache_dir)
        prep_s = time.time() - start
        lines += [f"## {set_name}: {len(ids)} galaxies, {len(set(y.tolist()))} classes "
                  f"({', '.join(f'{c} {int(np.sum(y == c))}' for c in sorted(set(y.tolist())))})", "",
                  "| feature set | width | 10-NN | probe | ARI at k = n (method) | AMI at k = n | best ARI (clustering) "
                  "| supervised ceiling: accuracy / ARI | best ARI / ceiling ARI |",
                  "|---|---:|---:|---:|---|---:|---|---|---:|"]
        rows = []
        for fs in args.feature_sets.split(","):
            start = time.time()
            X = features(fs, images, args.model, args.seed)
            r = score(fs, X, y, args.seed)
            r["seconds"] = time.time() - start
            rows.append(r)
            print(json.dumps({k: v for k, v in r.items() if k != "confusion"}), flush=True)
            lines.append(f"| {fs} | {r['width']} | {r['knn']:.3f} | {r['probe']:.3f} | {r['ari_at_n']:.3f} "
                         f"({r['method_at_n']}) | {r['ami_at_n']:.3f} | {r['best_ari']:.3f} ({r['best_method']}) | "
                         f"{r['ceiling_accuracy']:.3f} / {r['ceiling_ari']:.3f} | "
                         f"{r['best_ari'] / r['ceiling_ari'] if r['ceiling_ari'] > 0 else float('nan'):.2f} |")
        if not args.no_clustimage:
            from real_images import clustimage_scores

            for method, s in clustimage_scores(data, ids, y, args.venv).items():
                lines.append(f"| clustimage ({method}) | – | – | – | – | – | {s['ari']:.3f} (k = {s['k']}) | – | – |")
        lines += ["", f"Preprocessing {prep_s:.0f} s (0 when cached). Confusion matrices of the best k = n "
                  "clustering (rows: classes, columns: clusters):", ""]
        for r in rows:
            lines += [f"**{r['feature_set']}** ({r['method_at_n']}, ARI {r['ari_at_n']:.3f}; per method at k = n: "
                      f"{r['per_method_at_n']})", "", r["confusion"], ""]
        results[set_name] = rows
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
