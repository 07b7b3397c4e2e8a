"""Rule ``quality``: does a feature set hold the truth at all, whatever the clustering?

k-NN label accuracy (k = 10) and a linear probe, both cross-validated, against each truth
column of the catalog: the field's measures of a representation, independent of k and method.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..store import read_array, read_attrs, read_ids
from ..tables import read_table, write_table
from .common import PathLike


def quality(fs_name: str, truth: Sequence[str], seed: int, reduced: PathLike, catalog_path: PathLike | None,
            out: PathLike) -> None:
    """``quality.tsv``: feature_set, truth, n, n_classes, knn_accuracy, probe_accuracy, majority."""
    from astropy.table import Table

    from ..quality import quality_table

    X, ids = read_array(reduced, "features"), read_ids(reduced)
    truths: dict[str, np.ndarray] = {}
    if catalog_path is not None and truth:
        catalog = read_table(catalog_path)
        index = {g: i for i, g in enumerate(np.asarray(catalog["id"], dtype=str))}
        rows = np.array([index.get(g, -1) for g in ids])
        for column in truth:
            values = np.asarray(catalog[column]).astype(str)
            truths[column] = np.where(rows >= 0, values[np.maximum(rows, 0)], "")
    table = quality_table({fs_name: X}, truths, seed=seed) if truths else Table(
        names=("feature_set", "truth", "n", "n_classes", "knn_accuracy", "probe_accuracy", "majority"),
        dtype=(str, str, int, int, float, float, float))
    table.meta["label"] = read_attrs(reduced).get("label", fs_name)
    write_table(table, out)


def quality_plot(tables: Sequence[PathLike], out: PathLike) -> None:
    """``comparison/quality.png``: the k-NN and linear-probe accuracy of every feature set (rows)
    against every truth column, with the majority-class accuracy beside them (chance level);
    a figure that says so when the catalog has no truth columns."""
    from ..plots import score_heatmap
    from .common import placeholder_figure

    rows = [row for path in tables for row in read_table(path)]
    if not rows:
        placeholder_figure(out, "no truth columns in the catalog (catalog.truth)")
        return
    feature_sets = list(dict.fromkeys(str(r["feature_set"]) for r in rows))
    truths = list(dict.fromkeys(str(r["truth"]) for r in rows))
    measures = {"knn_accuracy": "10-NN", "probe_accuracy": "linear probe", "majority": "majority"}
    columns = [(t, m) for t in truths for m in measures]
    matrix = np.full((len(feature_sets), len(columns)), np.nan)
    for r in rows:
        for m in measures:
            matrix[feature_sets.index(str(r["feature_set"])), columns.index((str(r["truth"]), m))] = float(r[m])
    score_heatmap(matrix, feature_sets, [f"{t}: {measures[m]}" for t, m in columns], out,
                  title="do the features hold the truth? (cross-validated accuracy)")
