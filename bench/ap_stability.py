"""How far can a scalable affinity propagation agree with the exact one? Exact AP against itself.

    nice -n 5 .venv/bin/python bench/ap_stability.py --n 20000 --out bench/results/ap_stability_2e4.md

On bench_scale.py's mixture (d = 64, 30 unit-variance Gaussians, seed 0, damping 0.9 as there),
fits scikit-learn's exact affinity propagation (galclust route exact) on all N rows and on a
seeded ``--fraction`` of them, and reports the ARI between the two on the common rows: how much
exact AP's own partition moves when 5 % of the galaxies are left out. Beside it, the scalable
route (weighted AP on k-means micro-clusters) at ``--micro`` micro-cluster counts, against the
exact labels of all rows, and every labelling against the mixture's truth. The scalable
route two ways: exact AP in k-means parts of ``--parts`` rows (its default up to 200,000
rows), and weighted AP on ``--micro`` micro-clusters (above). Sequential; peak memory is one
exact fit (~11 GB at 20,000 rows); ``--cache-dir`` keeps the exact labels between runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from galclust.methods import affinity_propagation as ap
from galclust.methods.peak import gaussian_mixture
from galclust.sampling import seeded_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--fraction", type=float, default=0.95)
    parser.add_argument("--micro", type=int, nargs="+", default=[5000, 10000])
    parser.add_argument("--parts", type=int, nargs="+", default=[2500, 5000], help="part sizes of the partition way")
    parser.add_argument("--cache-dir", type=Path, default=None, help="keep the exact labels here between runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    X, truth = gaussian_mixture(args.n, args.d, 30, args.seed)
    base = {"damping": 0.9, "max_iter": 200, "convergence_iter": 15, "exact_max_n": args.n}
    rows = []

    def fit(data: np.ndarray, params: dict, cache: str | None = None) -> tuple[np.ndarray, float, dict]:
        path = args.cache_dir / f"{cache}_{args.n}_{args.seed}.npz" if args.cache_dir and cache else None
        if path is not None and path.exists():
            saved = np.load(path)
            return saved["labels"], float(saved["seconds"]), {"converged": bool(saved["converged"])}
        t0 = time.perf_counter()
        result = ap.fit(data, params, args.seed)
        seconds = time.perf_counter() - t0
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, labels=result.labels, seconds=seconds, converged=result.info["converged"])
        return result.labels, seconds, result.info

    exact, s_exact, info = fit(X, {**base, "route": "exact"}, "exact")
    rows.append(("exact, all rows", len(np.unique(exact)), s_exact, adjusted_rand_score(truth, exact), 1.0,
                 f"converged={info['converged']}"))
    keep = np.sort(seeded_rows(args.n, int(round(args.fraction * args.n)), args.seed + 1))
    sub, s_sub, info = fit(X[keep], {**base, "route": "exact"}, f"exact_sub{args.fraction:g}")
    rows.append((f"exact, a seeded {args.fraction:.0%} of the rows", len(np.unique(sub)), s_sub,
                 adjusted_rand_score(truth[keep], sub), adjusted_rand_score(exact[keep], sub),
                 f"converged={info['converged']}; ARI on the common rows"))
    for size in args.parts:
        labels, s, info = fit(X, {**base, "route": "scalable", "part_size": size})
        rows.append((f"scalable, exact AP in parts of ~{size} rows", len(np.unique(labels)), s,
                     adjusted_rand_score(truth, labels), adjusted_rand_score(exact, labels),
                     f"converged={info['converged']}, {info['n_parts']} parts, largest {info['largest_part']}"))
    for m in args.micro:
        labels, s, info = fit(X, {**base, "route": "scalable", "n_microclusters": m, "partition_max_n": 0})
        rows.append((f"scalable, {m} micro-clusters", len(np.unique(labels)), s, adjusted_rand_score(truth, labels),
                     adjusted_rand_score(exact, labels), f"converged={info['converged']}"))
    lines = [f"# Exact affinity propagation against itself: {args.n:,} × {args.d} mixture (30 Gaussians)", "",
             f"`python bench/ap_stability.py --n {args.n} --fraction {args.fraction} --micro "
             f"{' '.join(map(str, args.micro))} --parts {' '.join(map(str, args.parts))}` (damping 0.9, median preference, 2 cores)", "",
             "| labelling | clusters | wall s | ARI vs truth | ARI vs exact (all rows) | notes |",
             "|---|---:|---:|---:|---:|---|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]:.0f} | {r[3]:.3f} | {r[4]:.3f} | {r[5]} |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
