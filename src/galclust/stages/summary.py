"""Rule ``summary``: a Markdown summary of the run: where to look, and the headline numbers."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import __version__
from ..atomic import write_text_atomic
from ..tables import read_table
from ..cluster import DEGENERATE_FRACTION, degenerate
from .common import PathLike


def summary(metrics_files: Sequence[PathLike], truth_table: PathLike, model_metrics: Sequence[PathLike],
            quality_tables: Sequence[PathLike], out: PathLike) -> None:
    """A Markdown summary of the run: where to look, and the headline numbers. It reads only its
    inputs (not the config hash, which results/manifest.json records), so only they rerun it."""
    metrics = [json.loads(Path(p).read_text()) for p in metrics_files]
    truth = read_table(truth_table)
    truth_by = {(str(r["clustering"]), str(r["truth"])): (float(r["ari"]), float(r["ami"])) for r in truth}
    truth_cols = sorted({t for _, t in truth_by})
    lines = ["# galclust run summary", "",
             f"galclust {__version__}; the config hash and what made each output: `results/manifest.json`", ""]
    for path in model_metrics:
        m = json.loads(Path(path).read_text())
        if m.get("target") is None:  # self-supervised: no catalog column learned
            knn = "".join(f", k-NN accuracy of {k[4:]} {v:.3f}" for k, v in m.items() if k.startswith("knn_"))
            lines.append(f"- {m['model']}: self-supervised (NT-Xent) on {m['n_train']} galaxies, "
                         f"final loss {m['final_loss']:.3f}{knn}")
            continue
        lines.append(f"- {m['model']} ({m['kind']}) trained on `{m['target']}` ({m.get('task', 'regression')}; "
                     f"{m['n_train']} train / {m['n_validation']} validation / {m['n_test']} test): {_test_scores(m)}")
    quality = [row for path in quality_tables for row in read_table(path)]
    if quality:
        lines += ["", "## Do the features hold the truth?", "",
                  "Cross-validated 10-nearest-neighbour and linear-probe accuracy of each feature set against "
                  "each truth column (independent of any clustering; *majority* is the accuracy of always "
                  "answering the commonest class).", "",
                  "| feature set | truth | galaxies | classes | k-NN accuracy | linear probe | majority |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for r in quality:
            lines.append(f"| {r['feature_set']} | {r['truth']} | {r['n']} | {r['n_classes']} | "
                         f"{_fmt(float(r['knn_accuracy']))} | {_fmt(float(r['probe_accuracy']))} | "
                         f"{_fmt(float(r['majority']))} |")
        lines += ["", "## Clusterings"]
    flagged = [(f"{m['feature_set']}/{m['clustering']}", why) for m in metrics if (why := degenerate(m))]
    if flagged:
        lines += ["", f"**{len(flagged)} clustering(s) found no structure** (more than "
                  f"{DEGENERATE_FRACTION:.0%} noise, or one cluster holding more than {DEGENERATE_FRACTION:.0%}); "
                  "their scores below are not results: "
                  + "; ".join(f"`{name}` ({why})" for name, why in flagged) + "."]
    lines += _closest(metrics, truth_by, truth_cols)
    lines += ["", "| feature set | clustering | clusters | noise | silhouette | CH | DB |"
              + "".join(f" ARI {c} | AMI {c} |" for c in truth_cols) + " note |",
              "|---|---|---:|---:|---:|---:|---:|" + "---:|---:|" * len(truth_cols) + "---|"]
    for m in metrics:
        key = f"{m['feature_set']}/{m['clustering']}"
        cells = [f"{m['feature_set']} ({m['label']})", m["clustering"], str(m["n_clusters"]), str(m["n_noise"]),
                 _fmt(m["silhouette"]), _fmt(m["calinski_harabasz"], 1), _fmt(m["davies_bouldin"])]
        for c in truth_cols:
            a, b = truth_by.get((key, c), (math.nan, math.nan))
            cells += [_fmt(a), _fmt(b)]
        why = degenerate(m)
        cells.append(f"no structure: {why}" if why else "")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Where to look: `results/clustering/<feature set>/<clustering>/` (summary.png, sizes.png, "
              "labels.ecsv, metrics.json, members/), `results/comparison/` (ARI/AMI heatmaps), "
              "`results/features/<feature set>/` (PCA variance, elbow, eigengap), `results/models/` (loss curves).", ""]
    write_text_atomic(out, "\n".join(lines))


def _closest(metrics: Sequence[dict], truth_by: dict[tuple[str, str], tuple[float, float]],
             truth_cols: Sequence[str]) -> list[str]:
    """One line per truth column: the clustering that agrees with it best (ARI), among those that
    found structure: the answer a reader looks for first, with what came second."""
    usable = [f"{m['feature_set']}/{m['clustering']}" for m in metrics if not degenerate(m)]
    out = []
    for c in truth_cols:
        scored = sorted(((truth_by[(k, c)], k) for k in usable if (k, c) in truth_by
                         and not math.isnan(truth_by[(k, c)][0])), key=lambda t: -t[0][0])
        if not scored:
            continue
        (ari, ami), best = scored[0]
        runner = f"; next `{scored[1][1]}` {scored[1][0][0]:.3f}" if len(scored) > 1 else ""
        out.append(f"- closest to `{c}`: `{best}`, ARI {ari:.3f} (AMI {ami:.3f}){runner}")
    return ["", *out] if out else []


def _test_scores(m: dict) -> str:
    """A training run's test scores in words: accuracies for classes, Pearson/Spearman r per output."""
    if "test_accuracy" in m:
        return (f"test accuracy {m['test_accuracy']:.3f}, balanced {m['test_balanced_accuracy']:.3f} "
                f"({', '.join(m['classes'])})")
    if "classes" in m:
        return f"too few test galaxies to score ({', '.join(m['classes'])})"
    pearson, spearman = np.atleast_1d(m["test_pearson"]), np.atleast_1d(m["test_spearman"])
    return "test " + "; ".join(f"Pearson r = {p:.3f}, Spearman = {s:.3f}" for p, s in zip(pearson, spearman))


def _fmt(value: float, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"
