"""Representation quality as the field measures it: k-NN and linear-probe accuracy.

ARI/AMI score one clustering; these two score the features themselves, whatever
the clustering method and k: does the morphology a truth column records live in
the feature space at all (k-NN: locally; linear probe: along a direction)?

Both are stratified k-fold cross-validated on the labelled rows only (rows whose
label is missing -- None, NaN, masked or an empty string -- are left out) and
return the mean held-out accuracy. Features are standardised inside each fold
(fit on the training part), as a probe would be in practice; non-finite feature
values are replaced by the training part's column median.

Memory: k-NN uses scikit-learn's tree/brute neighbour search on (n, d) floats --
O(n d) plus O(n_test k) -- and never an n x n matrix; the probe is O(n d).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from astropy.table import Table
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

__all__ = ["knn_accuracy", "labelled_rows", "linear_probe_accuracy", "quality_table"]


def labelled_rows(y: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the rows with a label, and those labels as strings.

    Missing: None, NaN, a masked entry, an empty or blank string, or the strings
    ``nan``/``none``/``--`` (how a masked cell reads back from a text table).
    """
    mask = np.ma.getmaskarray(y) if np.ma.isMaskedArray(y) else np.zeros(len(y), bool)
    keep, labels = [], []
    for i, v in enumerate(np.ma.getdata(y) if np.ma.isMaskedArray(y) else y):
        if mask[i] or v is None:
            continue
        if isinstance(v, (float, np.floating)) and not np.isfinite(v):
            continue
        s = str(v).strip()
        if s == "" or s.lower() in ("nan", "none", "--"):
            continue
        keep.append(i)
        labels.append(s)
    return np.asarray(keep, dtype=np.int64), np.asarray(labels, dtype=str)


def _prepare(X: np.ndarray, y: Sequence[Any] | np.ndarray, folds: int) -> tuple[np.ndarray, np.ndarray, int] | None:
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    idx, labels = labelled_rows(y)
    if len(idx) == 0:
        return None
    _, counts = np.unique(labels, return_counts=True)
    if len(counts) < 2:
        return None
    # Stratified folds need each class in every fold: fewer folds for a rare class.
    n_folds = int(min(folds, counts.min()))
    if n_folds < 2:
        return None
    return X[idx], labels, n_folds


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    med = np.nanmedian(np.where(np.isfinite(train), train, np.nan), axis=0)
    med = np.where(np.isfinite(med), med, 0.0)
    train = np.where(np.isfinite(train), train, med)
    test = np.where(np.isfinite(test), test, med)
    scaler = StandardScaler().fit(train)
    return scaler.transform(train), scaler.transform(test)


def _cross_validated(X: np.ndarray, y: Sequence[Any] | np.ndarray, folds: int, seed: int, make: Any) -> float:
    prepared = _prepare(X, y, folds)
    if prepared is None:
        return float("nan")
    Xl, labels, n_folds = prepared
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    correct = 0
    for train, test in splitter.split(Xl, labels):
        a, b = _standardise(Xl[train], Xl[test])
        model = make(len(train)).fit(a, labels[train])
        correct += int((model.predict(b) == labels[test]).sum())
    return correct / len(labels)


def knn_accuracy(X: np.ndarray, y: Sequence[Any] | np.ndarray, k: int = 10, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated k-nearest-neighbour label accuracy of features ``X`` (n, d).

    Stratified ``folds``-fold (shuffled with ``seed``), Euclidean distance on
    features standardised per fold, majority vote of the ``k`` neighbours (ties
    go to the nearer). Rows without a label are ignored; NaN when fewer than two
    classes or fewer than two rows of the rarest class remain.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return _cross_validated(
        X, y, folds, seed, lambda n_train: KNeighborsClassifier(n_neighbors=min(k, n_train), weights="uniform")
    )


def linear_probe_accuracy(
    X: np.ndarray, y: Sequence[Any] | np.ndarray, folds: int = 5, seed: int = 0, C: float = 1.0
) -> float:
    """Cross-validated accuracy of a logistic regression on standardised features.

    L2-regularised (inverse strength ``C``), lbfgs, multinomial for more than two
    classes; the same folds as :func:`knn_accuracy` for the same ``seed``.
    """
    return _cross_validated(
        X, y, folds, seed, lambda n_train: LogisticRegression(C=C, max_iter=2000, random_state=seed)
    )


def quality_table(
    features: Mapping[str, np.ndarray],
    truths: Mapping[str, Sequence[Any] | np.ndarray],
    *,
    k: int = 10,
    folds: int = 5,
    seed: int = 0,
) -> Table:
    """One row per (feature set, truth column): n labelled, n classes, k-NN and probe accuracy.

    Columns ``feature_set``, ``truth``, ``n``, ``n_classes``, ``knn_accuracy``,
    ``probe_accuracy`` and ``majority`` (the accuracy of always answering the
    commonest class: the floor both accuracies should be read against).
    """
    rows = []
    for name, X in features.items():
        for col, y in truths.items():
            idx, labels = labelled_rows(y)
            uniq, counts = np.unique(labels, return_counts=True)
            majority = float(counts.max() / counts.sum()) if len(counts) else float("nan")
            rows.append((
                name, col, len(idx), len(uniq),
                knn_accuracy(X, y, k=k, folds=folds, seed=seed),
                linear_probe_accuracy(X, y, folds=folds, seed=seed),
                majority,
            ))
    return Table(
        rows=rows or None,
        names=("feature_set", "truth", "n", "n_classes", "knn_accuracy", "probe_accuracy", "majority"),
        dtype=(str, str, np.int64, np.int64, np.float64, np.float64, np.float64),
    )
