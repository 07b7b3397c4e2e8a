"""Training a network on catalog labels: what the target is and how it is fitted.

``train.target`` is one catalog column or a list of them, and ``train.task`` says what is
learnt from it:

* ``regression`` — one column (the reference study's λ_R) or several (Galaxy Zoo vote
  fractions, as Zoobot): linear outputs, mean squared error; rows with any missing value
  are left out;
* ``classification`` — one column of classes (Galaxy Zoo's spiral / elliptical, as seeds
  002/003): softmax over the classes seen in the training rows, cross-entropy weighted by
  ``n / (k · n_class)`` so a rare class counts as much as a common one; rows with an empty
  or masked class are left out;
* ``auto`` (default) — classification for a text or boolean column, else regression.

:func:`fit_supervised` is the training loop the reference CNN and fine-tuned backbones
share (Adam, reduce-on-plateau as in the study), with test-set scores for the task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigError

if TYPE_CHECKING:  # annotations only: every parse imports this module (target_columns)
    from astropy.table import Table

log = logging.getLogger(__name__)

TASKS = ("auto", "regression", "classification")
REGRESSION = "regression"
CLASSIFICATION = "classification"


def target_columns(settings: Mapping[str, Any]) -> list[str]:
    """``train.target`` as a list of column names."""
    target = settings["target"]
    return [str(target)] if isinstance(target, str) else [str(t) for t in target]


def resolve_task(settings: Mapping[str, Any], catalog: Table, key: str) -> str:
    """``regression`` or ``classification`` for ``train`` settings on this catalog; a missing
    column, or classes from several columns, names the config key."""
    columns = target_columns(settings)
    for column in columns:
        if column not in catalog.colnames:
            raise ConfigError(f"config key '{key}.target': the catalog has no column '{column}' "
                              f"(columns: {', '.join(catalog.colnames)})")
    task = str(settings.get("task", "auto"))
    if task == "auto":
        kinds = {np.asarray(catalog[c]).dtype.kind for c in columns}
        task = CLASSIFICATION if len(columns) == 1 and kinds <= set("USOb") else REGRESSION
    if task == CLASSIFICATION and len(columns) != 1:
        raise ConfigError(f"config key '{key}.task': classification learns one class column, "
                          f"got {len(columns)} ({', '.join(columns)})")
    return task


def catalog_targets(catalog: Table, columns: Sequence[str], task: str, key: str) -> dict[str, Any]:
    """id -> target: a class name (``None`` when missing) for classification, else a float, or
    a float vector for several columns (NaN when missing). A column that is not numeric for a
    regression names the key and the column."""
    ids = np.asarray(catalog["id"], dtype=str)
    if task == CLASSIFICATION:
        from .quality import labelled_rows  # what counts as "no class": as for the truth columns

        rows, names = labelled_rows(catalog[columns[0]])
        out: dict[str, Any] = dict.fromkeys(ids.tolist())
        out.update(zip(ids[rows].tolist(), names.tolist()))
        return out
    values = np.empty((len(catalog), len(columns)))
    for j, name in enumerate(columns):
        column = catalog[name]
        try:
            filled = column.filled(np.nan) if hasattr(column, "filled") else column
            values[:, j] = np.asarray(filled, dtype=float)
        except (TypeError, ValueError):
            raise ConfigError(f"config key '{key}.target': column '{name}' is not numeric; set "
                              f"{key}.task: classification to learn it as classes") from None
    if len(columns) == 1:
        return dict(zip(ids, values[:, 0]))
    return dict(zip(ids, values))


def usable(value: Any) -> bool:
    """Whether a target from :func:`catalog_targets` can be trained on."""
    if value is None:
        return False
    return bool(np.all(np.isfinite(value))) if not isinstance(value, str) else True


def balanced_class_weights(codes: np.ndarray, n_classes: int) -> dict[int, float]:
    """``n / (k · n_c)`` per class (scikit-learn's ``class_weight='balanced'``)."""
    counts = np.bincount(codes, minlength=n_classes)
    return {c: float(len(codes) / (n_classes * counts[c])) for c in range(n_classes) if counts[c]}


@dataclass
class FitResult:
    """What a supervised training run produced, besides the model."""

    history: dict[str, list[float]]
    scores: dict[str, Any]
    n_train: int
    n_validation: int
    n_test: int
    split: dict[str, list[int]] = field(default_factory=dict)


def split_indices(
    n: int, validation_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded train/validation/test split of ``n`` rows (each part ≥ 1 row)."""
    if n < 3:
        raise ValueError(f"need at least 3 galaxies with a training target, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    n_val = max(1, int(round(n * validation_fraction)))
    n_train = n - n_val - n_test
    if n_train < 1:
        raise ValueError(f"{n} galaxies are too few for the requested validation/test fractions")
    return order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]


@dataclass(frozen=True)
class Head:
    """The output a task needs: units, activation, loss, and the encoded targets."""

    units: int
    activation: str | None
    loss: str
    y: np.ndarray
    classes: list[str] | None = None


def head_for(target: np.ndarray, task: str) -> Head:
    """Encode ``target`` for ``task``: class names to codes (sorted names), floats kept."""
    if task == CLASSIFICATION:
        classes, codes = np.unique(np.asarray(target).astype(str), return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"classification needs at least 2 classes in the training rows, got {list(classes)}")
        return Head(len(classes), "softmax", "sparse_categorical_crossentropy", codes.astype(np.int32),
                    [str(c) for c in classes])
    y = np.asarray(target, dtype=np.float32)
    return Head(1 if y.ndim == 1 else int(y.shape[1]), None, "mse", y)


# batches run per compiled call in Keras's fit (callbacks here act per epoch, so no later)
STEPS_PER_EXECUTION = 32


def fit_supervised(
    build: Callable[[Head], Any],
    images: np.ndarray,
    target: np.ndarray,
    task: str,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
    policy: str = "float32",
) -> tuple[Any, FitResult]:
    """Seed Keras, build the network for the task's head, train it (Adam, reduce-on-plateau:
    patience 5, factor 0.2, floor 1e-5, on the validation loss), and score the test rows.

    ``policy``: the Keras dtype policy the network is built and trained in (``mixed_float16``
    on a GPU: Keras scales the loss); the model returned computes in float32 either way, so
    features extracted from it on a CPU are float32 too."""
    import keras

    from .precision import dtype_policy, effective_policy, with_dtype_policy

    keras.utils.set_random_seed(seed)
    images = np.asarray(images, dtype=np.float32)
    head = head_for(target, task)
    train, val, test = split_indices(len(images), validation_fraction, test_fraction, seed)
    with dtype_policy(policy):
        model = build(head)
    log.info("training in %s, batches of %d", effective_policy(model), batch_size)
    # several batches per compiled call: the same updates in the same order (same weights,
    # bit for bit), a quarter less Python overhead per step on small CPU batches
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=head.loss,
                  steps_per_execution=STEPS_PER_EXECUTION)
    reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5, min_lr=1e-5)
    progress = EpochProgress(epochs)
    weights = balanced_class_weights(head.y[train], head.units) if task == CLASSIFICATION else None
    fit = model.fit(
        images[train],
        head.y[train],
        validation_data=(images[val], head.y[val]),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        callbacks=[reduce_lr, progress.callback()],
        verbose=2,
        **({"class_weight": weights} if weights else {}),
    )
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    model = with_dtype_policy(model, "float32", strict=True)
    scores = test_scores(model, images[test], head, test, batch_size)
    if weights:
        scores["class_weights"] = {head.classes[c]: w for c, w in weights.items()}  # type: ignore[index]
    result = FitResult(history, scores, len(train), len(val), len(test),
                       {"train": train.tolist(), "validation": val.tolist(), "test": test.tolist()})
    return model, result


class EpochProgress:
    """Epochs done, time per epoch and time left, logged after every epoch (training can take hours)."""

    def __init__(self, epochs: int, label: str = "training") -> None:
        from .progress import ProgressLog

        self.log = ProgressLog(label, epochs, unit="epochs", interval=0.0, logger=log)

    def callback(self) -> Any:
        import keras

        progress = self.log

        class _Epochs(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
                progress.advance(1)
                if progress.done >= progress.total:
                    progress.finish()

        return _Epochs()


def test_scores(model: Any, images: np.ndarray, head: Head, test: np.ndarray, batch_size: int) -> dict[str, Any]:
    """Accuracy and balanced accuracy (classes), Pearson and Spearman r per output (regression)."""
    from scipy import stats

    scores: dict[str, Any] = {"test_pearson": float("nan"), "test_spearman": float("nan")}
    if head.classes is not None:
        scores = {"classes": head.classes}
    if len(test) < 3:
        return scores
    predicted = np.asarray(model.predict(images, batch_size=batch_size, verbose=0))
    truth = head.y[test]
    if head.classes is not None:
        from sklearn.metrics import balanced_accuracy_score

        guess = predicted.argmax(axis=1)
        scores["test_accuracy"] = float(np.mean(guess == truth))
        scores["test_balanced_accuracy"] = float(balanced_accuracy_score(truth, guess))
        return scores
    predicted = predicted.reshape(len(test), -1)
    truth = truth.reshape(len(test), -1)
    pearson, spearman = [], []
    for j in range(truth.shape[1]):
        ok = np.std(predicted[:, j]) > 0 and np.std(truth[:, j]) > 0
        pearson.append(float(stats.pearsonr(predicted[:, j], truth[:, j])[0]) if ok else float("nan"))
        spearman.append(float(stats.spearmanr(predicted[:, j], truth[:, j])[0]) if ok else float("nan"))
    if truth.shape[1] == 1:
        return {"test_pearson": pearson[0], "test_spearman": spearman[0]}
    return {"test_pearson": pearson, "test_spearman": spearman}


def target_label(settings: Mapping[str, Any]) -> str:
    """The target as a plot title says it: the column, or the first of several."""
    columns = target_columns(settings)
    if len(columns) == 1:
        return columns[0]
    return f"{len(columns)} columns ({', '.join(columns[:3])}{'…' if len(columns) > 3 else ''})"


def training_metrics(settings: Mapping[str, Any], task: str, result: FitResult) -> dict[str, Any]:
    """metrics.json of a supervised training run: target, task, split sizes, test scores."""
    return {"target": settings["target"], "task": task, "n_train": result.n_train,
            "n_validation": result.n_validation, "n_test": result.n_test, **result.scores}
