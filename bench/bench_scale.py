"""Every clustering method at survey scale: wall time, peak memory, route and quality.

Gaussian-mixture features with known labels (d = 64 by default, ``--components`` true
clusters) at each ``--n``; each method runs in a fresh subprocess (peak RSS measured there,
see :mod:`galclust.methods.peak`) on its automatic route, and on the other route beside it
where that fits (plain scikit-learn below / above ``exact_max_n``) — else the table says
"does not fit" with the memory the prediction gives. ARI is against the mixture's truth,
and between the two routes where both ran. Writes a Markdown table.

    nice -n 10 python bench/bench_scale.py --n 10000 100000 --methods kmeans dbscan \
        --out bench/results/scale.md --timeout 1200
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from galclust.methods._scale import available_memory_bytes
from galclust.methods.peak import gaussian_mixture, measure

METHODS = ("kmeans", "agglomerative", "affinity_propagation", "dbscan", "hdbscan", "spectral")


def params_for(method: str, k: int) -> dict[str, Any]:
    """Settings that suit the benchmark mixture (unit-variance clusters ~45 apart)."""
    return {
        "kmeans": {"k": k, "n_init": 10},
        "agglomerative": {"k": k},
        "affinity_propagation": {"damping": 0.9, "max_iter": 200, "convergence_iter": 15},
        "dbscan": {"eps": 11.0, "min_samples": 5},
        "hdbscan": {"min_cluster_size": 50},
        "spectral": {"k": k, "n_neighbors": 10},
    }[method]


def gib(b: float) -> str:
    return f"{b / 2**30:.2f}"


def run_one(method: str, n: int, d: int, k: int, seed: int, params: dict[str, Any], timeout: float, nice: int) -> dict[str, Any]:
    """One measured fit; labels kept for the ARIs. Failures become rows, not crashes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "labels.npy")
        try:
            row = measure(method, n, d, k, seed, params, labels_path=path, timeout=timeout, nice=nice)
            row["labels"] = np.load(path)
        except subprocess.TimeoutExpired:
            row = {"error": f"timeout > {timeout:.0f} s"}
        except RuntimeError as err:
            row = {"error": str(err).splitlines()[-1][:120]}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--components", type=int, default=30, help="true clusters; also k for k-means/ward/spectral")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per fit")
    ap.add_argument("--nice", type=int, default=10)
    ap.add_argument("--other-route-max-n", type=int, default=100_000,
                    help="run the non-automatic route beside the automatic one up to this N")
    ap.add_argument("--out", type=Path, default=Path("bench/results/scale.md"))
    args = ap.parse_args()

    available = available_memory_bytes()
    lines = [
        f"Gaussian mixture, d = {args.d}, {args.components} components, seed {args.seed}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}; peak = RSS over the pre-data baseline (input included).",
        "",
        "| method | N | route | wall s | peak GiB | predicted GiB | ARI truth | ARI vs other route | notes |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for n in args.n:
        _, truth = gaussian_mixture(n, args.d, args.components, args.seed)
        for method in args.methods:
            mod = importlib.import_module(f"galclust.methods.{method}")
            base = params_for(method, args.components)
            auto = mod.route(base, n, args.d)
            other = "scalable" if auto == "exact" else "exact"
            rows: dict[str, dict[str, Any]] = {}
            for route in (auto, other):
                params = {**base, "route": route}
                need = mod.memory_bytes(n, args.d, params)
                if route == other and need > available:
                    rows[route] = {"skip": f"does not fit: needs {gib(need)} GiB > {gib(available)} available"}
                    continue
                if route == other and n > args.other_route_max_n:
                    rows[route] = {"skip": f"not run (N > --other-route-max-n); predicted {gib(need)} GiB"}
                    continue
                print(f"{method} N={n} route={route} ...", flush=True)
                rows[route] = run_one(method, n, args.d, args.components, args.seed, params, args.timeout, args.nice)
                r = rows[route]
                print("   ", {k: v for k, v in r.items() if k not in ("labels", "info")}, flush=True)
            both = all("labels" in rows[r] for r in (auto, other))
            cross = adjusted_rand_score(rows[auto]["labels"], rows[other]["labels"]) if both else None
            for route in (auto, other):
                r = rows[route]
                tag = f"{route}{' (auto)' if route == auto else ''}"
                if "skip" in r or "error" in r:
                    lines.append(f"| {method} | {n:,} | {tag} | | | | | | {r.get('skip', r.get('error'))} |")
                    continue
                info = r.get("info", {})
                notes = ", ".join(f"{k}={v}" for k, v in info.items() if k in ("n_microclusters", "reduced_dims", "converged", "graph_k"))
                lines.append(
                    f"| {method} | {n:,} | {tag} | {r['wall_s']:.1f} | {gib(r['measured_bytes'])} | "
                    f"{gib(r['predicted_bytes'])} | {adjusted_rand_score(truth, r['labels']):.3f} | "
                    f"{'' if cross is None else f'{cross:.3f}'} | {notes} |"
                )
            args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
