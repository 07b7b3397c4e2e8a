"""Tests of galclust.ssl: NT-Xent against numpy, augmentation layers, SimCLR training and saving."""

from __future__ import annotations

import numpy as np
import pytest

import keras  # a required dependency: missing means failing, never skipping

from galclust import demo, ssl  # noqa: E402
from galclust.cnn import DENSE_128, FLATTEN, load_model, save_model  # noqa: E402
from galclust.extract import KerasExtractor  # noqa: E402
from galclust.imageio import resize_rgb  # noqa: E402
from galclust.plots import loss_history  # noqa: E402
from galclust.quality import knn_accuracy  # noqa: E402


def nt_xent_numpy(z: np.ndarray, temperature: float) -> float:
    """Reference NT-Xent (SimCLR, Chen et al. 2020, eq. 1), written out loop by loop."""
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    two_n = len(z)
    n = two_n // 2
    total = 0.0
    for i in range(two_n):
        j = (i + n) % two_n
        sims = np.array([z[i] @ z[k] / temperature for k in range(two_n)])
        others = np.exp(np.delete(sims, i))
        total += -np.log(np.exp(sims[j]) / others.sum())
    return total / two_n


@pytest.mark.parametrize("n, d, temperature", [(4, 8, 0.2), (7, 3, 0.5), (1, 5, 1.0)])
def test_nt_xent_matches_numpy(n, d, temperature):
    z = np.random.default_rng(n * d).standard_normal((2 * n, d)).astype(np.float32)
    got = float(keras.ops.convert_to_numpy(ssl.nt_xent(z, temperature)))
    assert got == pytest.approx(nt_xent_numpy(z.astype(np.float64), temperature), rel=1e-4, abs=1e-5)


def test_nt_xent_low_for_matching_pairs():
    rng = np.random.default_rng(0)
    z1 = rng.standard_normal((16, 32)).astype(np.float32)
    same = ssl.nt_xent(np.concatenate([z1, z1]), 0.2)
    noisy = ssl.nt_xent(np.concatenate([z1, z1 + 0.1 * rng.standard_normal(z1.shape).astype(np.float32)]), 0.2)
    rand = ssl.nt_xent(np.concatenate([z1, rng.standard_normal(z1.shape).astype(np.float32)]), 0.2)
    same, noisy, rand = (float(keras.ops.convert_to_numpy(v)) for v in (same, noisy, rand))
    assert same < noisy < rand
    assert rand > np.log(2 * 16 - 1) - 0.5  # about chance: log(2N - 1)
    with pytest.raises(ValueError, match="temperature"):
        ssl.nt_xent(z1, 0.0)


def test_ntxent_loss_splits_side_by_side_views():
    rng = np.random.default_rng(1)
    z1, z2 = rng.standard_normal((2, 5, 4)).astype(np.float32)
    loss = ssl.NTXent(0.3)
    got = float(keras.ops.convert_to_numpy(loss(np.zeros((5, 1), np.float32), np.concatenate([z1, z2], axis=1))))
    assert got == pytest.approx(nt_xent_numpy(np.concatenate([z1, z2]).astype(np.float64), 0.3), rel=1e-4)
    assert ssl.NTXent.from_config(loss.get_config()).temperature == pytest.approx(0.3)


def test_jitter_layers_train_only_and_views_differ():
    x = np.full((4, 16, 16, 3), 0.5, dtype=np.float32)
    gain = ssl.RandomChannelGain(0.05, seed=1)
    noise = ssl.RandomGaussianNoise(0.02, seed=1)
    for layer in (gain, noise):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
    g = keras.ops.convert_to_numpy(gain(x, training=True))
    assert np.all(np.abs(g / x - 1) <= 0.05 + 1e-6)
    assert np.ptp(g[0].reshape(-1, 3), axis=0).max() < 1e-6  # one gain per channel per image
    assert np.ptp(g[0, 0, 0]) > 0  # channels differ
    augment = ssl.ContrastiveAugment(seed=0)
    img = np.random.default_rng(0).random((2, 24, 24, 3)).astype(np.float32)
    v1 = keras.ops.convert_to_numpy(augment(img))
    v2 = keras.ops.convert_to_numpy(augment(img))
    assert v1.shape == img.shape and not np.allclose(v1, v2)
    clone = ssl.ContrastiveAugment.from_config(augment.get_config())
    assert clone.get_config()["rotation"] == pytest.approx(0.5)  # any orientation
    assert clone.get_config()["seeing"] == 1.0 and clone.get_config()["sky"] == 0.02


def test_seeing_and_sky_keep_flux_and_colour():
    rng = np.random.default_rng(3)
    point = np.zeros((3, 21, 21, 3), np.float32)
    point[:, 10, 10] = [0.9, 0.6, 0.3]  # a red star
    seeing = ssl.RandomSeeing(1.5, seed=2)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(seeing(point, training=False)), point)
    blurred = keras.ops.convert_to_numpy(seeing(point, training=True))
    # a blend with a normalised blur: flux and colour conserved, peak lowered, never raised
    np.testing.assert_allclose(blurred.sum(axis=(1, 2)), point.sum(axis=(1, 2)), rtol=1e-5)
    assert np.all(blurred[:, 10, 10, 0] <= 0.9 + 1e-6) and blurred[:, 10, 10, 0].min() < 0.9
    sky = ssl.RandomSkyLevel(0.02, seed=2)
    flat = rng.random((4, 8, 8, 3)).astype(np.float32)
    shifted = keras.ops.convert_to_numpy(sky(flat, training=True)) - flat
    assert np.all(np.abs(shifted) <= 0.02 + 1e-6)
    assert np.ptp(shifted.reshape(4, -1), axis=1).max() < 1e-6  # one offset per image, all channels
    assert np.ptp(shifted[:, 0, 0, 0]) > 0  # images differ
    for layer in (seeing, sky):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def _weights(model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.slow
def test_training_is_deterministic_given_seed():
    images = np.random.default_rng(0).random((32, 40, 40, 3)).astype(np.float32)
    enc1, hist1 = ssl.train_simclr(images, epochs=1, batch_size=16, seed=3, verbose=0)
    enc2, hist2 = ssl.train_simclr(images, epochs=1, batch_size=16, seed=3, verbose=0)
    assert hist1 == hist2
    for a, b in zip(_weights(enc1), _weights(enc2)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_train_on_demo_images_returns_encoder_history_and_saves(tmp_path):
    cat = demo.draw_catalog(40, 2)
    images = np.stack([resize_rgb(demo.render(row, 128).astype(np.float32) / 255.0, 80) for row in cat])
    klass = np.asarray(cat["klass"]).astype(object)
    klass[0] = None  # an unlabelled galaxy: skipped by the monitor
    encoder, history = ssl.train_simclr(images, epochs=2, batch_size=18, seed=0, verbose=0,
                                        monitor_labels={"klass": klass})
    assert set(history) >= {"loss", "val_loss", "knn_klass"}
    # the monitor's last value is the k-NN accuracy of the returned encoder's dense_128 features
    final = KerasExtractor(encoder, {"dense_128": DENSE_128}).transform(images)["dense_128"]
    assert len(history["knn_klass"]) == 2
    assert history["knn_klass"][-1] == pytest.approx(knn_accuracy(final, klass, k=10, seed=0), abs=1e-9)
    assert loss_history(history, tmp_path / "loss.png").stat().st_size > 0
    assert len(history["loss"]) == len(history["val_loss"]) == 2
    assert all(np.isfinite(v) for key in ("loss", "val_loss") for v in history[key])
    # chance level is log(2N - 1); training must start near it and not diverge
    assert history["loss"][-1] < np.log(2 * 18 - 1) + 0.5

    names = [layer.name for layer in encoder.layers]
    assert FLATTEN in names and DENSE_128 in names
    assert encoder.get_layer(FLATTEN).output.shape[-1] == 37632
    assert encoder.get_layer(DENSE_128).output.shape[-1] == 128
    assert not any("augment" in n or n.startswith("random") for n in names)

    path = tmp_path / "simclr.keras"
    save_model(encoder, path)
    loaded = keras.saving.load_model(str(path), safe_mode=True, compile=False)
    assert load_model(path).name == encoder.name
    extractor = KerasExtractor(loaded, {"flatten": FLATTEN, "dense_128": DENSE_128}, name="simclr")
    feats = extractor.transform(images[:5])
    assert feats["flatten"].shape == (5, 37632) and feats["dense_128"].shape == (5, 128)
    again = KerasExtractor(encoder, {"dense_128": DENSE_128}).transform(images[:5])["dense_128"]
    np.testing.assert_allclose(feats["dense_128"], again, rtol=1e-5, atol=1e-6)  # inference: no augmentation


def test_training_model_with_custom_layers_round_trips(tmp_path):
    model = ssl.build_simclr_model(ssl.build_encoder(40), seed=1)
    assert model.output.shape[-1] == 2 * ssl.PROJECTION_DIMS[-1]
    path = tmp_path / "simclr_training.keras"
    model.save(str(path))
    loaded = keras.saving.load_model(str(path), safe_mode=True, compile=False)
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    for a, b in zip(_weights(model), _weights(loaded)):
        np.testing.assert_array_equal(a, b)


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="epochs"):
        ssl.train_simclr(np.zeros((4, 40, 40, 3)), epochs=0)
    with pytest.raises(ValueError, match="shape"):
        ssl.train_simclr(np.zeros((4, 40, 40)), epochs=1)
    with pytest.raises(ValueError, match="at least 2"):
        ssl.train_simclr(np.zeros((1, 40, 40, 3)), epochs=1)


def test_other_encoders_get_a_pooled_head():
    inputs = keras.Input((32, 32, 3))
    maps = keras.layers.Conv2D(8, 3, name="c")(inputs)
    backbone = keras.Model(inputs, maps, name="tiny_backbone")
    model = ssl.build_simclr_model(backbone, seed=0)
    out = model.predict_on_batch(np.zeros((3, 32, 32, 3), np.float32))
    assert out.shape == (3, 2 * ssl.PROJECTION_DIMS[-1])
    with pytest.raises(ValueError, match="encoder takes inputs"):
        ssl.train_simclr(np.zeros((4, 40, 40, 3)), epochs=1, encoder=backbone)
