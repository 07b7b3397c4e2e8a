"""Time each stage of a workflow run (default: the demo of config.yaml) and print a table.

    .venv/bin/python bench/bench_stages.py [--config config.yaml] [--cores 2] [--workdir DIR]

Runs the real Snakefile from scratch in a fresh directory (relative cache_dir:
the demo cutouts are rendered again too), then sums Snakemake's own per-job benchmark files by rule.
Wall time is the whole `snakemake` call; the rule columns are CPU-bound job times
(jobs overlap when --cores > 1, so they add up to more than the wall time).
Target for the default demo on a 2-core machine: <= 8 minutes wall.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(REPO / "config.yaml"))
    parser.add_argument("--cores", default="2")
    parser.add_argument("--workdir", default=None, help="run here (default: a new temporary directory)")
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="galclust-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = Path(args.config).resolve()
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(config), "--cores", args.cores, "--quiet", "rules"]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        return result.returncode
    per_rule: dict[str, list[float]] = defaultdict(list)
    for tsv in (workdir / "benchmarks").rglob("*.tsv"):
        rule = tsv.relative_to(workdir / "benchmarks").parts[0].removesuffix(".tsv")
        with tsv.open() as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        per_rule[rule].append(float(rows[-1]["s"]))
    order = ["catalog", "acquire", "preprocess", "train_model", "extract", "reduce", "cluster",
             "plot_clustering", "dendrogram", "member_pdfs", "elbow_eigengap", "compare", "summary"]
    print(f"\nworkflow: {config.name}, --cores {args.cores}, in {workdir}\n")
    print(f"{'stage (rule)':<18}{'jobs':>6}{'sum s':>10}{'max s':>9}")
    for rule in sorted(per_rule, key=lambda r: order.index(r) if r in order else len(order)):
        times = per_rule[rule]
        print(f"{rule:<18}{len(times):>6}{sum(times):>10.1f}{max(times):>9.1f}")
    total_jobs = sum(len(t) for t in per_rule.values())
    print(f"{'all jobs':<18}{total_jobs:>6}{sum(sum(t) for t in per_rule.values()):>10.1f}")
    print(f"\nwall time: {wall:.1f} s ({wall / 60:.2f} min); target <= 8 min for the default demo on 2 cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
