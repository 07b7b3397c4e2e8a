"""A compact galaxy encoder that a CPU can train on real labelled galaxies (model kind ``encoder``).

The reference CNN (:mod:`galclust.cnn`) has 37,632 flattened features and ~5 M weights in its
dense layers; trained on a few thousand real galaxies on a CPU it stays near chance. This
network is all-convolutional with batch normalisation and global average pooling (0.44 M
weights at the default widths), so it learns from a few thousand galaxies in tens of CPU minutes, and its 64-d
``embedding`` layer is the feature set: trained on several Galaxy Zoo classes it carries over
to galaxies and classes it never saw (``bench/transfer.py``).

The augmentation block is made of built-in Keras layers only, so the saved ``.keras`` file
loads with ``safe_mode`` and no galclust code. It draws the nuisances real cutouts have and a
label must not depend on: flips and small rotations (the preprocessing already turned the
major axis horizontal; ``rotation`` is the degrees left to its error, 180 for unaligned
cutouts), size and centring jitter, seeing (a Gaussian blur), sky noise, and brightness and
contrast gains. Keras applies it in training only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .supervised import FitResult, Head, fit_supervised

EMBEDDING = "embedding"
POOL = "pool"

#: the augmentation when ``train.augmentations`` does not say otherwise
DEFAULT_AUGMENTATIONS: dict[str, float] = {
    "rotation": 15.0,  # degrees either way
    "zoom": 0.15,  # size jitter, fraction either way
    "shift": 0.05,  # centring jitter, fraction of the frame
    "blur": 1.0,  # largest Gaussian sigma in pixels (seeing)
    "noise": 0.02,  # Gaussian sky noise, in the [0, 1] pixel scale
    "contrast": 0.2,  # contrast gain, fraction either way
}


def augmentation_block(settings: Mapping[str, float] | None = None, seed: int = 0, name: str = "augment") -> Any:
    """The training-only nuisance draws as one ``keras.Sequential`` of built-in layers."""
    import keras
    from keras import layers

    s = {**DEFAULT_AUGMENTATIONS, **(settings or {})}
    steps: list[Any] = [layers.RandomFlip("horizontal_and_vertical", seed=seed)]
    if s["rotation"] > 0:
        steps.append(layers.RandomRotation(s["rotation"] / 360.0, fill_mode="constant", seed=seed + 1))
    if s["zoom"] > 0:
        steps.append(layers.RandomZoom((-s["zoom"], s["zoom"]), fill_mode="constant", seed=seed + 2))
    if s["shift"] > 0:
        steps.append(layers.RandomTranslation(s["shift"], s["shift"], fill_mode="constant", seed=seed + 3))
    if s["blur"] > 0:
        # the value range tells Keras the images are in [0, 1]; factor 1 draws any sigma up to the bound
        steps.append(layers.RandomGaussianBlur(factor=1.0, kernel_size=5, sigma=max(float(s["blur"]), 1e-3),
                                               value_range=(0.0, 1.0), seed=seed + 4))
    if s["contrast"] > 0:
        steps.append(layers.RandomContrast(s["contrast"], value_range=(0.0, 1.0), seed=seed + 5))
    if s["noise"] > 0:
        steps.append(layers.GaussianNoise(s["noise"], seed=seed + 6))
    return keras.Sequential(steps, name=name)


def build_encoder(input_size: int = 80, *, n_outputs: int = 5, output_activation: str | None = "softmax",
                  widths: tuple[int, ...] = (32, 64, 128), embedding: int = 64, dropout: float = 0.3,
                  augment: bool = True, augmentations: Mapping[str, float] | None = None, seed: int = 0) -> Any:
    """The encoder: per width two 3×3 convolutions (the second with stride 2), batch norm and
    ReLU; one more convolution at the last width; global average pooling (``pool``); a dense
    ``embedding`` layer; dropout; the head (``output``)."""
    import keras
    from keras import layers

    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = inputs
    if augment:
        x = augmentation_block(augmentations, seed=seed)(x)

    def conv(x: Any, width: int, stride: int, name: str) -> Any:
        x = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
        # momentum 0.9, not Keras's 0.99: the moving statistics follow the weights within an epoch
        # of a few thousand galaxies, so validation and features see what training saw
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
        return layers.Activation("relu", name=f"{name}_relu")(x)

    for i, width in enumerate(widths, start=1):
        x = conv(x, width, 1, f"block{i}a")
        x = conv(x, width, 2, f"block{i}b")
    x = conv(x, widths[-1], 1, "top")
    x = layers.GlobalAveragePooling2D(name=POOL)(x)
    x = layers.Dense(embedding, activation="relu", name=EMBEDDING)(x)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    outputs = layers.Dense(n_outputs, activation=output_activation, name="output", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="galaxy_encoder")


def train_encoder(images: np.ndarray, target: np.ndarray, task: str, *, epochs: int, batch_size: int = 32,
                  learning_rate: float = 1e-3, validation_fraction: float = 0.1, test_fraction: float = 0.1,
                  augment: bool = True, augmentations: Mapping[str, float] | None = None,
                  widths: tuple[int, ...] = (32, 64, 128), embedding: int = 64, seed: int = 0,
                  policy: str = "float32") -> tuple[Any, FitResult]:
    """Train the encoder on catalog labels (classes: softmax with balanced class weights; vote
    fractions: one linear output each) with the loop the reference CNN uses
    (:func:`galclust.supervised.fit_supervised`)."""

    def build(head: Head) -> Any:
        return build_encoder(np.shape(images)[1], n_outputs=head.units, output_activation=head.activation,
                             widths=widths, embedding=embedding, augment=augment, augmentations=augmentations,
                             seed=seed)

    return fit_supervised(build, images, target, task, epochs=epochs, batch_size=batch_size,
                          learning_rate=learning_rate, validation_fraction=validation_fraction,
                          test_fraction=test_fraction, seed=seed, policy=policy)
