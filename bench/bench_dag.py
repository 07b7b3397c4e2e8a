"""The DAG at survey size: `snakemake -n` on a synthetic 1,000,000-row catalog.

    .venv/bin/python bench/bench_dag.py [--rows 1000000] [--batch-size 2000]

Writes a FITS catalog of N galaxies (SDSS source, never contacted: a dry run downloads
nothing), a config with the default feature sets and clusterings, and times the dry run, the
SLURM profile's dry run, and the SLURM profile's dry run with each batch's acquire and
preprocess grouped, ``--group-components`` batches per submitted job (the README's advice
for a cluster's queue). Prints the job count per rule and the wall time; ``--out`` writes
them as Markdown.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from astropy.table import Table

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--group-components", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="galclust-dag-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = args.rows
    t0 = time.perf_counter()
    Table({"objid": np.char.add("G", np.arange(n).astype(str)), "ra": rng.uniform(0, 360, n),
           "dec": rng.uniform(-20, 70, n), "petroR50_r": rng.uniform(1, 10, n)}).write(work / "catalog.fits",
                                                                                    overwrite=True)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["source"] = {"kind": "sdss", "cache_dir": "cache"}
    config["catalog"] = {"path": "catalog.fits", "columns": {"id": "objid", "ra": "ra", "dec": "dec",
                                                              "size": "petroR50_r"}, "truth": []}
    config["batch_size"] = args.batch_size
    config["models"]["refcnn"]["train"]["target"] = "petroR50_r"
    for fs in ("cnn_dense_lda",):
        config["features"].pop(fs, None)
    config["report"]["physical"] = {"pairs": [], "columns": []}
    config["report"]["similar"] = []
    (work / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    print(f"catalog of {n} rows written in {time.perf_counter() - t0:.1f} s; {work}")
    slurm = ["--profile", str(REPO / "slurm"), "--executor", "slurm"]
    grouped = [*slurm, "--groups", "acquire=images", "preprocess=images",
               "--group-components", f"images={args.group_components}"]
    report = [f"# `snakemake -n` on a {n:,}-row catalog, batch_size {args.batch_size}", "",
              f"`{' '.join(['python', 'bench/bench_dag.py', *sys.argv[1:]])}`", "",
              "| run | exit | wall s | jobs |", "|---|---:|---:|---:|"]
    per_rule = ""
    for label, extra in (("local", ["--cores", "2"]), ("slurm profile", slurm),
                         (f"slurm profile, acquire+preprocess grouped by {args.group_components}", grouped)):
        t0 = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                                 "--directory", str(work), "--configfile", str(work / "config.yaml"), "-n",
                                 "--quiet", "rules", *extra], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        text = result.stdout + result.stderr
        total = re.search(r"^total\s+(\d+)", text, re.M)
        print(f"{label}: exit {result.returncode}, {wall:.1f} s wall, "
              f"{total.group(1) if total else '?'} jobs")
        report.append(f"| {label} | {result.returncode} | {wall:.1f} | {total.group(1) if total else '?'} |")
        if result.returncode != 0:
            print(text[-3000:])
        elif not per_rule:  # the same table for every run; printed once
            rows = [line for line in result.stdout.splitlines() if re.match(r"^[a-z_]+\s+\d+$", line)]
            per_rule = "\n".join(rows)
            print(per_rule)
    report += ["", "Jobs per rule:", "", "```", per_rule, "```", ""]
    if args.out:
        args.out.write_text("\n".join(report))


if __name__ == "__main__":
    main()
