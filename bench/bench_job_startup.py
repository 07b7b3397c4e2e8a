"""CPU seconds of a workflow job's fixed costs, each in a fresh process as a job runs it.

- ``umap``: galclust's UMAP reducer on 60 rows (the tiny and real-image runs' size), against
  plain ``import umap`` (which imports TensorFlow for ParametricUMAP when it is installed);
- ``kmeans``: a clustering job's imports and a k-means fit on 60 rows with the job runner's
  import hook (galclust.leanimports: scikit-learn without pandas), against the same without it;
- ``tsne``: galclust's t-SNE reducer on 60 rows, against plain openTSNE with the same settings
  (which imports pynndescent on every fit to see whether it is installed);
- ``parse``: ``snakemake -n`` on a finished workdir (a dry run: the parse every job's own
  SLURM parse and every test's dry run pays), when ``--workdir`` is given.

    python bench/bench_job_startup.py [--repeat 3] [--workdir DIR --configfile FILE]

Prints one row per case: the median CPU seconds (user + system, children included) and the
ratio to its baseline, both measured in this run.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

UMAP_FIT = """
import sys
sys.path.insert(0, {src!r})
import numpy as np
X = np.random.default_rng(0).normal(size=(60, 10)).astype("float32")
if {plain}:
    import umap
    umap.UMAP(n_components=5, n_neighbors=30, min_dist=0.0, random_state=7).fit_transform(X)
else:
    from galclust.reducers.umap import fit_transform
    fit_transform(X, {{"n_components": 5, "n_neighbors": 30, "min_dist": 0.0}}, 7)
print("tensorflow" in sys.modules)
"""


KMEANS_JOB = """
import sys
sys.path.insert(0, {src!r})
if not {plain}:
    from galclust import leanimports
    leanimports.install()
import numpy as np
import galclust.stages.cluster
from galclust.cluster import fit_predict
from galclust.config import ClusteringJob
X = np.random.default_rng(0).normal(size=(60, 10)).astype("float32")
fit_predict(X, ClusteringJob(name="kmeans-k3", method="kmeans", params={{"k": 3, "n_init": 10}}), 7)
"""

TSNE_FIT = """
import sys
sys.path.insert(0, {src!r})
import numpy as np
X = np.random.default_rng(0).normal(size=(60, 10))
if {plain}:
    from openTSNE import TSNE
    TSNE(perplexity=10, n_iter=500, initialization="pca", n_jobs=1, random_state=7).fit(X)
else:
    from galclust.reducers.tsne import fit_transform
    fit_transform(X, {{"perplexity": 10}}, 7)
"""


def cpu_of(cmd: list[str]) -> float:
    """CPU seconds of one child process (and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, capture_output=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(cmd: list[str], repeat: int) -> float:
    return statistics.median(cpu_of(cmd) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--configfile", type=Path)
    args = parser.parse_args()
    src = str(REPO / "src")
    py = sys.executable
    plain = median_cpu([py, "-c", UMAP_FIT.format(src=src, plain=True)], args.repeat)
    ours = median_cpu([py, "-c", UMAP_FIT.format(src=src, plain=False)], args.repeat)
    print("| case | CPU s (median) | baseline CPU s | ratio |")
    print("|---|---|---|---|")
    print(f"| UMAP job, 60 rows: galclust.reducers.umap vs plain `import umap` | {ours:.2f} | {plain:.2f} | "
          f"{ours / plain:.2f} |")
    for case, code in (("k-means job, 60 rows: with vs without galclust.leanimports", KMEANS_JOB),
                       ("t-SNE map, 60 rows: galclust.reducers.tsne vs plain openTSNE", TSNE_FIT)):
        plain = median_cpu([py, "-c", code.format(src=src, plain=True)], args.repeat)
        ours = median_cpu([py, "-c", code.format(src=src, plain=False)], args.repeat)
        print(f"| {case} | {ours:.2f} | {plain:.2f} | {ours / plain:.2f} |")
    if args.workdir:
        cmd = [py, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(args.workdir),
               "--cores", "1", "-n"]
        if args.configfile:
            cmd += ["--configfile", str(args.configfile)]
        bare = median_cpu([py, "-m", "snakemake", "--version"], args.repeat)
        parse = median_cpu(cmd, args.repeat)
        print(f"| dry run (parse + DAG) vs `snakemake --version` | {parse:.2f} | {bare:.2f} | {parse / bare:.2f} |")


if __name__ == "__main__":
    main()
