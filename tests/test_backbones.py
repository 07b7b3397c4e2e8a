"""Tests of galclust.backbones: keras.applications backbones, weights, dihedral averaging.

Never touches the network: weights are saved locally from randomly initialised
networks, and ``keras.utils.get_file`` is replaced wherever ImageNet weights would
be fetched. Small inputs (32 px, the smallest keras.applications accepts) keep it fast.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import keras  # a required dependency: missing means failing, never skipping

from galclust import backbones as bb  # noqa: E402
from galclust import precision  # noqa: E402
from galclust.backbones import (  # noqa: E402
    BACKBONES,
    GAP,
    BackboneExtractor,
    DihedralAverage,
    build_backbone,
    dihedral_views,
)
from galclust.errors import ConfigError, GalclustError  # noqa: E402
from galclust.extract import KerasExtractor, extract_store  # noqa: E402
from galclust.store import read_array, read_attrs, write_store  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

SIZE = 32
WIDTHS = {"resnet50": 2048, "vgg16": 512, "efficientnetb0": 1280}


def images(n: int, seed: int = 0, size: int = 80) -> np.ndarray:
    return np.random.default_rng(seed).random((n, size, size, 3), dtype=np.float32)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any download attempt fails at once, as it would offline (never hangs, never connects)."""
    def offline(fname, origin=None, *args, **kwargs):
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -3] Temporary failure in name resolution")

    from keras.src.utils import file_utils

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr(file_utils, "get_file", offline)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """name -> (model, .weights.h5 path) of randomly initialised backbones at 32 px."""
    directory = tmp_path_factory.mktemp("weights")
    cache = {}

    def get(name):
        if name not in cache:
            model = build_backbone(name, "random", SIZE, seed=1)
            path = directory / f"{name}.weights.h5"
            model.save_weights(path)
            cache[name] = (model, path)
        return cache[name]

    return get


def preprocess(name: str, x: np.ndarray, size: int = SIZE) -> np.ndarray:
    """What BackboneExtractor does to the images, written out (for an independent check)."""
    y = keras.ops.image.resize(x * 255.0, (size, size), interpolation="bilinear", antialias=True)
    return keras.ops.convert_to_numpy(BACKBONES[name].preprocess_input(keras.ops.convert_to_numpy(y)))


# --- the table ------------------------------------------------------------------------------


def test_table_matches_installed_keras():
    from keras.src.applications import efficientnet, resnet, vgg16, vgg19

    for depth in (50, 101, 152):
        spec = BACKBONES[f"resnet{depth}"]
        assert spec.weights_origin == resnet.BASE_WEIGHTS_PATH + spec.weights_file
        assert spec.weights_md5 == resnet.WEIGHTS_HASHES[f"resnet{depth}"][1]
    assert BACKBONES["vgg16"].weights_origin == vgg16.WEIGHTS_PATH_NO_TOP
    assert BACKBONES["vgg19"].weights_origin == vgg19.WEIGHTS_PATH_NO_TOP
    for b in range(8):
        spec = BACKBONES[f"efficientnetb{b}"]
        assert spec.weights_origin == efficientnet.BASE_WEIGHTS_PATH + spec.weights_file
        assert spec.weights_md5 == efficientnet.WEIGHTS_HASHES[f"b{b}"][1]
    for name, spec in BACKBONES.items():
        assert callable(spec.constructor) and callable(spec.preprocess_input)
        assert spec.input_size >= 224


# --- each backbone --------------------------------------------------------------------------


def weights_of(model) -> list[tuple[str, np.ndarray]]:
    # in creation order; auto-named layers (normalization, normalization_1, ...) differ between builds
    return [(v.path.split("/")[-1], keras.ops.convert_to_numpy(v)) for v in model.weights]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet50", "vgg16", "efficientnetb0"])
def test_backbone_from_local_weights(name, saved, tmp_path):
    model, path = saved(name)
    ex = BackboneExtractor(name, str(path), {"pool": GAP}, input_size=SIZE, batch_size=2)
    # The weights file loaded (through build_backbone) into an identical network.
    want, got = weights_of(model), weights_of(ex.model)
    assert len(want) == len(got) > 0
    for (name_w, value_w), (name_g, value_g) in zip(want, got):
        assert name_w == name_g
        np.testing.assert_array_equal(value_g, value_w, err_msg=name_w)
    x = images(4)
    first, second = ex.transform(x), ex.transform(x)
    assert ex.feature_widths() == {"pool": WIDTHS[name]}
    assert first["pool"].shape == (4, WIDTHS[name]) and first["pool"].dtype == np.float32
    np.testing.assert_array_equal(first["pool"], second["pool"])  # deterministic
    assert not np.allclose(first["pool"][0], first["pool"][1])
    # Into a Zarr store, with the attrs saying what made it.
    write_store(tmp_path / "images.zarr", ["a", "b", "c", "d"], {"images": x})
    extract_store(tmp_path / "images.zarr", tmp_path / "f.zarr", ex, block_rows=2)
    np.testing.assert_allclose(read_array(tmp_path / "f.zarr", "pool"), first["pool"], rtol=1e-5, atol=1e-6)
    attrs = read_attrs(tmp_path / "f.zarr")
    assert attrs["backbone"] == name and attrs["weights"] == str(path) and attrs["layers"] == {"pool": GAP}
    assert attrs["input_size"] == SIZE and attrs["tta"] is None and attrs["dtype_policy"] == "float32"
    assert BACKBONES[name].module in attrs["preprocessing"]


def test_preprocessing_and_pooling_match_a_hand_computation(saved):
    model, path = saved("vgg16")
    x = images(2)
    got = BackboneExtractor("vgg16", path, {"pool": GAP}, input_size=SIZE).transform(x)["pool"]
    want = keras.ops.convert_to_numpy(model.predict_on_batch(preprocess("vgg16", x))).mean(axis=(1, 2))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    # caffe-style preprocessing: BGR order, ImageNet mean subtracted, from [0, 255]
    flat = np.full((1, SIZE, SIZE, 3), 0.5, np.float32)
    np.testing.assert_allclose(preprocess("vgg16", flat)[0, 0, 0], [127.5 - 103.939, 127.5 - 116.779, 127.5 - 123.68],
                               rtol=1e-5)


def test_named_layers_pooled_or_flattened(saved):
    _, path = saved("vgg16")
    x = images(2)
    layers = {"pool": GAP, "b3": "block3_conv3", "last": "block5_pool"}
    pooled = BackboneExtractor("vgg16", path, layers, input_size=SIZE).transform(x)
    flat = BackboneExtractor("vgg16", path, layers, input_size=SIZE, spatial="flatten").transform(x)
    assert pooled["b3"].shape == (2, 256) and flat["b3"].shape == (2, 8 * 8 * 256)
    np.testing.assert_allclose(pooled["b3"], flat["b3"].reshape(2, 8 * 8, 256).mean(axis=1), rtol=1e-5, atol=1e-6)
    # global_average_pooling is the pooled last block, whatever `spatial` says.
    np.testing.assert_allclose(pooled["pool"], pooled["last"], rtol=1e-6)
    np.testing.assert_allclose(flat["pool"], pooled["pool"], rtol=1e-6)
    assert flat["last"].shape == (2, 1 * 1 * 512)


@pytest.mark.slow
def test_whole_keras_model_file_and_random_weights(saved, tmp_path):
    model, path = saved("vgg16")
    model.save(tmp_path / "vgg.keras")
    x = images(2)
    from_keras = BackboneExtractor("vgg16", tmp_path / "vgg.keras", {"pool": GAP}).transform(x)
    from_h5 = BackboneExtractor("vgg16", path, {"pool": GAP}, input_size=SIZE).transform(x)
    np.testing.assert_allclose(from_keras["pool"], from_h5["pool"], rtol=1e-5, atol=1e-6)
    # random weights are seeded: the same seed gives the same network
    a = BackboneExtractor("vgg16", "random", {"pool": GAP}, input_size=SIZE, seed=3).transform(x)
    b = BackboneExtractor("vgg16", None, {"pool": GAP}, input_size=SIZE, seed=3).transform(x)
    np.testing.assert_array_equal(a["pool"], b["pool"])


def test_bad_configurations(saved, tmp_path):
    _, path = saved("vgg16")
    with pytest.raises(ConfigError, match="unknown backbone 'resnet49'; known: resnet50"):
        build_backbone("resnet49", "random")
    with pytest.raises(ConfigError, match="input_size 16 is below the minimum of 32"):
        build_backbone("vgg16", "random", 16)
    with pytest.raises(ConfigError, match="neither 'imagenet', 'random' nor a weights file"):
        build_backbone("vgg16", "imagenett", SIZE)
    with pytest.raises(GalclustError, match="weights file .*missing.weights.h5 not found"):
        build_backbone("vgg16", tmp_path / "missing.weights.h5", SIZE)
    with pytest.raises(GalclustError, match=r"backbone 'vgg19': the weights in .*vgg16.weights.h5 do not fit VGG19"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about each part it cannot match before failing
        build_backbone("vgg19", path, SIZE)
    with pytest.raises(ConfigError, match=r"unknown layer\(s\) x -> block9_conv1; use 'global_average_pooling'"):
        BackboneExtractor("vgg16", path, {"x": "block9_conv1"}, input_size=SIZE)
    with pytest.raises(ConfigError, match="spatial must be one of gap, flatten"):
        BackboneExtractor("vgg16", path, {"x": GAP}, input_size=SIZE, spatial="max")


# --- ImageNet weights, offline --------------------------------------------------------------


def test_offline_imagenet_names_the_file_and_where_to_put_it(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    with pytest.raises(GalclustError) as info:
        BackboneExtractor("resnet50", "imagenet", {"pool": GAP})
    msg = str(info.value)
    spec = BACKBONES["resnet50"]
    target = os.path.join(str(home), "models", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
    assert spec.weights_file == "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert f"place it as {target}" in msg
    assert spec.weights_origin in msg and "URL fetch failure" in msg
    assert "set the model's weights: to the path of that file" in msg
    assert "\n" not in msg
    assert not os.path.exists(target)


def save_legacy_h5(model, path) -> None:
    """Weights in the format of Keras's own ImageNet files (legacy HDF5)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def test_imagenet_weights_come_from_the_keras_cache(saved, tmp_path, monkeypatch):
    model, _ = saved("vgg16")
    spec = BACKBONES["vgg16"]
    cache = tmp_path / "keras_home" / "models"
    cache.mkdir(parents=True)
    save_legacy_h5(model, cache / spec.weights_file)  # stands in for the cached ImageNet file
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    calls = []

    def cached(fname, origin=None, cache_subdir="datasets", cache_dir=None, **kwargs):
        calls.append((fname, origin, cache_dir, cache_subdir, kwargs.get("file_hash")))
        return os.path.join(cache_dir, cache_subdir, fname)

    monkeypatch.setattr(keras.utils, "get_file", cached)
    ex = BackboneExtractor("vgg16", "imagenet", {"pool": GAP}, input_size=SIZE)
    assert calls == [(spec.weights_file, spec.weights_origin, str(tmp_path / "keras_home"), "models",
                      spec.weights_md5)]
    for (_, want), (_, got) in zip(weights_of(model), weights_of(ex.model)):
        np.testing.assert_array_equal(got, want)
    assert ex.describe()["weights"] == "imagenet"


@pytest.mark.slow
def test_efficientnet_imagenet_file_gets_keras_input_scaling(saved, tmp_path, monkeypatch):
    """EfficientNet from the ImageNet file (here random weights under its Keras name)
    computes exactly what Keras's own ImageNet architecture, with its extra input
    rescaling, computes."""
    from keras.src.utils import file_utils

    model, _ = saved("efficientnetb0")
    spec = BACKBONES["efficientnetb0"]
    fake = tmp_path / spec.weights_file
    save_legacy_h5(model, fake)
    monkeypatch.setattr(file_utils, "get_file", lambda *a, **k: str(fake))
    reference = keras.applications.EfficientNetB0(include_top=False, weights="imagenet", input_shape=(SIZE, SIZE, 3))
    assert sum(isinstance(l, keras.layers.Rescaling) for l in reference.layers) == 2  # Keras's extra layer
    ours = build_backbone("efficientnetb0", fake, SIZE)
    # folded into the input normalisation: variance × ImageNet std (which is what makes a difference)
    (norm,) = [l for l in ours.layers if isinstance(l, keras.layers.Normalization)]
    (plain,) = [l for l in model.layers if isinstance(l, keras.layers.Normalization)]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(norm.adapt_variance),
                               keras.ops.convert_to_numpy(plain.adapt_variance) * [0.229, 0.224, 0.225], rtol=1e-6)
    x = preprocess("efficientnetb0", images(2))
    want = keras.ops.convert_to_numpy(reference.predict_on_batch(x))
    np.testing.assert_allclose(ours.predict_on_batch(x), want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


# --- dihedral averaging ---------------------------------------------------------------------


def test_dihedral_views_are_the_eight_symmetries():
    x = images(2, size=5)
    views = dihedral_views(x)
    assert len(views) == 8 and all(v.shape == x.shape for v in views)
    assert len({v.tobytes() for v in views}) == 8
    np.testing.assert_array_equal(views[0], x)
    for g in (np.rot90(x, 1, axes=(1, 2)), x[:, ::-1], x[:, :, ::-1], x.transpose(0, 2, 1, 3)):
        assert any(np.array_equal(g, v) for v in views)
    with pytest.raises(ValueError, match="square images"):
        dihedral_views(np.zeros((1, 4, 5, 3)))


@pytest.fixture(scope="module")
def refcnn_dihedral():
    from galclust.cnn import build_reference_cnn

    keras.utils.set_random_seed(0)
    model = build_reference_cnn(80, augment=False)
    return DihedralAverage(KerasExtractor(model, {"flatten": "flatten", "dense_128": "dense_128"}, name="refcnn"))


@pytest.mark.slow
def test_dihedral_average_is_invariant(refcnn_dihedral):
    x = images(3)
    base = refcnn_dihedral.transform(x)
    for g in (np.rot90(x, 1, axes=(1, 2)), np.rot90(x, 2, axes=(1, 2)), np.rot90(x, 3, axes=(1, 2)),
              x[:, :, ::-1], x[:, ::-1], x.transpose(0, 2, 1, 3)):
        got = refcnn_dihedral.transform(g)
        for key, arr in base.items():
            assert got[key].dtype == np.float32 and got[key].shape == arr.shape
            np.testing.assert_allclose(got[key], arr, rtol=1e-5, atol=1e-5 * np.abs(arr).max())
    # ... and it is not trivially constant across different images
    assert not np.allclose(base["dense_128"][0], base["dense_128"][1])


def test_dihedral_average_in_a_store(refcnn_dihedral, tmp_path):
    x = images(3)
    write_store(tmp_path / "images.zarr", ["a", "b", "c"], {"images": x})
    extract_store(tmp_path / "images.zarr", tmp_path / "f.zarr", refcnn_dihedral, block_rows=2)
    assert read_attrs(tmp_path / "f.zarr")["tta"] == "dihedral8"
    np.testing.assert_allclose(read_array(tmp_path / "f.zarr", "dense_128"),
                               refcnn_dihedral.transform(x)["dense_128"], rtol=1e-5, atol=1e-6)


def test_backbone_tta(saved):
    _, path = saved("vgg16")
    ex = BackboneExtractor("vgg16", path, {"pool": GAP}, input_size=SIZE, tta=True)
    x = images(2)
    a, b = ex.transform(x)["pool"], ex.transform(np.rot90(x, 1, axes=(1, 2)))["pool"]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(a).max())
    assert ex.describe()["tta"] == "dihedral8"


# --- precision ------------------------------------------------------------------------------


def test_precision_follows_the_gpu():
    assert bb.precision_policy(False) == "float32"
    assert bb.precision_policy(None) == keras.config.dtype_policy().name == "float32"
    if bb.gpu_available():
        assert bb.precision_policy(True) == "mixed_float16"
    else:
        assert bb.precision_policy(True) == "float32"
        assert bb.configure_precision(True) == "float32"
        assert keras.config.dtype_policy().name == "float32"
        assert bb.default_batch_size() == 32


@pytest.mark.slow
def test_mixed_precision_when_a_gpu_is_seen(saved, monkeypatch, tmp_path):
    """The mixed_float16 path, forced on this machine (TensorFlow computes float16 on CPUs too)."""
    model, path = saved("vgg16")
    monkeypatch.setattr(precision, "gpu_available", lambda: True)
    layers = {"pool": GAP, "b3": "block3_conv3"}
    x = images(2)
    half = BackboneExtractor("vgg16", path, layers, input_size=SIZE, mixed_precision=True)
    assert half.policy == "mixed_float16" and half.describe()["dtype_policy"] == "mixed_float16"
    assert half.model.get_layer("block1_conv1").compute_dtype == "float16"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left alone
    full = BackboneExtractor("vgg16", path, layers, input_size=SIZE).transform(x)
    for key, arr in half.transform(x).items():
        assert arr.dtype == np.float32
        np.testing.assert_allclose(arr, full[key], rtol=0.05, atol=0.01 * np.abs(full[key]).max())
    model.save(tmp_path / "vgg.keras")  # a whole saved model is recast too
    loaded = BackboneExtractor("vgg16", tmp_path / "vgg.keras", {"pool": GAP}, mixed_precision=True)
    assert loaded.model.get_layer("block1_conv1").compute_dtype == "float16"
