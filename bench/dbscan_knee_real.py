"""DBSCAN with eps: auto (the k-distance knee) on real gz2_spirals features: clusters, noise, ARI.

    .venv/bin/python bench/dbscan_knee_real.py

1,000 class-balanced galaxies, normalise full at 6 half-light radii (as bench/real_images.py),
z-scored profile features reduced to 5 or 10 principal components, min_samples 5/10/20.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench"), str(REPO / "src")]

import real_images  # noqa: E402

from galclust.methods import dbscan  # noqa: E402


def main() -> None:
    data = Path("/work/shared/realdata/gz2_spirals")
    ids, y = real_images.choose(data, 1000, 0)
    cache = Path(tempfile.gettempdir()) / "galclust-real-bench"
    images, _, _ = real_images.images_for(data, ids, "full", 80, 6.0, cache)
    print("| features | PCs | min_samples | eps | clusters | noise | largest | ARI |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in ("profile_summary", "profiles"):
        Z = StandardScaler().fit_transform(real_images.block(name, images, 0))
        for dims in (5, 10):
            E = PCA(n_components=dims, random_state=0).fit_transform(Z).astype(np.float32)
            for min_samples in (5, 10, 20):
                result = dbscan.fit(E, {"eps": "auto", "min_samples": min_samples}, 0)
                labels = result.labels
                kept = labels[labels >= 0]
                largest = np.bincount(kept).max() / len(labels) if len(kept) else 0.0
                print(f"| {name} | {dims} | {min_samples} | {result.info['eps']:.3f} | {len(set(kept))} | "
                      f"{(labels < 0).mean():.2f} | {largest:.2f} | {adjusted_rand_score(y, labels):.3f} |", flush=True)


if __name__ == "__main__":
    main()
