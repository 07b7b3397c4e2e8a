"""Similarity search, assignment and explorer benchmarks on synthetic reduced features.

    nice -n 10 timeout 3600 python bench/bench_similar.py --n 100000 1000000 --out bench/similar.json

Features: d = 64, a PCA-like spectrum (variance of component j ~ 1/(j+1)) around 200
cluster centres: reduced galaxy features have a few strong directions and clumps, unlike
i.i.d. Gaussian noise (the worst case for any graph index). Per N it measures

- the HNSW build (hnswlib, M=16, ef_construction=200, 1 build thread: reproducible);
- query latency p50/p95 of single queries (one at a time, 1 thread) and recall@10 against
  exact brute force over ``--queries`` held-out queries, for several ef;
- the time to precompute the top-20 neighbours of every galaxy (``all_neighbours``, 2 query
  threads), all rows unless ``--subset`` times fewer and extrapolates (labelled as such);
- assignment throughput on precomputed features: nearest centroid (200 centres) and k-NN
  vote (k = 15) against the HNSW reference;
- with ``--explorer``: a 100,000-point explorer page (32 px thumbnails in JPEG atlases),
  its size, and the time until it is interactive in headless Chromium (measured once).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from galclust.assign import CentroidAssigner, KNNAssigner  # noqa: E402
from galclust.neighbours import NeighbourIndex, all_neighbours  # noqa: E402


def features(n: int, d: int = 64, n_centres: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n rows of clumpy, PCA-spectrum features (float32) and their clump labels."""
    rng = np.random.default_rng(seed)
    scale = (1.0 / np.sqrt(np.arange(1, d + 1))).astype(np.float32)
    centres = rng.normal(size=(n_centres, d)).astype(np.float32) * scale * 3.0
    labels = rng.integers(0, n_centres, n)
    X = np.empty((n, d), np.float32)
    for s in range(0, n, 100_000):
        e = min(n, s + 100_000)
        X[s:e] = centres[labels[s:e]] + rng.normal(size=(e - s, d)).astype(np.float32) * scale
    return X, labels


def bench_n(n: int, args: argparse.Namespace) -> dict:
    X, labels = features(n + args.queries)
    Q, X, labels = X[n:], X[:n], labels[:n]
    out: dict = {"n": n, "d": X.shape[1]}
    t = time.perf_counter()
    index = NeighbourIndex(exact_max_n=0, M=16, ef_construction=200, ef=64, seed=0).fit(X)
    out["build_s"] = round(time.perf_counter() - t, 1)
    print(f"N={n}: HNSW build {out['build_s']} s", flush=True)
    exact = NeighbourIndex(exact_max_n=n).fit(X)
    t = time.perf_counter()
    _, truth = exact.query(Q, 10)
    out["exact_query_per_row_ms"] = round(1000 * (time.perf_counter() - t) / len(Q), 2)
    out["ef"] = {}
    for ef in args.ef:
        index.ef = ef
        index.query(Q[:10], 10)  # warm
        lat = []
        found = []
        for q in Q:
            t = time.perf_counter()
            _, idx = index.query(q[None], 10)
            lat.append(time.perf_counter() - t)
            found.append(idx[0])
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)]))
        out["ef"][ef] = {"p50_ms": round(1000 * float(np.percentile(lat, 50)), 3),
                         "p95_ms": round(1000 * float(np.percentile(lat, 95)), 3), "recall@10": round(recall, 4)}
        print(f"  ef={ef}: {out['ef'][ef]}", flush=True)
    index.ef = 64
    index.query_threads = 2  # the 2 cores; queries are independent, so still deterministic
    rows = n if not args.subset else min(n, args.subset)
    if args.subset >= 0:
        t = time.perf_counter()
        if rows == n:
            all_neighbours(index, X, 20)
        else:
            index.query(X[:rows], 21)  # the same work per row as all_neighbours
        dt = time.perf_counter() - t
        out["top20"] = {"rows_timed": rows, "seconds": round(dt, 1),
                        "all_rows_s": round(dt * n / rows, 1), "extrapolated": rows != n}
        print(f"  top-20 of all: {out['top20']}", flush=True)
    # assignment throughput on precomputed features
    centres = np.stack([X[labels == c].mean(0) for c in range(200)])
    cen = CentroidAssigner().fit(X, labels, centres)
    batch = X[:100_000]  # precomputed features of "new" galaxies (any rows do)
    cen.predict(batch[:1000])  # warm
    t = time.perf_counter()
    cen.predict(batch)
    out["centroid_per_s"] = round(len(batch) / (time.perf_counter() - t))
    knn = KNNAssigner(15, scale_sample=2000).fit(X, labels, index=index)
    t = time.perf_counter()
    knn.predict(batch[:20_000])
    out["knn_vote_per_s"] = round(min(20_000, n) / (time.perf_counter() - t))
    print(f"  assign: centroid {out['centroid_per_s']}/s, knn {out['knn_vote_per_s']}/s", flush=True)
    return out


def bench_explorer(n: int = 100_000) -> dict:
    """Write a page of n points with blob thumbnails; time it until interactive in Chromium."""
    from browser import DevTools  # noqa: PLC0415

    from galclust.explorer import write_explorer  # noqa: PLC0415

    rng = np.random.default_rng(0)
    X, labels = features(n, d=8, n_centres=20)
    yy, xx = np.mgrid[-1:1:32j, -1:1:32j]
    base = rng.random((256, 3))
    thumbs = np.empty((n, 32, 32, 3), np.uint8)
    for s in range(0, n, 256):  # elliptical blobs, varied colour / size: JPEG sees galaxy-like tiles
        m = min(256, n - s)
        a = rng.uniform(0.1, 0.5, (m, 1, 1))
        e = rng.uniform(0.3, 1.0, (m, 1, 1))
        blob = np.exp(-(xx ** 2 + (yy / e) ** 2) / (2 * a ** 2))
        thumbs[s:s + m] = (blob[..., None] * base[:m, None, None, :] * 255).astype(np.uint8)
    nb = rng.integers(0, n, (n, 10))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, cap in (("all thumbnails", None), ("20,000 thumbnails", 20_000)):
            page = Path(tmp) / "index.html"
            t = time.perf_counter()
            write_explorer(page, np.arange(n).astype(str), X[:, :2], thumbs,
                           {"clumps": labels, "x3": X[:, 3]}, nb, None, "bench", max_thumbnails=cap)
            write_s = time.perf_counter() - t
            with DevTools(width=1400, height=1000) as browser:
                t = time.perf_counter()
                browser.call("Page.navigate", url=page.as_uri())
                ready = browser.evaluate("""(async () => {
                  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
                  while (!(window.Bokeh && Bokeh.documents.length && Object.keys(Bokeh.index).length)) await sleep(20);
                  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                  return performance.now();
                })()""", timeout=600)
                wall = time.perf_counter() - t
            out[label] = {"n": n, "page_mb": round(page.stat().st_size / 1e6, 1), "write_s": round(write_s, 1),
                          "interactive_s_page_clock": round(ready / 1000, 1), "interactive_s_wall": round(wall, 1)}
            print(f"explorer {label}: {out[label]}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--ef", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--subset", type=int, default=0, help="rows timed for top-20 (0: all; -1: skip it)")
    parser.add_argument("--explorer", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    results = {"cpus": os.cpu_count(), "runs": [bench_n(n, args) for n in args.n]}
    if args.explorer:
        results["explorer"] = bench_explorer()
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
