"""Pretrained backbones from ``keras.applications`` as feature extractors.

A backbone (ResNet50, VGG16, EfficientNetB0, …) is built without its
classification top; :class:`BackboneExtractor` feeds it our images
((N, s, s, 3) floats in [0, 1]) through the backbone's own input pipeline:

1. scaled to [0, 255],
2. resized to the backbone's input size (``input_size``, default the size the
   network was trained at) with ``keras.ops.image.resize`` (bilinear,
   anti-aliased),
3. passed through the backbone's own ``preprocess_input`` (caffe-style BGR
   mean subtraction for ResNet/VGG; nothing for EfficientNet, whose rescaling
   and normalisation are layers of the network).

Features are cut at any number of layers in one forward pass:

* ``global_average_pooling``: the spatial mean of the last convolutional block
  (2048 values for ResNet50, 512 for VGG16, 1280 for EfficientNetB0);
* any named layer of the backbone (``model.summary()`` lists them, or
  :func:`layer_names`): a 4-D output (N, h, w, c) is reduced to its spatial mean
  (c values) by default, or flattened (h·w·c values) with ``spatial="flatten"``;
  2-D outputs are kept as they are.

Weights (``weights``):

* ``imagenet``: Keras's ImageNet weights, downloaded once into Keras's cache
  (``$KERAS_HOME/models``, by default ``~/.keras/models``). Offline, with the file
  not cached, :func:`build_backbone` raises :class:`~galclust.errors.GalclustError`
  naming the exact file, where to download it from and where to place it;
* ``random`` (or ``None``): random initialisation, seeded (a baseline);
* a path: ``.weights.h5`` (``model.save_weights``) or legacy ``.h5`` (e.g. the
  Keras ImageNet file itself) loaded into the named architecture, or ``.keras``
  (a whole saved model, architecture included, loaded in safe mode).

EfficientNet note: Keras's ImageNet EfficientNets divide the normalised input
once more by √std (a fix of the original implementation's normalisation, Keras
issue tensorflow/tensorflow#49930) through an extra layer that only exists when
``weights="imagenet"``. Here the same correction is folded into the network's
``Normalization`` variance, so it also applies when the ImageNet file is given as
a local path under its Keras name (``efficientnetb0_notop.h5``), and weights
saved from such a model reload exactly into the plain architecture.

Mixed precision (``mixed_precision=True``) builds the network under Keras's
``mixed_float16`` policy, but only when a GPU is visible (see
:func:`gpu_available`); on a CPU it is ignored. The default ``None`` follows
Keras's global policy, which :func:`enable_mixed_precision` sets the same way.
Features are always returned as float32.

``tta=True`` averages the features over the 8 rotations and flips of each image
(:class:`~galclust.extract.DihedralAverage`, which wraps any extractor).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .errors import ConfigError, GalclustError
from .extract import DihedralAverage, dihedral_views
from .precision import (
    configure_precision, dtype_policy, effective_policy, enable_mixed_precision, gpu_available, precision_policy,
    with_dtype_policy,
)
from .supervised import FitResult, Head, fit_supervised

__all__ = [
    "BACKBONES", "GAP", "BackboneExtractor", "BackboneSpec", "DihedralAverage", "build_backbone",
    "configure_precision", "default_batch_size", "dihedral_views", "enable_mixed_precision", "fine_tune_backbone", "gpu_available",
    "imagenet_weights_path", "keras_cache_dir", "precision_policy", "with_dtype_policy",
]

log = logging.getLogger(__name__)

GAP = "global_average_pooling"
SPATIAL_MODES = ("gap", "flatten")
RANDOM_WEIGHTS = ("random", "none", "")
WEIGHT_SUFFIXES = (".weights.h5", ".h5", ".hdf5", ".keras")
DOWNLOAD_SOCKET_TIMEOUT_S = 60.0

_KERAS_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_KERAS_APPS_EFFNET = "https://storage.googleapis.com/keras-applications/"
# Keras's EfficientNet IMAGENET_STDDEV_RGB (see the module docstring).
_EFFNET_IMAGENET_STDDEV = (0.229, 0.224, 0.225)


class BackboneSpec(NamedTuple):
    """One ``keras.applications`` backbone: how to build it and its ImageNet file.

    ``constructor`` and ``preprocess_input`` are resolved lazily so that listing
    the backbones does not import Keras.
    """

    application: str  # attribute of keras.applications, e.g. "ResNet50"
    module: str  # submodule with preprocess_input, e.g. "resnet50"
    input_size: int  # the size the ImageNet weights were trained at
    weights_file: str  # Keras's file name of the no-top ImageNet weights
    weights_origin: str  # where Keras downloads it from
    weights_md5: str  # the hash Keras checks

    @property
    def constructor(self) -> Any:
        import keras

        return getattr(keras.applications, self.application)

    @property
    def preprocess_input(self) -> Any:
        import keras

        return getattr(keras.applications, self.module).preprocess_input

    @property
    def family(self) -> str:
        return self.module.rstrip("0123456789")


def _resnet(depth: int, md5: str) -> BackboneSpec:
    file = f"resnet{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5"
    return BackboneSpec(f"ResNet{depth}", "resnet", 224, file, f"{_KERAS_APPS}resnet/{file}", md5)


def _vgg(depth: int, md5: str) -> BackboneSpec:
    file = f"vgg{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5"
    return BackboneSpec(f"VGG{depth}", f"vgg{depth}", 224, file, f"{_KERAS_APPS}vgg{depth}/{file}", md5)


def _effnet(b: int, size: int, md5: str) -> BackboneSpec:
    file = f"efficientnetb{b}_notop.h5"
    return BackboneSpec(f"EfficientNetB{b}", "efficientnet", size, file, f"{_KERAS_APPS_EFFNET}{file}", md5)


# name -> spec (constructor, preprocess_input, default input size, ImageNet file).
# File names, origins and hashes are Keras's own (keras/src/applications/*.py);
# tests/test_backbones.py checks them against the installed Keras.
BACKBONES: dict[str, BackboneSpec] = {
    "resnet50": _resnet(50, "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": _resnet(101, "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": _resnet(152, "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "vgg16": _vgg(16, "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": _vgg(19, "253f8cb515780f3b799900260a226db6"),
    "efficientnetb0": _effnet(0, 224, "50bc09e76180e00e4465e1a485ddc09d"),
    "efficientnetb1": _effnet(1, 240, "74c4e6b3e1f6a1eea24c589628592432"),
    "efficientnetb2": _effnet(2, 260, "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "efficientnetb3": _effnet(3, 300, "af6d107764bb5b1abb91932881670226"),
    "efficientnetb4": _effnet(4, 380, "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "efficientnetb5": _effnet(5, 456, "38879255a25d3c92d5e44e04ae6cec6f"),
    "efficientnetb6": _effnet(6, 528, "9ecce42647a20130c1f39a5d4cb75743"),
    "efficientnetb7": _effnet(7, 600, "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
MIN_INPUT_SIZE = 32  # keras.applications' smallest accepted input without the top


def default_batch_size() -> int:
    """A batch size for inference: 256 with a GPU (it has the memory), 32 on CPUs."""
    return 256 if gpu_available() else 32


# -- weights --------------------------------------------------------------------------------

def keras_cache_dir() -> Path:
    """Where ``keras.utils.get_file(..., cache_subdir="models")`` keeps downloads.

    ``$KERAS_HOME/models`` (read now, so a KERAS_HOME set after Keras was
    imported still counts), by default ``~/.keras/models``; like Keras, falls back
    to ``/tmp/.keras/models`` when the directory is not writable.
    """
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    base = os.path.expanduser(base)
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp", ".keras")
    return Path(base) / "models"


def imagenet_weights_path(name: str) -> Path:
    """The local path of a backbone's ImageNet weights: downloaded into Keras's cache
    if not there yet (hash checked), else a :class:`GalclustError` saying which file
    to place where."""
    import keras

    spec = _spec(name)
    cache = keras_cache_dir()
    target = cache / spec.weights_file
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_SOCKET_TIMEOUT_S)  # a blackholed network fails instead of hanging
    try:
        path = keras.utils.get_file(
            spec.weights_file, spec.weights_origin, cache_subdir="models",
            cache_dir=str(cache.parent), file_hash=spec.weights_md5,
        )
    except Exception as exc:
        state = (f"{target} exists but does not match Keras's checksum (incomplete?); replace it"
                 if target.exists() else f"{target} is not there")
        raise GalclustError(
            f"backbone '{name}': cannot get the ImageNet weights ({_one_line(exc)}). "
            f"{state}: download {spec.weights_origin} on a machine with network access and place it "
            f"as {target} (Keras's cache: $KERAS_HOME/models, default ~/.keras/models), "
            f"or set the model's weights: to the path of that file (or of any .weights.h5/.h5/.keras "
            f"weights of {spec.application} without its top)."
        ) from None
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return Path(path)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _spec(name: str) -> BackboneSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ConfigError(f"unknown backbone '{name}'; known: {', '.join(BACKBONES)}") from None


def _weights_kind(weights: str | os.PathLike[str] | None) -> str:
    if weights is None or (isinstance(weights, str) and weights.strip().lower() in RANDOM_WEIGHTS):
        return "random"
    if isinstance(weights, str) and weights.strip().lower() == "imagenet":
        return "imagenet"
    return "file"


# -- building -------------------------------------------------------------------------------

def build_backbone(
    name: str,
    weights: str | os.PathLike[str] | None,
    input_size: int | None = None,
    *,
    mixed_precision: bool | None = None,
    seed: int = 0,
) -> Any:
    """A ``keras.applications`` backbone without its top, input (s, s, 3) in [0, 255].

    ``weights``: ``"imagenet"``, ``"random"``/``None`` (seeded by ``seed``), or a
    path to a ``.weights.h5``/``.h5`` file for this architecture or a whole
    ``.keras`` model. The returned model expects the backbone's *preprocessed*
    input; :class:`BackboneExtractor` adds the preprocessing.
    """
    import keras

    spec = _spec(name)
    size = int(input_size or spec.input_size)
    if size < MIN_INPUT_SIZE:
        raise ConfigError(f"backbone '{name}': input_size {size} is below the minimum of {MIN_INPUT_SIZE}")
    kind = _weights_kind(weights)
    policy = precision_policy(mixed_precision)
    path: Path | None = None
    if kind == "imagenet":
        path = imagenet_weights_path(name)
    elif kind == "file":  # a weights setting (imagenet, random or a file), not the file extractor
        path = Path(os.fspath(weights)).expanduser()  # type: ignore[arg-type]
        if not str(path).endswith(WEIGHT_SUFFIXES):
            raise ConfigError(
                f"backbone '{name}': weights '{weights}' is neither 'imagenet', 'random' nor a weights file "
                f"({', '.join(WEIGHT_SUFFIXES)})"
            )
        if not path.is_file():
            raise GalclustError(f"backbone '{name}': weights file {path} not found")

    if path is not None and path.suffix == ".keras":
        from .cnn import load_model

        try:
            model = load_model(path)
        except Exception as exc:
            raise GalclustError(f"backbone '{name}': cannot load the model {path}: {_one_line(exc)}") from None
        if policy != "float32":
            model = with_dtype_policy(model, policy)
        return model

    with dtype_policy(policy):
        if kind == "random":
            keras.utils.set_random_seed(seed)
        model = spec.constructor(include_top=False, weights=None, input_shape=(size, size, 3))
    if path is not None:
        try:
            model.load_weights(str(path))
        except Exception as exc:
            raise GalclustError(
                f"backbone '{name}': the weights in {path} do not fit {spec.application} without its top "
                f"({_one_line(exc)})"
            ) from None
        if spec.family == "efficientnet" and (kind == "imagenet" or path.name == spec.weights_file):
            _fold_efficientnet_imagenet_scaling(model)
    return model


def _fold_efficientnet_imagenet_scaling(model: Any) -> None:
    """Keras's ImageNet EfficientNet divides the normalised input by √std once more;
    fold that into the ``Normalization`` layer's variance: (x-m)/√(v·std)."""
    import keras

    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.Normalization)]
    if len(norms) != 1 or not hasattr(norms[0], "adapt_variance"):
        raise GalclustError(f"{model.name}: expected one input Normalization layer to correct")
    norm = norms[0]
    variance = keras.ops.convert_to_numpy(norm.adapt_variance)
    norm.adapt_variance.assign(variance * np.asarray(_EFFNET_IMAGENET_STDDEV, dtype=variance.dtype))
    norm.finalize_state()


def layer_names(model: Any) -> list[str]:
    return [layer.name for layer in model.layers]


def cut_outputs(model: Any, layers: dict[str, str], *, spatial: str = "gap", label: str = "model") -> list[Any]:
    """Symbolic 2-D outputs of ``model`` for each requested layer, in ``layers`` order.

    ``global_average_pooling`` pools the last 4-D output of the model; a named 4-D
    layer is pooled (``spatial="gap"``) or flattened (``"flatten"``). Pooling and
    flattening compute in float32.
    """
    import keras

    if spatial not in SPATIAL_MODES:
        raise ConfigError(f"{label}: spatial must be one of {', '.join(SPATIAL_MODES)}, got '{spatial}'")
    known = layer_names(model)
    unknown = [f"{key} -> {layer}" for key, layer in layers.items() if layer != GAP and layer not in known]
    if unknown:
        raise ConfigError(
            f"{label}: unknown layer(s) {', '.join(unknown)}; use '{GAP}' or one of: " + ", ".join(known)
        )
    outputs = []
    for key, layer_name in layers.items():
        if layer_name == GAP:
            tensor = _last_4d_output(model, label)
            mode = "gap"
        else:
            tensor = model.get_layer(layer_name).output
            mode = spatial
        if len(tensor.shape) == 4:
            if mode == "gap":
                tensor = keras.layers.GlobalAveragePooling2D(dtype="float32", name=f"{key}_gap")(tensor)
            else:
                tensor = keras.layers.Flatten(dtype="float32", name=f"{key}_flatten")(tensor)
        elif len(tensor.shape) != 2:
            tensor = keras.layers.Flatten(dtype="float32", name=f"{key}_flatten")(tensor)
        outputs.append(tensor)
    return outputs


def _last_4d_output(model: Any, label: str) -> Any:
    for layer in reversed(model.layers):
        try:
            out = layer.output
        except (AttributeError, ValueError):
            continue
        if not isinstance(out, (list, tuple)) and len(out.shape) == 4:
            return out
    raise ConfigError(f"{label}: the network has no 4-D (convolutional) output to pool")


# -- extractor ------------------------------------------------------------------------------

def _preprocess_layer(spec: BackboneSpec, size: int) -> Any:
    import keras

    class BackbonePreprocess(keras.layers.Layer):
        """[0, 1] images -> [0, 255] -> resized (bilinear, anti-aliased) -> preprocess_input."""

        def call(self, x: Any) -> Any:
            x = keras.ops.cast(x, "float32") * 255.0
            x = keras.ops.image.resize(x, (size, size), interpolation="bilinear", antialias=True)
            return spec.preprocess_input(x)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return (input_shape[0], size, size, 3)

    return BackbonePreprocess(dtype="float32", name="backbone_preprocess")


class BackboneExtractor:
    """Features of a ``keras.applications`` backbone (see the module docstring).

    ``layers`` maps an output name (the feature array in the Zarr store) to
    ``global_average_pooling`` or a layer name of the backbone.
    """

    def __init__(
        self,
        name: str,
        weights: str | os.PathLike[str] | None,
        layers: dict[str, str],
        *,
        input_size: int | None = None,
        batch_size: int = 32,
        tta: bool = False,
        spatial: str = "gap",
        mixed_precision: bool | None = None,
        seed: int = 0,
        label: str | None = None,
    ) -> None:
        import keras

        from .extract import KerasExtractor

        if not layers:
            raise ConfigError(f"backbone '{name}': no layers to extract")
        spec = _spec(name)
        self.name = label or name
        self.backbone = name
        self.weights = "random" if _weights_kind(weights) == "random" else str(weights)
        self.layers = dict(layers)
        self.spatial = spatial
        self.batch_size = int(batch_size)
        self.tta = bool(tta)
        model = build_backbone(name, weights, input_size, mixed_precision=mixed_precision, seed=seed)
        self.policy = effective_policy(model)
        in_shape = model.inputs[0].shape
        self.input_size = int(in_shape[1]) if in_shape[1] is not None else int(input_size or spec.input_size)
        outputs = cut_outputs(model, self.layers, spatial=spatial, label=f"backbone '{name}'")
        cut = keras.Model(model.inputs, outputs, name=f"{name}_cut")
        images = keras.Input((None, None, 3), name="image")
        features = cut(_preprocess_layer(spec, self.input_size)(images))
        if not isinstance(features, (list, tuple)):
            features = [features]
        self._model = keras.Model(images, list(features), name=f"{name}_features")
        self._model_name = model.name
        self.model = model  # the backbone itself (expects preprocessed input)
        self._run = KerasExtractor.from_cut(self._model, list(self.layers), name=self.name,
                                            batch_size=self.batch_size)
        self._dihedral = DihedralAverage(self._run) if self.tta else None

    def output_names(self) -> list[str]:
        return list(self.layers)

    def feature_widths(self) -> dict[str, int]:
        return self._run.feature_widths()

    def transform(self, images: np.ndarray) -> dict[str, np.ndarray]:
        if self._dihedral is not None:
            return self._dihedral.transform(images)
        return self._run.transform(images)

    def describe(self) -> dict[str, Any]:
        return {
            "extractor": self.name, "backbone": self.backbone, "model": self._model_name,
            "weights": self.weights, "layers": self.layers, "input_size": self.input_size,
            "spatial": self.spatial, "tta": "dihedral8" if self.tta else None, "dtype_policy": self.policy,
            "preprocessing": f"x*255, bilinear antialiased resize to {self.input_size}, "
                             f"keras.applications.{BACKBONES[self.backbone].module}.preprocess_input",
        }


def fine_tune_backbone(
    name: str,
    weights: str | os.PathLike[str] | None,
    images: np.ndarray,
    target: np.ndarray,
    task: str,
    *,
    input_size: int | None = None,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    validation_fraction: float,
    test_fraction: float,
    augment: bool = True,
    seed: int = 0,
    policy: str = "float32",
) -> tuple[Any, FitResult]:
    """Fine-tune a backbone on catalog labels, as seed 003 fine-tuned an ImageNet ResNet,
    in the dtype ``policy`` (see :func:`galclust.supervised.fit_supervised`).

    The network trained is [the study's augmentation] → the extractor's own preprocessing →
    the backbone (all layers trainable) → global average pooling → dropout → the task's head
    (:mod:`galclust.supervised`). Returns the backbone alone (same layer names, so the
    feature set's layers cut it as before) and the training record.
    """
    import keras
    from keras import layers

    from .cnn import study_augmentation

    spec = _spec(name)
    built: dict[str, Any] = {}

    def build(head: Head) -> Any:
        # mixed_precision None: built in the policy fit_supervised builds under
        backbone = build_backbone(name, weights, input_size, mixed_precision=None, seed=seed)
        size = int(backbone.inputs[0].shape[1] or input_size or spec.input_size)
        inputs = keras.Input(np.shape(images)[1:], name="image")
        x = study_augmentation()(inputs) if augment else inputs
        x = backbone(_preprocess_layer(spec, size)(x))
        x = layers.GlobalAveragePooling2D(name="head_pool")(x)
        x = layers.Dropout(0.25, name="head_dropout")(x)
        outputs = layers.Dense(head.units, activation=head.activation, name="head_output")(x)
        built["backbone"] = backbone
        return keras.Model(inputs, outputs, name=f"{name}_fine_tune")

    _, result = fit_supervised(build, images, target, task, epochs=epochs, batch_size=batch_size,
                               learning_rate=learning_rate, validation_fraction=validation_fraction,
                               test_fraction=test_fraction, seed=seed, policy=policy)
    return with_dtype_policy(built["backbone"], "float32", strict=True), result
