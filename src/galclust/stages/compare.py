"""Rule ``compare``: ARI/AMI between all clusterings, and against the catalog's truth columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from astropy.table import Table

from ..errors import ConfigError
from ..tables import read_table, write_table
from .common import PathLike, placeholder_figure


def compare(truth_cols: Sequence[str], labels_paths: Sequence[PathLike], catalog_path: PathLike | None,
            pairwise_table: PathLike, ari_plot: PathLike, ami_plot: PathLike,
            truth_table: PathLike, truth_plot: PathLike, families: dict[str, list[str]] | None = None,
            views_plot: PathLike | None = None, threads: int = 1) -> dict[str, Any]:
    """ARI/AMI between all clusterings (``threads`` pairs at a time), and against the catalog's
    truth columns."""
    from ..compare import against, align, pairwise
    from ..plots import score_heatmap

    labelings = {}
    for path in labels_paths:
        t = read_table(path)
        labelings[f"{t.meta['feature_set']}/{t.meta['clustering']}"] = (np.asarray(t["id"], dtype=str), np.asarray(t["label"]))
    ids, aligned = align(labelings)
    names = list(aligned)
    ari, ami = pairwise(aligned, threads)
    rows = [(a, b, ari[i, j], ami[i, j]) for i, a in enumerate(names) for j, b in enumerate(names) if j > i]
    write_table(Table(rows=rows or None, names=("a", "b", "ari", "ami"), dtype=(str, str, float, float)), pairwise_table)
    score_heatmap(ari, names, names, ari_plot, title="adjusted Rand index between clusterings", vmin=-0.1)
    score_heatmap(ami, names, names, ami_plot, title="adjusted mutual information between clusterings", vmin=-0.1)
    truth_cols = list(truth_cols)
    truth_rows: list[tuple[str, str, float, float]] = []
    if catalog_path is not None and truth_cols:
        catalog = read_table(catalog_path)
        missing = [c for c in truth_cols if c not in catalog.colnames]
        if missing:
            raise ConfigError(f"config key 'catalog.truth': column(s) {', '.join(missing)} not in the catalog")
        index = {g: i for i, g in enumerate(np.asarray(catalog["id"], dtype=str))}
        known = np.array([g in index for g in ids])
        if known.any():
            sel = [index[g] for g in ids[known]]
            truths = {c: np.asarray(catalog[c])[sel].astype(str) for c in truth_cols}
            t_ari, t_ami = against({n: l[known] for n, l in aligned.items()}, truths)
            for i, n in enumerate(names):
                for j, c in enumerate(truth_cols):
                    truth_rows.append((n, c, float(t_ari[i, j]), float(t_ami[i, j])))
            both = np.column_stack([t_ari, t_ami])
            cols = [f"ARI vs {c}" for c in truth_cols] + [f"AMI vs {c}" for c in truth_cols]
            score_heatmap(both, names, cols, truth_plot, title="agreement with the catalog's truth", vmin=-0.1)
    if not truth_rows:
        placeholder_figure(truth_plot, "no truth columns in the catalog (catalog.truth)")
    write_table(Table(rows=truth_rows or None, names=("clustering", "truth", "ari", "ami"),
                      dtype=(str, str, float, float)), truth_table)
    if views_plot is not None:
        _views_figure(names, ari, families or {}, views_plot)
    return {"pairwise": rows, "truth": truth_rows}


def _views_figure(names: list[str], ari: np.ndarray, families: dict[str, list[str]], path: PathLike) -> None:
    """ARI between the clusterings of a feature set and of its views (PCA vs t-SNE vs LDA...):
    the question of seed 003, one figure for all families, ordered by family."""
    from ..plots import score_heatmap

    members = {fs for group in families.values() for fs in group}
    order = [i for root in families for fs in families[root] for i, n in enumerate(names)
             if n.split("/", 1)[0] == fs and fs in members]
    if len(order) < 2:
        placeholder_figure(path, "no views configured (feature sets with 'from' and 'reduce')")
        return
    sub = ari[np.ix_(order, order)]
    labels = [names[i] for i in order]
    score_heatmap(sub, labels, labels, path, title="ARI between clusterings of a feature set's views", vmin=-0.1)
