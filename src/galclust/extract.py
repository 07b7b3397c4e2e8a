"""Feature extractors: image batches in, one or more named feature arrays out.

``PixelExtractor`` is the study's baseline (the flattened image);
``KerasExtractor`` cuts a trained network at named layers and returns every
cut from a single forward pass. :func:`extract_store` streams an image store
through an extractor into a feature store, reading the next block while the
current one is computed, so memory stays bounded whatever the batch size.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from .errors import ConfigError
from .store import count_rows, create_store, iter_blocks, read_ids

log = logging.getLogger(__name__)


class Extractor(Protocol):
    """Maps images (N, s, s, 3) to named 2-D feature arrays (N, d)."""

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


class KerasExtractor:
    """Features from named layers of a Keras model, all from one forward pass.

    ``layers`` maps an output name (the config's layer key) to a layer name.
    """

    def __init__(self, model: Any, layers: dict[str, str], *, name: str = "model", batch_size: int = 64) -> None:
        import keras

        known = [layer.name for layer in model.layers]
        unknown = [f"{key} -> {layer}" for key, layer in layers.items() if layer not in known]
        if unknown:
            raise ConfigError(
                f"model '{name}': unknown layer(s) {', '.join(unknown)}; the network has: "
                + ", ".join(known)
            )
        self.name = name
        self.layers = dict(layers)
        self.batch_size = batch_size
        outputs = [keras.layers.Flatten()(model.get_layer(l).output) if len(model.get_layer(l).output.shape) > 2
                   else model.get_layer(l).output for l in self.layers.values()]
        self._cut = keras.Model(model.inputs, outputs, name=f"{name}_features")
        self._model_name = model.name

    def output_names(self) -> list[str]:
        return list(self.layers)

    def transform(self, images: np.ndarray) -> dict[str, np.ndarray]:
        images = np.asarray(images, dtype=np.float32)
        outs: list[list[np.ndarray]] = [[] for _ in self.layers]
        for start in range(0, len(images), self.batch_size):
            result = self._cut.predict_on_batch(images[start : start + self.batch_size])
            if not isinstance(result, (list, tuple)):
                result = [result]
            for acc, arr in zip(outs, result):
                acc.append(np.asarray(arr, dtype=np.float32))
        return {
            key: (np.concatenate(acc) if acc else np.zeros((0, 0), np.float32))
            for key, acc in zip(self.layers, outs)
        }

    def describe(self) -> dict[str, Any]:
        return {"extractor": self.name, "model": self._model_name, "layers": self.layers}


def extract_store(
    image_store: str | os.PathLike[str],
    feature_store: str | os.PathLike[str],
    extractor: Extractor,
    *,
    block_rows: int = 256,
    attrs: dict[str, Any] | None = None,
) -> None:
    """Stream the images of ``image_store`` through ``extractor`` into ``feature_store``.

    The feature store has one array per extractor output, rows aligned with ``ids``.
    """
    ids = read_ids(image_store)
    n = count_rows([image_store])
    meta = {**extractor.describe(), **(attrs or {})}
    with create_store(feature_store, ids, meta, chunk_rows=block_rows) as writer:
        blocks = iter_blocks([image_store], "images", block_rows)
        start = 0
        created = False
        # Read-ahead: the next block is decoded from Zarr while this one is computed.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(next, blocks, None)
            while True:
                item = pending.result()
                if item is None:
                    break
                pending = pool.submit(next, blocks, None)
                _, images = item
                features = extractor.transform(images)
                if not created:
                    for key, arr in features.items():
                        writer.create(key, arr.shape[1:])
                    created = True
                for key, arr in features.items():
                    writer.write(key, start, arr)
                start += len(images)
        if not created:  # an empty batch still gets its (empty) arrays
            for key, width in _empty_widths(extractor).items():
                writer.create(key, (width,))
    log.info("extracted %s features of %d galaxies -> %s", extractor.name, n, feature_store)


def _empty_widths(extractor: Extractor) -> dict[str, int]:
    return {key: 0 for key in extractor.output_names()}
