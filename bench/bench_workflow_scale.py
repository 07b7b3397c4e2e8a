"""Every default clustering of config.yaml through the workflow, on precomputed features.

    nice -n 5 .venv/bin/python bench/bench_workflow_scale.py --n 100000 --out bench/results/workflow_1e5.md

Writes N rows of a d = 64 Gaussian mixture (30 components, as bench_scale.py) as a feature
file (``extractor: file``, no PCA), a config with config.yaml's ``clustering`` block (every
default method and setting) and its report settings where they apply to features without
images, runs ``snakemake --cores 2`` on it, and tabulates each rule's jobs from Snakemake's
own benchmark files: total and longest wall time, and the largest peak memory (max RSS) of a
job. The clustering jobs' routes come from their ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from galclust.methods.peak import gaussian_mixture  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="galclust-wf-"))
    work.mkdir(parents=True, exist_ok=True)
    features = work / "features.npy"
    if not (features.exists() and np.load(features, mmap_mode="r").shape == (args.n, args.d)):
        X, _ = gaussian_mixture(args.n, args.d, 30, 0)
        np.save(features, X)  # kept when there: rerunning resumes the workflow where it stopped
        del X
    defaults = yaml.safe_load((REPO / "config.yaml").read_text())
    config = {
        "seed": defaults["seed"],
        "source": {"kind": "demo"},
        "catalog": {},
        "batch_size": defaults["batch_size"],
        "features": {"mix": {"extractor": "file", "file": "features.npy", "pca": False,
                             "label": f"Mixture-{args.d}"}},
        "clustering": defaults["clustering"],
        "report": {"member_pdfs": [], "similar": [], "dendrogram_leaves": defaults["report"]["dendrogram_leaves"],
                   "explorer": {"features": "mix"}},
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    t0 = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                             "--directory", str(work), "--configfile", str(work / "config.yaml"), "--cores", "2"],
                            capture_output=True, text=True)
    wall = time.perf_counter() - t0
    print(f"exit {result.returncode} after {wall:.0f} s; {work}")
    if result.returncode != 0:
        print(result.stderr[-4000:])
    rows: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for tsv in sorted((work / "benchmarks").rglob("*.tsv")):
        parts = tsv.relative_to(work / "benchmarks").with_suffix("").parts
        rule, job = (parts[0], "/".join(parts[1:])) if len(parts) > 1 else (parts[0], parts[0])
        header, values = tsv.read_text().splitlines()[:2]
        record = dict(zip(header.split("\t"), values.split("\t")))
        rss = float(record["max_rss"]) if record.get("max_rss", "NA") != "NA" else 0.0
        rows[rule].append((job, float(record["s"]), rss))
    lines = [f"# config.yaml's clusterings through the workflow: {args.n:,} × {args.d} precomputed features",
             "", f"`python bench/bench_workflow_scale.py {' '.join(sys.argv[1:])}` — exit {result.returncode}, "
             f"{wall / 60:.1f} min wall on 2 cores", "",
             "| rule | jobs | total s | longest job | its s | largest max RSS (MB) |", "|---|---:|---:|---|---:|---:|"]
    for rule, jobs in sorted(rows.items(), key=lambda kv: -sum(j[1] for j in kv[1])):
        longest = max(jobs, key=lambda j: j[1])
        lines.append(f"| {rule} | {len(jobs)} | {sum(j[1] for j in jobs):.0f} | {longest[0]} | {longest[1]:.0f} | "
                     f"{max(j[2] for j in jobs):.0f} |")
    routes = []
    for metrics in sorted((work / "results/clustering").glob("*/*/metrics.json")):
        m = json.loads(metrics.read_text())
        routes.append(f"{m.get('clustering', metrics.parent.name)}: {m.get('route', '?')} "
                      f"({m.get('n_clusters', '?')} clusters)")
    lines += ["", "Routes: " + "; ".join(routes)]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
