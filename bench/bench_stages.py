"""Time each stage of a workflow run (default: the demo of config.yaml) and print a table.

    .venv/bin/python bench/bench_stages.py [--config config.yaml] [--overlay more.yaml ...]
        [--cores 2] [--workdir DIR] [--out results.md]

`--overlay` files are merged over `--config` by Snakemake (later files win), e.g.
bench/configs/demo_30k.yaml runs the default workflow on 30,000 demo galaxies. Rerunning on the same
--workdir resumes (Snakemake runs only what is missing); the per-rule sums then still cover every job,
the wall time only the last call.

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
    parser.add_argument("--overlay", nargs="*", default=[], help="config files merged over --config")
    parser.add_argument("--cores", default="2")
    parser.add_argument("--out", default=None, help="also write the table (markdown) here")
    parser.add_argument("--workdir", default=None, help="run here (default: a new temporary directory)")
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="galclust-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = Path(args.config).resolve()
    configs = [str(config), *(str(Path(o).resolve()) for o in args.overlay)]
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", *configs, "--cores", args.cores, "--quiet", "rules"]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        return result.returncode
    per_rule: dict[str, list[float]] = defaultdict(list)
    peak_mb: dict[str, float] = defaultdict(float)
    for tsv in (workdir / "benchmarks").rglob("*.tsv"):
        rule = tsv.relative_to(workdir / "benchmarks").parts[0].removesuffix(".tsv")
        with tsv.open() as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        per_rule[rule].append(float(rows[-1]["s"]))
        rss = rows[-1].get("max_rss", "NA")
        if rss not in ("", "NA", "-"):
            peak_mb[rule] = max(peak_mb[rule], float(rss))
    order = ["catalog", "acquire", "preprocess", "train_model", "extract", "reduce", "cluster",
             "plot_clustering", "dendrogram", "member_pdfs", "elbow_eigengap", "compare", "summary"]
    lines = [f"workflow: {' + '.join(Path(c).name for c in configs)}, --cores {args.cores}, in {workdir}", "",
             "| stage (rule) | jobs | sum s | max s | peak RSS MB |", "|---|---:|---:|---:|---:|"]
    for rule in sorted(per_rule, key=lambda r: order.index(r) if r in order else len(order)):
        times = per_rule[rule]
        lines.append(f"| {rule} | {len(times)} | {sum(times):.1f} | {max(times):.1f} | {peak_mb.get(rule, 0):.0f} |")
    total_jobs = sum(len(t) for t in per_rule.values())
    lines.append(f"| all jobs | {total_jobs} | {sum(sum(t) for t in per_rule.values()):.1f} | | "
                 f"{max(peak_mb.values(), default=0):.0f} |")
    lines += ["", f"wall time of this call: {wall:.1f} s ({wall / 60:.2f} min); "
              "target <= 8 min for the default demo on 2 cores"]
    print("\n" + "\n".join(lines))
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
