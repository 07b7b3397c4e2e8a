"""Feature extractors: image batches in, one or more named feature arrays out.

``PixelExtractor`` is the study's baseline (the flattened image);
``KerasExtractor`` cuts a trained network at named layers and returns every
cut from a single forward pass; pretrained ``keras.applications`` backbones
(:class:`galclust.backbones.BackboneExtractor`) live in :mod:`galclust.backbones`.
:class:`DihedralAverage` wraps any extractor to average its features over the 8
rotations and flips of each image. :func:`extract_store` streams an image store through
an extractor into a feature store, reading the next block and writing the
previous one while the current one is computed, so memory stays bounded
whatever the batch size.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np

from .errors import ConfigError
from .store import count_rows, create_store, iter_blocks, read_ids

log = logging.getLogger(__name__)


class Extractor(Protocol):
    """Maps images (N, s, s, 3) to named 2-D float32 feature arrays (N, d).

    An extractor may also have ``feature_widths() -> dict[str, int]``; when it does,
    the arrays of an empty batch get their real widths instead of 0.
    """

    name: str

    def output_names(self) -> list[str]: ...

    def transform(self, images: np.ndarray) -> dict[str, np.ndarray]: ...

    def describe(self) -> dict[str, Any]: ...


class PixelExtractor:
    """The raw-pixel baseline: each image flattened (80×80×3 = 19,200 values)."""

    name = "pixels"

    def output_names(self) -> list[str]:
        return ["pixels"]

    def transform(self, images: np.ndarray) -> dict[str, np.ndarray]:
        images = np.asarray(images, dtype=np.float32)
        return {"pixels": images.reshape(len(images), -1)}

    def describe(self) -> dict[str, Any]:
        return {"extractor": "pixels"}


#: a network's expected pixel scale from galclust's [0, 1] images: (offset, scale)
INPUT_SCALING: dict[str, tuple[float, float]] = {"unit": (0.0, 1.0), "symmetric": (-1.0, 2.0), "byte": (0.0, 255.0)}


class KerasExtractor:
    """Features from named layers of a Keras model, all from one forward pass.

    ``layers`` maps an output name (the config's layer key) to a layer name; a
    layer with more than two dimensions is flattened. With ``mixed_precision``
    and a visible GPU the model computes in ``mixed_float16``
    (:func:`galclust.precision.with_dtype_policy`); ``None`` follows Keras's global
    policy (:func:`galclust.precision.enable_mixed_precision`). Features are float32.
    """

    def __init__(self, model: Any, layers: dict[str, str], *, name: str = "model", batch_size: int = 64,
                 mixed_precision: bool | None = None, input_scaling: str = "unit",
                 input_size: int | None = None) -> None:
        import keras

        from .precision import effective_policy, precision_policy, with_dtype_policy

        known = [layer.name for layer in model.layers]
        unknown = [f"{key} -> {layer}" for key, layer in layers.items() if layer not in known]
        if unknown:
            raise ConfigError(
                f"model '{name}': unknown layer(s) {', '.join(unknown)}; the network has: "
                + ", ".join(known)
            )
        model = with_dtype_policy(model, precision_policy(mixed_precision))
        self.policy = effective_policy(model)
        outputs = []
        for key, layer_name in layers.items():
            out = model.get_layer(layer_name).output
            if len(out.shape) > 2:
                out = keras.layers.Flatten(dtype="float32", name=f"{key}_flat")(out)
            outputs.append(out)
        self._init(keras.Model(model.inputs, outputs, name=f"{name}_features"), list(layers),
                   name=name, batch_size=batch_size)
        self.layers = dict(layers)
        self._model_name = model.name
        self._input_shape = tuple(model.inputs[0].shape[1:])
        if len(self._input_shape) != 3 or self._input_shape[-1] != 3:
            raise ConfigError(f"model '{name}': its input is {self._input_shape}, galclust gives (size, size, 3) "
                              "RGB images")
        if input_size is not None:
            fixed = self._input_shape[:2]
            if None not in fixed and fixed != (input_size, input_size):
                raise ConfigError(f"model '{name}': input_size {input_size} declared, but the network takes "
                                  f"{fixed[0]}x{fixed[1]} images")
            self._input_shape = (int(input_size), int(input_size), 3)
        if input_scaling not in INPUT_SCALING:
            raise ConfigError(f"model '{name}': input_scaling {input_scaling!r} is none of {', '.join(INPUT_SCALING)}")
        self.input_scaling = input_scaling

    @classmethod
    def from_cut(cls, cut_model: Any, output_names: list[str], *, name: str, batch_size: int = 64) -> KerasExtractor:
        """Wrap a model whose outputs already are the 2-D features, in ``output_names`` order."""
        self = cls.__new__(cls)
        self._init(cut_model, output_names, name=name, batch_size=batch_size)
        self.layers = {key: key for key in output_names}
        self._model_name = cut_model.name
        self.policy = None
        self._input_shape = tuple(cut_model.inputs[0].shape[1:])
        self.input_scaling = "unit"
        return self

    def _init(self, cut_model: Any, output_names: list[str], *, name: str, batch_size: int) -> None:
        if len(cut_model.outputs) != len(output_names):
            raise ValueError(f"{name}: {len(cut_model.outputs)} model outputs for {len(output_names)} names")
        self.name = name
        self.batch_size = max(1, int(batch_size))
        self._cut = cut_model
        self._names = list(output_names)
        self._widths = [int(np.prod(out.shape[1:])) for out in cut_model.outputs]

    def output_names(self) -> list[str]:
        return list(self._names)

    def feature_widths(self) -> dict[str, int]:
        """Values per image of each output (used for the arrays of an empty batch)."""
        return dict(zip(self._names, self._widths))

    def prepared(self, images: np.ndarray) -> np.ndarray:
        """Images as the network expects them: resized (area-averaged down, bilinear up) to its
        input size where that is fixed and differs, and scaled from [0, 1] by ``input_scaling``."""
        images = np.asarray(images, dtype=np.float32)  # no copy when already float32
        size = self._input_shape[:2]
        if None not in size and len(images) and tuple(images.shape[1:3]) != size:
            import keras

            method = "area" if size[0] < images.shape[1] else "bilinear"
            images = np.asarray(keras.ops.image.resize(images, size, interpolation=method), dtype=np.float32)
        offset, scale = INPUT_SCALING[self.input_scaling]
        return images if (offset, scale) == (0.0, 1.0) else (images * scale + offset).astype(np.float32)

    def transform(self, images: np.ndarray) -> dict[str, np.ndarray]:
        images = self.prepared(images)
        n = len(images)
        # Preallocated float32 outputs: no per-batch lists, no concatenation copies.
        outs = [np.empty((n, width), dtype=np.float32) for width in self._widths]
        for start in range(0, n, self.batch_size):
            result = self._cut.predict_on_batch(images[start : start + self.batch_size])
            if not isinstance(result, (list, tuple)):
                result = [result]
            for out, arr in zip(outs, result):
                arr = np.asarray(arr)
                out[start : start + len(arr)] = arr.reshape(len(arr), -1)  # casts float16 -> float32
        return dict(zip(self._names, outs))

    def describe(self) -> dict[str, Any]:
        info = {"extractor": self.name, "model": self._model_name, "layers": self.layers,
                "input_shape": [int(v) if v is not None else None for v in self._input_shape],
                "input_scaling": self.input_scaling}
        if self.policy is not None:
            info["dtype_policy"] = self.policy
        return info


def extract_store(
    image_store: str | os.PathLike[str],
    feature_store: str | os.PathLike[str],
    extractor: Extractor,
    *,
    block_rows: int = 256,
    step_rows: int | None = None,
    attrs: dict[str, Any] | None = None,
    dtype: str = "float32",
    progress_interval: float = 30.0,
) -> None:
    """Stream the images of ``image_store`` through ``extractor`` into ``feature_store``.

    Progress (galaxies done, rate, time left) is logged at most every ``progress_interval``
    seconds and at the end.

    The feature store has one array per extractor output, rows aligned with ``ids``.
    Images are read ``block_rows`` at a time (the next block in a background
    thread while the current one is computed) and computed and written
    ``step_rows`` at a time (default: see :func:`step_rows_for`): each step's
    features are compressed and written in a second thread while the next step
    is computed, and they are the feature arrays' chunks. Small steps keep the
    writing that cannot overlap (the last step's) short; steps that are a multiple
    of the extractor's batch size keep its batches whole. At most one block is
    read ahead and one step is being written, so memory is bounded by
    ``block_rows`` whatever the number of images.
    """
    from .progress import ProgressLog

    ids = read_ids(image_store)
    n = count_rows([image_store])
    progress = ProgressLog(f"extract {getattr(extractor, 'name', 'features')}", n, interval=progress_interval)
    meta = {**extractor.describe(), **(attrs or {})}
    names = list(extractor.output_names())
    step = step_rows or step_rows_for(extractor, block_rows)
    with create_store(feature_store, ids, meta, chunk_rows=step) as writer:
        blocks = iter_blocks([image_store], "images", block_rows)
        start = 0
        created = False
        # Pools are closed (threads joined) before create_store finishes or discards the store.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read") as reader, \
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="write") as writing:
            pending = reader.submit(next, blocks, None)
            written = None
            while True:
                item = pending.result()
                if item is None:
                    break
                pending = reader.submit(next, blocks, None)
                _, block = item
                for offset in range(0, len(block), step):
                    images = block[offset : offset + step]
                    features = extractor.transform(images)
                    _check_block(extractor, features, names, len(images))
                    if not created:
                        for key in names:
                            _create_feature_array(writer, key, features[key].shape[1:], dtype)
                        created = True
                    if written is not None:
                        written.result()  # one step in flight: bounded memory, errors surface here
                    written = writing.submit(_write_block, writer, features, start)
                    start += len(images)
                    progress.advance(len(images))
            if written is not None:
                written.result()
        if not created:  # an empty batch still gets its (empty) arrays
            for key, width in _empty_widths(extractor).items():
                _create_feature_array(writer, key, (width,), dtype)
    progress.finish()
    log.info("extracted %s features of %d galaxies -> %s", extractor.name, n, feature_store)


MIN_STEP_ROWS = 64


def step_rows_for(extractor: Extractor, block_rows: int) -> int:
    """Rows computed and written at a time: the smallest multiple of the extractor's
    ``batch_size`` (if it has one) that is at least 64 rows, at most ``block_rows``."""
    block_rows = max(1, int(block_rows))
    batch = getattr(extractor, "batch_size", None)
    if not isinstance(batch, int) or batch <= 0:
        return block_rows
    step = batch * -(-MIN_STEP_ROWS // batch)
    return min(step, block_rows)


FEATURE_ZSTD_LEVEL = 1


def _create_feature_array(writer: Any, name: str, row_shape: Any, dtype: str = "float32") -> None:
    """A feature array (float32 unless projected features ask for float16) chunked by blocks, compressed with Zstandard level 1:
    on CNN features (half zeros after ReLU) as small as the default level 3 within
    3 %, at about two thirds of the CPU time, which extraction pays on every block."""
    from zarr.codecs import ZstdCodec

    writer.group.create_array(
        name, shape=(writer.n_rows, *row_shape), chunks=(writer.chunk_rows, *row_shape),
        dtype=dtype, compressors=[ZstdCodec(level=FEATURE_ZSTD_LEVEL)],
    )


def _write_block(writer: Any, features: dict[str, np.ndarray], start: int) -> None:
    for key, arr in features.items():
        writer.write(key, start, arr)


def _check_block(extractor: Extractor, features: dict[str, np.ndarray], names: list[str], rows: int) -> None:
    if sorted(features) != sorted(names):
        raise ValueError(f"{extractor.name}: transform returned {sorted(features)}, expected {sorted(names)}")
    for key, arr in features.items():
        if arr.ndim != 2 or len(arr) != rows:
            raise ValueError(f"{extractor.name}: feature '{key}' has shape {arr.shape} for {rows} images")


def _empty_widths(extractor: Extractor) -> dict[str, int]:
    widths = getattr(extractor, "feature_widths", None)
    if callable(widths):
        return dict(widths())
    return {key: 0 for key in extractor.output_names()}


# -- invariance ----------------------------------------------------------------------------

def dihedral_views(images: np.ndarray) -> list[np.ndarray]:
    """The 8 images of the dihedral group D4 of each image: rotations by 0, 90, 180
    and 270°, each unflipped and flipped left-right. ``images``: (N, s, s, c)."""
    return list(_iter_dihedral(images))


def _iter_dihedral(images: np.ndarray) -> Iterator[np.ndarray]:
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"dihedral views need square images (N, s, s, c), got shape {images.shape}")
    for k in range(4):
        rotated = np.rot90(images, k, axes=(1, 2))
        yield np.ascontiguousarray(rotated)
        yield np.ascontiguousarray(rotated[:, :, ::-1])


class DihedralAverage:
    """Test-time averaging over D4: the mean of the wrapped extractor's features over
    the 8 rotations/flips of each image, so features of a rotated or flipped image
    equal the original's (up to float rounding). Costs 8 forward passes; views are
    run one after another, so memory grows by one view, not eight."""

    def __init__(self, extractor: Any) -> None:
        self.extractor = extractor
        self.name = extractor.name
        batch = getattr(extractor, "batch_size", None)
        if batch is not None:
            self.batch_size = batch

    def output_names(self) -> list[str]:
        return self.extractor.output_names()

    def feature_widths(self) -> dict[str, int]:
        widths = getattr(self.extractor, "feature_widths", None)
        return dict(widths()) if callable(widths) else {key: 0 for key in self.output_names()}

    def transform(self, images: np.ndarray) -> dict[str, np.ndarray]:
        sums: dict[str, np.ndarray] = {}
        for view in _iter_dihedral(images):  # one view in memory at a time
            for key, arr in self.extractor.transform(view).items():
                if key in sums:
                    sums[key] += arr
                else:
                    sums[key] = np.asarray(arr, dtype=np.float64).copy()
        return {key: (total / 8).astype(np.float32) for key, total in sums.items()}

    def describe(self) -> dict[str, Any]:
        return {**self.extractor.describe(), "tta": "dihedral8"}
