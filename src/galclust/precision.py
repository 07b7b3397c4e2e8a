"""Devices and numeric precision for Keras models: GPU detection, dtype policies.

Shared by :mod:`galclust.extract` and :mod:`galclust.backbones` (kept apart so that
neither imports the other's module for it).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def gpu_available() -> bool:
    """Whether the active Keras backend sees a GPU.

    Uses ``keras.distribution.list_devices("gpu")`` (TensorFlow and JAX
    backends); the torch backend has no distribution support, so
    ``torch.cuda.is_available()`` is asked instead.
    """
    import keras

    try:
        return bool(keras.distribution.list_devices("gpu"))
    except Exception:  # backend without distribution support, or no GPU platform at all
        pass
    if keras.backend.backend() == "torch":
        try:
            import torch

            return bool(torch.cuda.is_available())
        except Exception:
            return False
    return False


def precision_policy(mixed_precision: bool | None) -> str:
    """The Keras dtype policy to compute in: ``mixed_float16`` only if asked and a GPU
    is visible; ``None`` follows Keras's global policy (see :func:`enable_mixed_precision`)."""
    import keras

    if mixed_precision is None:
        return keras.config.dtype_policy().name
    if mixed_precision and gpu_available():
        return "mixed_float16"
    if mixed_precision:
        log.info("mixed precision requested but no GPU is visible: computing in float32")
    return "float32"


def configure_precision(mixed_precision: bool) -> str:
    """Set Keras's *global* dtype policy from the config flag; returns the policy set.

    Models built afterwards compute in that policy; models loaded from files keep
    the policy saved with their layers, but :class:`~galclust.extract.KerasExtractor`
    and :class:`BackboneExtractor` (``mixed_precision=None``, the default) rebuild
    them in the global policy. Call it before building the extractor.
    """
    import keras

    policy = precision_policy(mixed_precision)
    keras.mixed_precision.set_global_policy(policy)
    return policy


def enable_mixed_precision() -> str:
    """``configure_precision(True)``: the global policy becomes ``mixed_float16`` when a
    GPU is visible. Extractors built afterwards with ``mixed_precision=None`` (the
    default) follow it, models loaded from files included. Returns the policy."""
    return configure_precision(True)


@contextlib.contextmanager
def dtype_policy(policy: str) -> Iterator[None]:
    """Build layers under ``policy``; the previous global policy is restored after."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)



def with_dtype_policy(model: Any, policy: str, *, strict: bool = False) -> Any:
    """A copy of a functional/sequential ``model`` whose layers compute in ``policy``
    (e.g. ``mixed_float16``, or ``float32`` for a network trained in mixed precision), same
    weights; the model itself when it already computes in ``policy``. Input layers keep their
    dtype. A model that cannot be rebuilt from its config is returned as it is (with a
    warning), unless ``strict``."""
    if policy == effective_policy(model):
        return model
    config = model.get_config()

    def rewrite(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class_name") == "DTypePolicy" and isinstance(node.get("config"), dict):
                node["config"]["name"] = policy
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(config)
    try:
        with dtype_policy(policy):
            copy = model.__class__.from_config(config)
        copy.set_weights(model.get_weights())
    except Exception as exc:  # e.g. a subclassed model without a usable config
        if strict:
            raise
        log.warning("%s: cannot rebuild it in %s (%s); computing in its own dtypes", model.name, policy,
                    _one_line(exc))
        return model
    log.info("%s: computing in %s", model.name, policy)
    return copy


def effective_policy(model: Any) -> str:
    """The dtype policy the model's first layer with weights computes in."""
    for layer in model.layers:
        if layer.weights:
            return str(layer.dtype_policy.name)
    return "float32"


def training_route(mixed_precision: bool, batch_size: int | str, batch_sizes: tuple[int, int]) -> tuple[str, int]:
    """The dtype policy and batch size a training job runs with.

    ``mixed_float16`` when ``mixed_precision`` is asked and a GPU is visible, else ``float32``
    (:func:`precision_policy`). ``batch_size`` ``"auto"`` takes ``batch_sizes`` = (CPU, GPU):
    a GPU has the memory and parallelism for the larger batches contrastive losses want.
    """
    policy = precision_policy(bool(mixed_precision))
    if batch_size == "auto":
        return policy, int(batch_sizes[1] if gpu_available() else batch_sizes[0])
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or 'auto', got {batch_size!r}")
    return policy, batch_size
