"""Compare feature sets on the demo sample: ARI/AMI against the true class and ARI against
position-angle bins, with and without galaxy-finding normalisation and dihedral averaging.

    .venv/bin/python bench/feature_table.py [--config config/experiments/features.yaml] [--cores 2]

Runs the workflow twice (preprocess.normalise.mode none, then full) in work directories under
/tmp and prints one Markdown table. A measurement, not a test: it takes tens of minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from astropy.table import Table

REPO = Path(__file__).resolve().parents[1]


def run(config: dict, workdir: Path, cores: str) -> Table:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
           str(workdir), "--configfile", str(path), "--cores", cores, "--quiet", "rules"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr[-4000:])
    return Table.read(workdir / "results/comparison/truth.tsv", format="ascii.basic", delimiter="\t")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(REPO / "config/experiments/features.yaml"))
    parser.add_argument("--cores", default="2")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    base = yaml.safe_load(Path(args.config).read_text())
    root = Path(args.workdir or tempfile.mkdtemp(prefix="galclust-features-"))
    scores: dict[tuple[str, str, str], dict[str, float]] = {}
    for mode in ("none", "full"):
        config = {**base, "preprocess": {**base.get("preprocess", {}), "normalise": {"mode": mode}}}
        # one cutout cache for both runs: only the preprocessing differs
        config["source"] = {**config["source"], "cache_dir": str(root / "cutouts")}
        truth = run(config, root / mode, args.cores)
        for row in truth:
            fs, job = str(row["clustering"]).split("/")
            scores.setdefault((fs, mode, job), {})[str(row["truth"])] = (float(row["ari"]), float(row["ami"]))
    print(f"\nfeature comparison on the demo sample ({base['source']['demo']['n_galaxies']} galaxies), "
          f"work directories under {root}\n")
    print("| feature set | normalise | clustering | ARI class | AMI class | ARI PA bins |")
    print("|---|---|---|---:|---:|---:|")
    for (fs, mode, job), s in sorted(scores.items()):
        ari, ami = s.get("klass", (float("nan"),) * 2)
        pa = s.get("pa_bin", (float("nan"),) * 2)[0]
        print(f"| {fs} | {mode} | {job} | {ari:.3f} | {ami:.3f} | {pa:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
