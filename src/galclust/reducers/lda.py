"""Linear discriminant analysis (scikit-learn) as a supervised :class:`~galclust.reducers.base.Reducer` (``LDA-7``).

Supervised by a catalog class column named in ``features.<name>.reduce.target``. The fit
uses the rows whose class is known; rows with a missing class (masked, NaN, None or empty
string) are left out of the fit but projected like the others. ``n_components`` defaults
to (number of classes − 1) and may not exceed it, nor the number of features.

This is the reference study's "LDA-7" (8 classes → 7 axes): it uses the truth, so clusters
found on it measure how separable the known classes are, not what an unsupervised search
would find.

State (portable arrays): ``scalings`` (d × k), ``xbar`` (d), ``means`` (classes × d) and
``classes``; new rows are placed by ``(X − xbar) @ scalings``.

Memory: the input (n·d·4), scikit-learn's float64 centred and scaled copies (≈ 3·n·d·8), the
thin SVD of the n × d matrix (U: n·min(n, d)·8, Vt: min(n, d)·d·8), the class means and the
n × k output. No n × n matrix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..arrays import as_rows
from ..errors import ConfigError
from ..params import key_of
from .base import Embedding, Reducer, label

_MISSING_STRINGS = frozenset({"", "--", "nan", "none", "null", "n/a"})


def missing_mask(target: np.ndarray) -> np.ndarray:
    """True where a class label is missing: masked, NaN, None or an empty/'nan'-like string."""
    mask = np.zeros(len(target), dtype=bool)
    if np.ma.isMaskedArray(target):
        mask |= np.ma.getmaskarray(target)
        target = np.ma.getdata(target)
    arr = np.asarray(target)
    if arr.dtype.kind == "f":
        mask |= ~np.isfinite(arr)
    elif arr.dtype.kind in "USO":
        for i, value in enumerate(arr.tolist()):
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                mask[i] = True
            elif isinstance(value, (str, bytes)):
                text = value.decode() if isinstance(value, bytes) else value
                mask[i] = text.strip().lower() in _MISSING_STRINGS
    return mask


def _target_key(params: Mapping[str, Any]) -> str:
    return f"{key_of(params)}.target"


def fit_transform(X: np.ndarray, params: Mapping[str, Any], seed: int, target: np.ndarray | None = None) -> Embedding:
    """Fit LDA on the rows with a known class in ``target`` and project every row.

    Raises ConfigError naming ``features.<name>.reduce.target`` when no target column is
    named or given, when it has fewer than 2 distinct classes among the known rows, and
    naming ``features.<name>.reduce.n_components`` when more axes are asked than
    (classes − 1) or the number of features allows. ``seed`` is unused (the svd solver is exact).
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # noqa: PLC0415

    column = params.get("target")
    if not column:
        raise ConfigError(f"config key '{_target_key(params)}': LDA is supervised and needs a catalog class column")
    if target is None:
        raise ConfigError(f"config key '{_target_key(params)}': the catalog has no column '{column}'")
    X = as_rows(X, "LDA")
    if len(target) != len(X):
        raise ValueError(f"LDA: {len(X)} rows of features but {len(target)} values of '{column}'")
    missing = missing_mask(target)
    known = np.asarray(np.ma.getdata(target))[~missing]
    known = known.astype(str) if known.dtype.kind in "OSU" else known
    classes = np.unique(known)
    if len(classes) < 2:
        raise ConfigError(
            f"config key '{_target_key(params)}': column '{column}' has {len(classes)} distinct class(es) "
            f"among {len(known)} labelled rows; LDA needs at least 2"
        )
    most = min(len(classes) - 1, X.shape[1])
    wanted = params.get("n_components")
    if wanted is None:
        k = most
    elif isinstance(wanted, bool) or not isinstance(wanted, (int, np.integer)) or wanted < 1:
        raise ConfigError(f"config key '{key_of(params)}.n_components': expected an integer >= 1, got {wanted!r}")
    elif wanted > most:
        raise ConfigError(
            f"config key '{key_of(params)}.n_components': {wanted} axes asked, but LDA gives at most "
            f"min(classes - 1, features) = min({len(classes) - 1}, {X.shape[1]}) = {most} "
            f"(column '{column}' has {len(classes)} classes)"
        )
    else:
        k = int(wanted)
    lda = LinearDiscriminantAnalysis(n_components=k, solver="svd")
    lda.fit(X[~missing], known)
    state = {
        "scalings": np.asarray(lda.scalings_[:, :k], dtype=np.float64),
        "xbar": np.asarray(lda.xbar_, dtype=np.float64),
        "means": np.asarray(lda.means_, dtype=np.float64),
        "classes": np.asarray(lda.classes_).astype(str),
    }
    values = transform(state, X, params)
    ratio = np.asarray(lda.explained_variance_ratio_[:k], dtype=np.float64)
    info = {
        "route": "svd",
        "label": label("LDA", k),
        "n_components": k,
        "target": str(column),
        "n_classes": int(len(classes)),
        "n_fitted": int((~missing).sum()),
        "n_missing_target": int(missing.sum()),
        "explained_variance_ratio": ratio.tolist(),
        "supervised": "uses the truth column: scores on it measure class separability, not discovery",
    }
    return Embedding(values=values, state=state, info=info)


def transform(state: Mapping[str, np.ndarray], X: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """Project rows with a fitted state: ``(X − xbar) @ scalings`` (float32, n × k)."""
    X = as_rows(X, "LDA transform")
    scalings, xbar = np.asarray(state["scalings"]), np.asarray(state["xbar"])
    if X.shape[1] != scalings.shape[0]:
        raise ValueError(f"LDA transform: rows have {X.shape[1]} features, the fit had {scalings.shape[0]}")
    return ((X.astype(np.float64, copy=False) - xbar) @ scalings).astype(np.float32)


def memory_bytes(n: int, d: int, params: Mapping[str, Any]) -> int:
    """Predicted peak bytes of :func:`fit_transform` on an n × d float32 array."""
    r = min(n, d)
    k = int(params.get("n_components") or min(d, 16))
    return int(4 * n * d + 3 * 8 * n * d + 8 * n * r + 8 * r * d + 8 * 64 * d + 4 * n * k)


REDUCER = Reducer(
    name="lda",
    label="LDA",
    fit_transform=fit_transform,
    memory_bytes=memory_bytes,
    transform=transform,
    supervised=True,
    description="linear discriminant analysis on a catalog class column (supervised; transform available)",
)
