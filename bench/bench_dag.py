"""The DAG at survey size: `snakemake -n` on a synthetic 1,000,000-row catalog.

    .venv/bin/python bench/bench_dag.py [--rows 1000000] [--batch-size 2000]

Writes a FITS catalog of N galaxies (SDSS source, never contacted: a dry run downloads
nothing), a config with the default feature sets and clusterings, and times the dry run and
the SLURM profile's dry run. Prints the job count per rule and the wall time.
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
    for label, extra in (("local", ["--cores", "2"]),
                         ("slurm profile", ["--profile", str(REPO / "slurm"), "--executor", "slurm"])):
        t0 = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                                 "--directory", str(work), "--configfile", str(work / "config.yaml"), "-n",
                                 "--quiet", "rules", *extra], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        text = result.stdout + result.stderr
        total = re.search(r"^total\s+(\d+)", text, re.M)
        print(f"{label}: exit {result.returncode}, {wall:.1f} s wall, "
              f"{total.group(1) if total else '?'} jobs")
        if result.returncode != 0:
            print(text[-3000:])
        else:
            print("\n".join(line for line in text.splitlines() if re.match(r"^[a-z_]+\s+\d+$", line)))


if __name__ == "__main__":
    main()
