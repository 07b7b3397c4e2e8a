"""The reference study's CNN (Duckworth et al., sdss_CNN) in Keras 3, and its training.

Written against ``keras`` only (no backend calls), so any Keras backend runs it.
Layer names are stable so features can be cut by name: ``flatten`` (the
flattened last convolutional block, 14×14×192 = 37,632 values at 80×80 input)
and ``dense_128`` (the 128-node hidden layer).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FLATTEN = "flatten"
DENSE_128 = "dense_128"


def build_reference_cnn(input_size: int = 80, *, augment: bool = True) -> Any:
    """The study's network: five conv layers, dense 128, dense 64, one linear output.

    With ``augment`` the study's augmentation (zoom ±25 %, rotation ±45°, flips,
    shifts of 5 %) is a block at the input; Keras applies it in training only, so
    inference and feature extraction see the images unchanged.
    """
    import keras
    from keras import layers

    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = inputs
    if augment:
        x = keras.Sequential(
            [
                layers.RandomFlip("horizontal_and_vertical"),
                layers.RandomRotation(45 / 360, fill_mode="constant"),
                layers.RandomZoom((-0.25, 0.25), fill_mode="constant"),
                layers.RandomTranslation(0.05, 0.05, fill_mode="constant"),
            ],
            name="augment",
        )(x)
    x = layers.Conv2D(64, 6, activation="relu", name="conv1")(x)
    x = layers.Dropout(0.5, name="drop1")(x)
    x = layers.Conv2D(96, 5, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Dropout(0.25, name="drop2")(x)
    x = layers.Conv2D(128, 2, activation="relu", name="conv3")(x)
    x = layers.MaxPooling2D(2, name="pool3")(x)
    x = layers.Dropout(0.25, name="drop3")(x)
    x = layers.Conv2D(192, 3, activation="relu", name="conv4")(x)
    x = layers.Dropout(0.25, name="drop4")(x)
    x = layers.Conv2D(192, 2, activation="relu", name="conv5")(x)
    x = layers.Dropout(0.25, name="drop5")(x)
    x = layers.Flatten(name=FLATTEN)(x)
    x = layers.Dense(128, activation="relu", name=DENSE_128)(x)
    x = layers.Dropout(0.25, name="drop6")(x)
    x = layers.Dense(64, name="dense_64")(x)
    outputs = layers.Dense(1, name="output")(x)
    return keras.Model(inputs, outputs, name="reference_cnn")


@dataclass
class TrainResult:
    """What a training run produced, besides the model."""

    history: dict[str, list[float]]
    test_pearson: float
    test_spearman: float
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


def train_reference_cnn(
    images: np.ndarray,
    target: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    augment: bool = True,
    seed: int = 0,
) -> tuple[Any, TrainResult]:
    """Train the reference CNN to regress ``target`` from ``images`` (N, s, s, 3).

    Adam, MSE, reduce-on-plateau (patience 5, factor 0.2, floor 1e-5) on the
    validation loss, as in the study. Returns the model and a :class:`TrainResult`.
    """
    import keras
    from scipy import stats

    keras.utils.set_random_seed(seed)
    images = np.asarray(images, dtype=np.float32)
    target = np.asarray(target, dtype=np.float32)
    train, val, test = split_indices(len(images), validation_fraction, test_fraction, seed)
    model = build_reference_cnn(images.shape[1], augment=augment)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    reduce_lr = keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.2, patience=5, min_lr=1e-5
    )
    fit = model.fit(
        images[train],
        target[train],
        validation_data=(images[val], target[val]),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        callbacks=[reduce_lr],
        verbose=2,
    )
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    pearson = spearman = float("nan")
    if len(test) >= 3:
        predicted = model.predict(images[test], batch_size=batch_size, verbose=0).ravel()
        if np.std(predicted) > 0:
            pearson = float(stats.pearsonr(predicted, target[test])[0])
            spearman = float(stats.spearmanr(predicted, target[test])[0])
    result = TrainResult(
        history, pearson, spearman, len(train), len(val), len(test),
        {"train": train.tolist(), "validation": val.tolist(), "test": test.tolist()},
    )
    return model, result


def save_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Save a Keras model atomically (``.keras`` zip format)."""
    from .atomic import atomic_path

    with atomic_path(path) as tmp:
        model.save(str(tmp))


def load_model(path: str | os.PathLike[str]) -> Any:
    """Load a ``.keras`` model safely (no arbitrary code: safe_mode stays on)."""
    import keras

    if not str(path).endswith(".keras"):
        raise ValueError(f"{path}: expected a .keras model file")
    return keras.saving.load_model(str(path), compile=False, safe_mode=True)
