"""Self-supervised (contrastive) training of the reference CNN: SimCLR with NT-Xent.

For catalogs without a training target. The encoder is the reference study's
trunk (:func:`galclust.cnn.build_reference_cnn` without its augmentation,
cut after ``dense_128``), so it keeps the layer names ``flatten`` (37,632
values at 80×80) and ``dense_128`` and feature extraction cuts it exactly
like the supervised model (:class:`galclust.extract.KerasExtractor`).

Training (Chen et al. 2020, SimCLR): every image of a batch is augmented
twice, both views go through the encoder and a projection head (dense 128 →
ReLU → dense 64), and the NT-Xent loss pulls the two views of one galaxy
together and pushes the other ``2N − 2`` views of the batch away.

Backend-agnostic by construction: written against ``keras`` only (no
``tf.*``), the two views are made *inside* the training model, whose input is
a plain image batch and whose output is the pair of projections side by side
``(N, 2·64)``; the loss reads ``y_pred`` only (``y_true`` is a dummy), so the
ordinary ``model.fit`` runs it under TensorFlow, JAX or PyTorch.

The augmentation changes what must not matter for a galaxy's morphology and leaves
what must (its overall colour, its concentration): flips and any rotation, zoom ±25 %,
shifts 5 %, a seeing change (a blend with a Gaussian-blurred copy: :class:`RandomSeeing`),
a sky-level offset (:class:`RandomSkyLevel`), a small per-channel gain (±5 %, mild colour
jitter) and Gaussian noise.
It lives only in the training model, where it is applied on every call,
validation included (so ``val_loss`` is the same contrastive objective on
held-out galaxies); the returned encoder has no augmentation at all.
"""

from __future__ import annotations

import logging
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from .cnn import DENSE_128, FLATTEN, build_reference_cnn
from .precision import dtype_policy, effective_policy, with_dtype_policy

log = logging.getLogger(__name__)

__all__ = [
    "ContrastiveAugment",
    "NTXent",
    "RandomChannelGain",
    "RandomGaussianNoise",
    "RandomSeeing",
    "RandomSkyLevel",
    "build_encoder",
    "build_simclr_model",
    "nt_xent",
    "train_simclr",
]

PROJECTION_DIMS = (128, 64)
"""Projection head widths: dense 128 → ReLU → dense 64 (the contrastive space)."""


# ---------------------------------------------------------------------------
# Augmentation layers (keras.random with a SeedGenerator: reproducible)
# ---------------------------------------------------------------------------


class _RandomImageJitter(layers.Layer):
    """Base of the jitter layers: one strength (``amount``, saved under ``key``), a seed and
    ``always``; active in training only (or always, with ``always=True``), like Keras's own
    random layers, and a no-op at strength 0. Subclasses define :meth:`jitter`."""

    key = "amount"

    def __init__(self, amount: float, seed: int | None = None, always: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.amount = float(amount)
        self.seed = seed
        self.always = bool(always)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not (training or self.always) or self.amount == 0:
            return inputs
        return self.jitter(inputs)

    def jitter(self, inputs: Any) -> Any:
        raise NotImplementedError

    def per_image(self, inputs: Any, low: float, high: float, channels: int = 1) -> Any:
        """Uniform draws in [low, high], one per image (and per channel with ``channels``)."""
        shape = ops.shape(inputs)
        return keras.random.uniform((shape[0], 1, 1, channels), low, high, dtype=self.compute_dtype,
                                    seed=self.seed_generator)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), self.key: self.amount, "seed": self.seed, "always": self.always}


@keras.saving.register_keras_serializable(package="galclust")
class RandomChannelGain(_RandomImageJitter):
    """Colour jitter: each image's channels multiplied by gains drawn in [1 − g, 1 + g]."""

    key = "gain"

    def __init__(self, gain: float = 0.05, seed: int | None = None, always: bool = False, **kwargs: Any):
        if not 0 <= gain < 1:
            raise ValueError(f"gain must be in [0, 1), got {gain}")
        super().__init__(gain, seed, always, **kwargs)
        self.gain = self.amount

    def jitter(self, inputs: Any) -> Any:
        return inputs * self.per_image(inputs, 1.0 - self.gain, 1.0 + self.gain, channels=ops.shape(inputs)[-1])


@keras.saving.register_keras_serializable(package="galclust")
class RandomGaussianNoise(_RandomImageJitter):
    """Additive Gaussian noise, its standard deviation drawn per image in [0, ``stddev``]."""

    key = "stddev"

    def __init__(self, stddev: float = 0.02, seed: int | None = None, always: bool = False, **kwargs: Any):
        if stddev < 0:
            raise ValueError(f"stddev must be >= 0, got {stddev}")
        super().__init__(stddev, seed, always, **kwargs)
        self.stddev = self.amount

    def jitter(self, inputs: Any) -> Any:
        sigma = self.per_image(inputs, 0.0, self.stddev)
        noise = keras.random.normal(ops.shape(inputs), dtype=self.compute_dtype, seed=self.seed_generator)
        return inputs + sigma * noise


@keras.saving.register_keras_serializable(package="galclust")
class RandomSeeing(_RandomImageJitter):
    """A seeing (PSF) change: each image blended with its Gaussian-blurred copy (``sigma``
    pixels), the blend weight drawn per image in [0, 1] (from sharp to a PSF ``sigma`` wider)."""

    key = "sigma"

    def __init__(self, sigma: float = 1.0, seed: int | None = None, always: bool = False, **kwargs: Any):
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        super().__init__(sigma, seed, always, **kwargs)
        self.sigma = self.amount

    def build(self, input_shape: Any) -> None:
        radius = max(1, int(np.ceil(3 * self.sigma)))
        t = np.arange(-radius, radius + 1, dtype=np.float64)
        g = np.exp(-(t**2) / (2 * max(self.sigma, 1e-6) ** 2))
        kernel = np.outer(g, g) / np.outer(g, g).sum()
        channels = int(input_shape[-1])
        # a constant, not a weight: nothing to train or save
        self._kernel = np.repeat(kernel[:, :, None, None], channels, axis=2).astype(np.float32)
        self.built = True

    def jitter(self, inputs: Any) -> Any:
        kernel = ops.cast(ops.convert_to_tensor(self._kernel), self.compute_dtype)
        blurred = ops.depthwise_conv(inputs, kernel, strides=1, padding="same")
        return inputs + self.per_image(inputs, 0.0, 1.0) * (blurred - inputs)


@keras.saving.register_keras_serializable(package="galclust")
class RandomSkyLevel(_RandomImageJitter):
    """A sky-subtraction error: one offset per image, drawn in [−``level``, ``level``], added to
    every pixel and channel (the same for all three, so colours are not shifted by it)."""

    key = "level"

    def __init__(self, level: float = 0.02, seed: int | None = None, always: bool = False, **kwargs: Any):
        if level < 0:
            raise ValueError(f"level must be >= 0, got {level}")
        super().__init__(level, seed, always, **kwargs)
        self.level = self.amount

    def jitter(self, inputs: Any) -> Any:
        return inputs + self.per_image(inputs, -self.level, self.level)


@keras.saving.register_keras_serializable(package="galclust")
class ContrastiveAugment(layers.Layer):
    """One random view of each image: geometry, seeing, sky, colour and noise jitter.

    Flips (horizontal and vertical), rotation ±``rotation``·360° (any angle by default:
    a galaxy's orientation on the sky means nothing), zoom ±``zoom``, shifts ±``shift``
    of the frame (constant fill, as in :func:`galclust.cnn.build_reference_cnn`), a seeing
    change up to a Gaussian of ``seeing`` pixels, a sky offset up to ±``sky``, a per-channel
    gain ±``gain`` and Gaussian noise up to ``noise``. Applied on every call
    (training and evaluation): this layer is meant for the contrastive
    training model only, never for a model used to extract features.
    Each call draws new randomness, so calling it twice gives two views.
    """

    def __init__(
        self,
        rotation: float = 0.5,
        zoom: float = 0.25,
        shift: float = 0.05,
        gain: float = 0.05,
        noise: float = 0.02,
        seed: int | None = None,
        seeing: float = 1.0,
        sky: float = 0.02,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.rotation = float(rotation)
        self.zoom = float(zoom)
        self.shift = float(shift)
        self.gain = float(gain)
        self.noise = float(noise)
        self.seeing = float(seeing)
        self.sky = float(sky)
        self.seed = seed
        base = None if seed is None else int(seed)

        def sub(i: int) -> int | None:
            return None if base is None else base * 7 + i

        self._steps = [
            layers.RandomFlip("horizontal_and_vertical", seed=sub(1)),
            layers.RandomRotation(self.rotation, fill_mode="constant", seed=sub(2)),
            layers.RandomZoom((-self.zoom, self.zoom), fill_mode="constant", seed=sub(3)),
            layers.RandomTranslation(self.shift, self.shift, fill_mode="constant", seed=sub(4)),
            RandomSeeing(self.seeing, seed=sub(7)),
            RandomSkyLevel(self.sky, seed=sub(8)),
            RandomChannelGain(self.gain, seed=sub(5)),
            RandomGaussianNoise(self.noise, seed=sub(6)),
        ]

    def build(self, input_shape: Any) -> None:
        for step in self._steps:
            step.build(input_shape)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x = inputs
        for step in self._steps:
            x = step(x, training=True)
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rotation": self.rotation, "zoom": self.zoom, "shift": self.shift,
            "gain": self.gain, "noise": self.noise, "seed": self.seed, "seeing": self.seeing, "sky": self.sky,
        }


# ---------------------------------------------------------------------------
# Loss
# ---------------------------------------------------------------------------


def nt_xent(z: Any, temperature: float = 0.2) -> Any:
    """NT-Xent (normalised temperature-scaled cross entropy) of ``z`` = concat([z1, z2]).

    ``z`` is (2N, d): rows i and i + N are the two views of one image. Each
    row is L2-normalised; with s_ij = cos(z_i, z_j) / τ, the loss is the mean
    over all 2N rows of −log(exp(s_i,p(i)) / Σ_{j≠i} exp(s_ij)), p(i) = the
    other view of row i. Written in ``keras.ops`` (any backend); returns a scalar.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    z = ops.convert_to_tensor(z)
    z = ops.cast(z, "float32")
    z = z / ops.sqrt(ops.maximum(ops.sum(ops.square(z), axis=1, keepdims=True), 1e-12))
    two_n = ops.shape(z)[0]
    n = two_n // 2
    sim = ops.matmul(z, ops.transpose(z)) / temperature
    idx = ops.arange(two_n)
    self_mask = ops.cast(ops.one_hot(idx, two_n), "bool")
    sim_others = ops.where(self_mask, ops.full_like(sim, -1e9), sim)
    positive_idx = (idx + n) % two_n
    positives = ops.take_along_axis(sim, ops.expand_dims(positive_idx, 1), axis=1)[:, 0]
    return ops.mean(ops.logsumexp(sim_others, axis=1) - positives)


@keras.saving.register_keras_serializable(package="galclust")
class NTXent(keras.losses.Loss):
    """NT-Xent as a Keras loss of ``y_pred`` = [z1 | z2] (N, 2d); ``y_true`` is ignored."""

    def __init__(self, temperature: float = 0.2, name: str = "nt_xent", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.temperature = float(temperature)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        d = ops.shape(y_pred)[-1] // 2
        z = ops.concatenate([y_pred[:, :d], y_pred[:, d:]], axis=0)
        return nt_xent(z, self.temperature)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "temperature": self.temperature}


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


def build_encoder(input_size: int = 80) -> keras.Model:
    """The reference CNN's trunk, input to ``dense_128`` (ReLU), without augmentation.

    Same layers and names as :func:`galclust.cnn.build_reference_cnn` up to
    ``dense_128`` (``conv1`` … ``conv5``, dropouts, ``flatten``, ``dense_128``).
    """
    full = build_reference_cnn(input_size, augment=False)
    return keras.Model(full.inputs, full.get_layer(DENSE_128).output, name="simclr_encoder")


def build_simclr_model(
    encoder: keras.Model, *, seed: int = 0, gain: float = 0.05, noise: float = 0.02
) -> keras.Model:
    """The contrastive training model: images (N, s, s, 3) -> [z1 | z2] (N, 2·64).

    Two views of each image from one :class:`ContrastiveAugment` (called twice),
    the shared ``encoder``, and a shared projection head dense 128 → ReLU → dense 64
    (after a global average pooling when the encoder outputs feature maps).
    """
    size = encoder.inputs[0].shape[1:]
    inputs = keras.Input(size, name="images")
    augment = ContrastiveAugment(gain=gain, noise=noise, seed=seed, name="contrastive_augment")
    pool = [layers.GlobalAveragePooling2D(name="proj_pool")] if len(encoder.outputs[0].shape) == 4 else []
    head = keras.Sequential(
        [
            *pool,
            layers.Dense(PROJECTION_DIMS[0], activation="relu", name="proj_1"),
            layers.Dense(PROJECTION_DIMS[1], name="proj_2"),
        ],
        name="projection_head",
    )
    z1 = head(encoder(augment(inputs)))
    z2 = head(encoder(augment(inputs)))
    outputs = layers.Concatenate(axis=-1, name="views")([z1, z2])
    return keras.Model(inputs, outputs, name="simclr")


class KnnMonitor(keras.callbacks.Callback):
    """After each epoch, the k-NN label accuracy (k = 10, 5-fold, :func:`galclust.quality.knn_accuracy`)
    of the encoder's ``layer`` features on labelled galaxies: ``knn_<column>`` in the history.

    The labels never reach the training; they say whether the encoder is learning morphology.
    ``labels``: column -> (N,) labels aligned with ``images`` (missing as :func:`galclust.quality.labelled_rows` reads it).
    """

    def __init__(self, encoder: keras.Model, images: np.ndarray, labels: dict[str, np.ndarray],
                 layer: str = DENSE_128, batch_size: int = 64, seed: int = 0) -> None:
        super().__init__()
        self.features_of = keras.Model(encoder.inputs, encoder.get_layer(layer).output)
        self.images, self.labels, self.batch_size, self.seed = images, labels, batch_size, seed

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        from .quality import knn_accuracy

        features = np.asarray(self.features_of.predict(self.images, batch_size=self.batch_size, verbose=0))
        for column, labels in self.labels.items():  # unlabelled rows are skipped by knn_accuracy
            accuracy = knn_accuracy(features.reshape(len(features), -1), labels, k=10, seed=self.seed)
            if logs is not None:
                logs[f"knn_{column}"] = accuracy
            log.info("epoch %d: k-NN accuracy of %s: %.3f", epoch + 1, column, accuracy)


def train_simclr(
    images: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 64,
    temperature: float = 0.2,
    learning_rate: float = 1e-3,
    seed: int = 0,
    validation_fraction: float = 0.1,
    gain: float = 0.05,
    noise: float = 0.02,
    encoder: keras.Model | None = None,
    monitor_labels: dict[str, np.ndarray] | None = None,
    monitor_galaxies: int = 1000,
    verbose: int = 2,
    policy: str = "float32",
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Train the reference CNN trunk contrastively (SimCLR, NT-Xent) on ``images`` (N, s, s, 3).

    Adam (``learning_rate``), reduce-on-plateau on the validation loss as in
    the supervised training (patience 5, factor 0.2, floor 1e-5), a seeded
    split holding out ``validation_fraction`` of the images (at least one;
    none when ``validation_fraction`` is 0 or fewer than 4 images). Batches
    are capped at the training-set size; NT-Xent needs at least two images
    per batch to contrast anything.

    ``encoder`` replaces the reference trunk by another Keras model taking
    (N, s, s, 3) images (e.g. a pretrained backbone; it is trained in place
    and returned, its layer names unchanged); ``gain`` and ``noise`` set the
    colour and noise jitter.

    Returns the **encoder** (by default with the layers ``flatten`` and
    ``dense_128``, no augmentation, ready for
    :class:`galclust.extract.KerasExtractor`) and the
    history: ``loss``, ``val_loss`` (when there is a validation set) and
    ``learning_rate``, one float per epoch, and with ``monitor_labels`` (truth columns aligned
    with ``images``) ``knn_<column>``: the k-NN accuracy of the encoder's dense_128 features on
    a seeded ``monitor_galaxies`` of the images (:class:`KnnMonitor`; needs the default
    encoder's layer names). Deterministic given ``seed`` on
    a given backend and machine.

    ``policy``: the Keras dtype policy the default encoder and the training model are built
    in (``mixed_float16`` on a GPU; Keras scales the loss, NT-Xent is computed in float32);
    the encoder returned computes in float32.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[-1] != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be (N, s, s, 3), got shape {images.shape}")
    n = len(images)
    if n < 2:
        raise ValueError(f"contrastive training needs at least 2 images, got {n}")
    if not 0 <= validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")

    keras.utils.set_random_seed(seed)
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * validation_fraction))) if validation_fraction > 0 and n >= 4 else 0
    if n - n_val < 2:
        n_val = 0
    val, train = order[:n_val], order[n_val:]
    batch_size = max(2, min(int(batch_size), len(train)))

    if encoder is not None and tuple(encoder.inputs[0].shape[1:]) != images.shape[1:]:
        raise ValueError(
            f"encoder takes inputs of shape {tuple(encoder.inputs[0].shape[1:])}, images are {images.shape[1:]}"
        )
    with dtype_policy(policy):
        if encoder is None:
            encoder = build_encoder(images.shape[1])
        model = build_simclr_model(encoder, seed=seed, gain=gain, noise=noise)
    log.info("SimCLR: training in %s, batches of %d", effective_policy(encoder), batch_size)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=NTXent(temperature))
    from .supervised import EpochProgress

    callbacks = [keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss" if n_val else "loss", factor=0.2, patience=5, min_lr=1e-5
    ), EpochProgress(epochs, "SimCLR training").callback()]
    if monitor_labels:
        from .sampling import seeded_rows

        rows = seeded_rows(n, monitor_galaxies, seed)
        callbacks.append(KnnMonitor(encoder, images[rows], {c: np.asarray(v)[rows] for c, v in monitor_labels.items()},
                                    seed=seed))
    dummy = np.zeros((n, 1), dtype=np.float32)
    fit = model.fit(
        images[train],
        dummy[train],
        validation_data=(images[val], dummy[val]) if n_val else None,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=verbose,
    )
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    log.info(
        "SimCLR: %d training / %d validation images, %d epochs, final loss %.4f",
        len(train), n_val, epochs, history["loss"][-1],
    )
    return with_dtype_policy(encoder, "float32", strict=True), history


# Layer names the encoder guarantees (for KerasExtractor configs).
ENCODER_LAYERS = {"flatten": FLATTEN, "dense_128": DENSE_128}
