"""Cross-validated k-NN and linear-probe accuracy (galclust.quality)."""

from __future__ import annotations

import numpy as np
import pytest

from galclust.quality import knn_accuracy, labelled_rows, linear_probe_accuracy, quality_table


def _blobs(n: int = 200, sep: float = 6.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.array(["a", "b"]), n // 2)
    X = rng.normal(size=(n, 5))
    X[y == "b", 0] += sep
    return X, y


def test_separable_classes_score_near_one_and_noise_near_chance() -> None:
    X, y = _blobs()
    assert knn_accuracy(X, y, seed=1) > 0.97
    assert linear_probe_accuracy(X, y, seed=1) > 0.97
    rng = np.random.default_rng(3)
    noise = rng.normal(size=X.shape)
    assert 0.3 < knn_accuracy(noise, y, seed=1) < 0.7
    assert 0.3 < linear_probe_accuracy(noise, y, seed=1) < 0.7


def test_knn_sees_local_structure_a_linear_probe_cannot() -> None:
    # XOR of two coordinates: neighbours agree, no single direction separates.
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, 2))
    y = np.where((X[:, 0] > 0) ^ (X[:, 1] > 0), "p", "q")
    assert knn_accuracy(X, y, seed=0) > 0.9
    assert linear_probe_accuracy(X, y, seed=0) < 0.7


def test_missing_labels_are_excluded() -> None:
    X, y = _blobs(100)
    ylist: list[object] = list(y)
    # Unlabelled rows far from their class: counted, they would lower the accuracy.
    X_extra = np.vstack([X, np.full((20, 5), 3.0)])
    for v in [None, float("nan"), "", "nan", "--"] * 4:
        ylist.append(v)
    assert labelled_rows(ylist)[0].tolist() == list(range(100))
    assert knn_accuracy(X_extra, ylist, seed=2) == knn_accuracy(X, y, seed=2)
    masked = np.ma.array(list(y) + ["a"] * 20, mask=[False] * 100 + [True] * 20)
    assert linear_probe_accuracy(X_extra, masked, seed=2) == linear_probe_accuracy(X, y, seed=2)


def test_nan_features_are_imputed_not_fatal() -> None:
    X, y = _blobs()
    X[::7, 2] = np.nan
    X[3, 0] = np.inf
    assert knn_accuracy(X, y, seed=0) > 0.95


def test_degenerate_inputs_give_nan_and_bad_inputs_raise() -> None:
    X, _ = _blobs(20)
    assert np.isnan(knn_accuracy(X, ["a"] * 20))
    assert np.isnan(linear_probe_accuracy(X, ["a"] * 19 + ["b"]))  # one row of a class: no folds
    with pytest.raises(ValueError):
        knn_accuracy(X, ["a", "b"] * 5)
    with pytest.raises(ValueError):
        knn_accuracy(X, ["a", "b"] * 10, k=0)


def test_deterministic_for_a_seed() -> None:
    X, y = _blobs(sep=1.0)
    assert knn_accuracy(X, y, seed=5) == knn_accuracy(X, y, seed=5)
    assert linear_probe_accuracy(X, y, seed=5) == linear_probe_accuracy(X, y, seed=5)


def test_quality_table_rows_and_majority() -> None:
    X, y = _blobs()
    y3 = np.array(["x"] * 150 + ["z"] * 50)
    table = quality_table({"good": X, "noise": np.random.default_rng(0).normal(size=X.shape)},
                          {"class": y, "other": y3}, seed=0)
    assert len(table) == 4
    assert table.colnames == ["feature_set", "truth", "n", "n_classes", "knn_accuracy", "probe_accuracy",
                              "majority"]
    row = table[(table["feature_set"] == "good") & (table["truth"] == "class")][0]
    assert row["knn_accuracy"] > 0.97 and row["n"] == 200 and row["n_classes"] == 2
    assert table[table["truth"] == "other"]["majority"][0] == pytest.approx(0.75)


def test_quality_plot_draws_every_feature_set_or_says_there_is_no_truth(tmp_path) -> None:
    from PIL import Image

    from galclust.stages.quality import quality_plot
    from galclust.tables import write_table

    X, y = _blobs()
    tables = []
    for name, features in (("profiles", X), ("pixels", np.random.default_rng(0).normal(size=X.shape))):
        table = quality_table({name: features}, {"class": y}, seed=0)
        tables.append(tmp_path / f"{name}.tsv")
        write_table(table, tables[-1])
    out = tmp_path / "quality.png"
    quality_plot(tables, out)
    with Image.open(out) as image:
        drawn = np.asarray(image.convert("L"))
    assert drawn.std() > 20  # a heat map, not a blank page

    empty = quality_table({"profiles": X}, {}, seed=0)
    write_table(empty, tmp_path / "empty.tsv")
    quality_plot([tmp_path / "empty.tsv"], tmp_path / "none.png")
    with Image.open(tmp_path / "none.png") as image:
        assert image.size[1] < drawn.shape[0]  # the small "no truth columns" figure
