"""Training routes (issue 8): mixed precision and larger batches where a GPU is visible.

No GPU here: the GPU branch of the route is checked with ``gpu_available`` patched, and the
mixed-precision training path itself runs on the CPU in ``mixed_bfloat16`` (the same Keras
machinery as ``mixed_float16``: layers computing in a 16-bit type, float32 variables), so a
layer or loss that breaks in 16-bit compute fails here, not first on a user's GPU.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

import keras  # a required dependency: missing means failing, never skipping

from galclust import precision, ssl
from galclust.cnn import DENSE_128, load_model, save_model, train_reference_cnn
from galclust.extract import KerasExtractor
from galclust.precision import dtype_policy, effective_policy, training_route, with_dtype_policy

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

MIXED = "mixed_bfloat16"  # 16-bit compute that the CPU runs


def test_route_takes_gpu_sizes_and_float16_only_where_a_gpu_is_visible(monkeypatch):
    assert not precision.gpu_available()  # this machine: the CPU route
    assert training_route(True, "auto", (64, 512)) == ("float32", 64)
    assert training_route(False, 24, (64, 512)) == ("float32", 24)
    monkeypatch.setattr(precision, "gpu_available", lambda: True)
    assert training_route(True, "auto", (64, 512)) == ("mixed_float16", 512)
    assert training_route(False, "auto", (32, 128)) == ("float32", 128)
    assert training_route(True, 48, (64, 512)) == ("mixed_float16", 48)  # an explicit size is kept
    for bad in (0, "big", 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            training_route(False, bad, (64, 512))


def test_a_mixed_model_is_rebuilt_in_float32_with_its_weights():
    with dtype_policy(MIXED):
        inputs = keras.Input((8,))
        model = keras.Model(inputs, keras.layers.Dense(3, name="d")(keras.layers.Dense(5)(inputs)))
    assert effective_policy(model) == MIXED
    back = with_dtype_policy(model, "float32", strict=True)
    assert effective_policy(back) == "float32" and back is not model
    for a, b in zip(model.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert with_dtype_policy(back, "float32") is back  # already there: the same object


@pytest.mark.slow
def test_simclr_trains_in_16_bit_and_returns_a_float32_encoder(tmp_path, caplog):
    images = np.random.default_rng(0).random((24, 40, 40, 3)).astype(np.float32)
    with caplog.at_level(logging.INFO, logger="galclust.ssl"):
        encoder, history = ssl.train_simclr(images, epochs=1, batch_size=8, seed=0, verbose=0, policy=MIXED)
    assert f"training in {MIXED}" in caplog.text  # the encoder's layers' policy, not the one asked
    assert np.isfinite(history["loss"][0])
    assert effective_policy(encoder) == "float32"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left as it was
    path = tmp_path / "enc.keras"
    save_model(encoder, path)
    features = KerasExtractor(load_model(path), {"dense_128": DENSE_128}).transform(images[:4])["dense_128"]
    assert features.dtype == np.float32 and np.isfinite(features).all()


def test_supervised_training_in_16_bit_predicts_in_float32(caplog):
    rng = np.random.default_rng(1)
    images = rng.random((30, 40, 40, 3)).astype(np.float32)
    labels = np.where(np.arange(30) % 2 == 0, "a", "b")
    with caplog.at_level(logging.INFO, logger="galclust.supervised"):
        model, result = train_reference_cnn(images, labels, epochs=1, batch_size=8, task="classification",
                                            augment=True, seed=0, policy=MIXED)
    assert f"training in {MIXED}" in caplog.text  # the policy of the layers built, not the one asked
    assert effective_policy(model) == "float32"
    probabilities = np.asarray(model.predict(images[:4], verbose=0))
    assert probabilities.dtype == np.float32 and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert np.isfinite(result.history["loss"]).all()


@pytest.mark.slow
def test_train_stage_records_the_route_it_took(tmp_path):
    from astropy.table import Table

    from galclust.stages.train import train_model
    from galclust.store import write_store

    images = np.random.default_rng(2).random((12, 40, 40, 3)).astype(np.float32)
    ids = np.array([f"g{i:02d}" for i in range(12)])
    store = tmp_path / "b0000.zarr"
    write_store(store, list(ids), {"images": images})
    settings = {"epochs": 1, "batch_size": "auto", "mixed_precision": True, "learning_rate": 1e-3,
                "validation_fraction": 0.15, "test_fraction": 0.15, "augment": True, "temperature": 0.2,
                "max_galaxies": 100}
    Table({"id": ids}).write(tmp_path / "catalog.fits")
    out = {k: tmp_path / f"{k}" for k in ("model.keras", "history.tsv", "loss.png", "metrics.json")}
    train_model("ssl", "simclr", settings, 0, [store], tmp_path / "catalog.fits", out["model.keras"],
                out["history.tsv"], out["loss.png"], out["metrics.json"])
    metrics = json.loads(out["metrics.json"].read_text())
    # no GPU here: float32 and the CPU batch, whatever was asked
    assert metrics["precision"] == "float32" and metrics["batch_size"] == 64
    assert effective_policy(load_model(out["model.keras"])) == "float32"
