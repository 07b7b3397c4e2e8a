"""What a feature extractor is to the workflow: one :class:`ExtractorKind` entry.

Two sorts: *built-in* extractors (``pixels``, ``morphometrics``) are named directly by a
feature set (``features.<fs>.extractor``); *model kinds* (``cnn``, ``simclr``, ``backbone``)
are the ``kind`` of a ``models.<name>`` entry, which a feature set names instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: (model settings or {} for built-ins, model file or None, seed, feature-store name) -> extractor
Builder = Callable[[Mapping[str, Any], "str | None", int, str], Any]
#: (images, targets or None, train settings, seed) -> (keras model, history, metrics, plot title)
Trainer = Callable[[np.ndarray, "np.ndarray | None", Mapping[str, Any], int],
                   tuple[Any, dict[str, list[float]], dict[str, Any], str]]
#: (feature stores, feature-set settings, feature-set name) -> (ids, features): for sets read whole
Reader = Callable[[Sequence[str], Mapping[str, Any], str], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class ExtractorKind:
    """An extractor as the workflow sees it.

    - ``build``: the object with ``output_names()``, ``transform(images) -> {name: (N, d)}``
      and ``describe()`` (see :class:`galclust.extract.Extractor`).
    - ``label(settings)``: the study-style prefix of its feature sets (``CNN``); a model kind gets
      the model's settings, a built-in the feature set's.
    - ``array(feature-set settings)``: which array of the per-batch store a feature set reads.
    - ``train``: for model kinds the workflow trains (rule ``train_model``) when no ``path`` is
      given and ``trains(model settings)``; ``needs_target`` when it learns catalog columns;
      ``train_keys``: model keys it reads besides the ``train`` block.
    - ``model_files(model settings)``: local files it needs besides a trained model.
    - ``read``: for small feature sets read whole (e.g. imputation needs every row), else None.
    - ``images``: computed from the images (False: ``file``, the user's own features, whose
      ``shape(fs, key)`` gives rows and columns, ``inputs(fs)`` the files read instead of
      batch stores and ``origin(fs, key)`` how messages name them).
    - ``check(settings, key)``: what the schema cannot say (a feature set's settings for a
      built-in, a model's for a model kind), before any job.
    - ``standardise``: default z-scoring before PCA; ``tta``: dihedral averaging allowed;
      ``uses_gpu``: Snakemake's ``gpu`` resource; ``schema``: the JSON-schema block of a
      plugin's settings (built-ins are described in ``config.schema.yaml``).
    """

    name: str
    builtin: bool
    build: Builder
    label: Callable[[Mapping[str, Any]], str]
    array: Callable[[Mapping[str, Any]], str]
    train: Trainer | None = None
    #: (model settings) -> whether this model is trained (a backbone only when ``fine_tune``)
    trains: Callable[[Mapping[str, Any]], bool] = lambda model: True
    #: model keys besides ``train`` the trainer reads (they reach it in its settings)
    train_keys: tuple[str, ...] = ()
    needs_target: bool = False
    #: its trainer takes ``monitor_labels`` (truth columns: k-NN accuracy logged per epoch)
    monitors: bool = False
    #: (CPU, GPU) images per training batch for ``train.batch_size: auto``
    batch_sizes: tuple[int, int] = (32, 128)
    model_files: Callable[[Mapping[str, Any]], list[str]] = lambda model: []
    read: Reader | None = None
    #: (feature-set settings, model settings or {}, image size) -> feature columns, None if unknown
    #: before extraction; lets a config asking for more PCA components than columns stop at once
    width: Callable[[Mapping[str, Any], Mapping[str, Any], int], int | None] = lambda fs, model, size: None
    images: bool = True
    check: Callable[[Mapping[str, Any], str], None] | None = None
    shape: Callable[[Mapping[str, Any], str], tuple[int, int]] | None = None
    inputs: Callable[[Mapping[str, Any]], list[str]] = lambda fs: []
    origin: Callable[[Mapping[str, Any], str], str] | None = None
    standardise: bool = False
    tta: bool = True
    uses_gpu: bool = False
    schema: Mapping[str, Any] | None = None
    description: str = ""


def layer_array(fs: Mapping[str, Any]) -> str:
    """Model extractors store one array per configured layer key."""
    return str(fs["layer"])
