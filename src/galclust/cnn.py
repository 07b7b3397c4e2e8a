"""The reference study's CNN (Duckworth et al., sdss_CNN) in Keras 3, and its training.

Written against ``keras`` only (no backend calls), so any Keras backend runs it.
Layer names are stable so features can be cut by name: ``flatten`` (the
flattened last convolutional block, 14×14×192 = 37,632 values at 80×80 input)
and ``dense_128`` (the 128-node hidden layer).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from .supervised import FitResult, Head, fit_supervised

log = logging.getLogger(__name__)

FLATTEN = "flatten"
DENSE_128 = "dense_128"


def study_augmentation(name: str = "augment") -> Any:
    """The study's augmentation (zoom ±25 %, rotation ±45°, flips, shifts of 5 %) as one block;
    Keras applies it in training only."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomFlip("horizontal_and_vertical"),
            layers.RandomRotation(45 / 360, fill_mode="constant"),
            layers.RandomZoom((-0.25, 0.25), fill_mode="constant"),
            layers.RandomTranslation(0.05, 0.05, fill_mode="constant"),
        ],
        name=name,
    )


def build_reference_cnn(input_size: int = 80, *, augment: bool = True, n_outputs: int = 1,
                        output_activation: str | None = None) -> Any:
    """The study's network: five conv layers, dense 128, dense 64, one linear output
    (``n_outputs`` outputs with ``output_activation`` for other targets: softmax for classes).

    With ``augment`` the study's augmentation (zoom ±25 %, rotation ±45°, flips,
    shifts of 5 %) is a block at the input; Keras applies it in training only, so
    inference and feature extraction see the images unchanged.
    """
    import keras
    from keras import layers

    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = inputs
    if augment:
        x = study_augmentation()(x)
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
    outputs = layers.Dense(n_outputs, activation=output_activation, name="output")(x)
    return keras.Model(inputs, outputs, name="reference_cnn")


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
    task: str = "regression",
    seed: int = 0,
    policy: str = "float32",
) -> tuple[Any, FitResult]:
    """Train the reference CNN on ``target`` from ``images`` (N, s, s, 3), in the dtype
    ``policy`` (see :func:`galclust.supervised.fit_supervised`).

    ``task`` regression: one column (the study's λ_R) or several (vote fractions), MSE;
    classification: class names, softmax and class-weighted cross-entropy
    (:mod:`galclust.supervised`). Adam and reduce-on-plateau as in the study.
    """
    def build(head: Head) -> Any:
        return build_reference_cnn(np.shape(images)[1], augment=augment, n_outputs=head.units,
                                   output_activation=head.activation)

    return fit_supervised(build, images, target, task, epochs=epochs, batch_size=batch_size,
                          learning_rate=learning_rate, validation_fraction=validation_fraction,
                          test_fraction=test_fraction, seed=seed, policy=policy)


def save_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Save a Keras model atomically (``.keras`` zip format)."""
    from .atomic import atomic_path

    with atomic_path(path) as tmp:
        model.save(str(tmp))


def load_model(path: str | os.PathLike[str]) -> Any:
    """Load a ``.keras`` model safely (no arbitrary code: safe_mode stays on)."""
    import keras

    from .errors import ConfigError

    if not str(path).endswith(".keras"):
        raise ConfigError(f"{path}: expected a .keras model file")
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such model file")
    try:
        return keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as exc:  # a corrupt zip, a foreign file, a layer needing custom code
        reason = " ".join(str(exc).split())[:300]
        raise ConfigError(f"{path}: cannot load as a Keras model without custom code ({type(exc).__name__}: "
                          f"{reason})") from None
