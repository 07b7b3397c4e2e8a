"""Tests of galclust.extract: pixel and Keras extractors, and streaming extraction to Zarr."""

from __future__ import annotations

import keras  # a required dependency: missing means failing, never skipping
import numpy as np
import pytest

from galclust import extract as extract_mod
from galclust.errors import ConfigError
from galclust.extract import DihedralAverage, KerasExtractor, PixelExtractor, dihedral_views, extract_store
from galclust.store import read_array, read_attrs, read_ids, write_store


LAYERS = {"flatten": "flatten", "dense_128": "dense_128"}


@pytest.fixture(scope="module")
def refcnn():
    from galclust.cnn import build_reference_cnn

    keras.utils.set_random_seed(0)
    return build_reference_cnn(80, augment=False)


def images(n: int, seed: int = 0, size: int = 80) -> np.ndarray:
    return np.random.default_rng(seed).random((n, size, size, 3), dtype=np.float32)


def image_store(path, n: int, seed: int = 0):
    ids = [f"g{i:04d}" for i in range(n)]
    x = images(n, seed)
    write_store(path, ids, {"images": x}, chunk_rows=4)
    return ids, x


# --- extractors -----------------------------------------------------------------------


def test_pixel_extractor():
    x = images(3, size=8)
    out = PixelExtractor().transform(x.astype(np.float64))
    assert list(out) == ["pixels"]
    assert out["pixels"].dtype == np.float32 and out["pixels"].shape == (3, 8 * 8 * 3)
    np.testing.assert_array_equal(out["pixels"][1], x[1].ravel())


def test_keras_extractor_shapes_dtypes_determinism(refcnn):
    ex = KerasExtractor(refcnn, LAYERS, name="refcnn", batch_size=2)
    x = images(5)
    first, second = ex.transform(x), ex.transform(x)
    assert ex.output_names() == ["flatten", "dense_128"]
    assert ex.feature_widths() == {"flatten": 37632, "dense_128": 128}
    assert first["flatten"].shape == (5, 37632) and first["dense_128"].shape == (5, 128)
    for key in LAYERS:
        assert first[key].dtype == np.float32
        np.testing.assert_array_equal(first[key], second[key])
    # Batching does not change the result, and it equals the full model's layer outputs.
    whole = KerasExtractor(refcnn, LAYERS, batch_size=64).transform(x)
    direct = keras.Model(refcnn.inputs, refcnn.get_layer("dense_128").output).predict_on_batch(x)
    np.testing.assert_allclose(whole["dense_128"], first["dense_128"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(whole["dense_128"], direct, rtol=1e-5, atol=1e-6)
    assert ex.describe() == {"extractor": "refcnn", "model": "reference_cnn", "layers": LAYERS,
                             "input_shape": [int(v) for v in refcnn.inputs[0].shape[1:]], "input_scaling": "unit",
                             "dtype_policy": "float32"}


def test_keras_extractor_flattens_4d_layers(refcnn):
    out = KerasExtractor(refcnn, {"c5": "conv5"}).transform(images(2))
    assert out["c5"].shape == (2, 14 * 14 * 192) and out["c5"].dtype == np.float32


def test_keras_extractor_unknown_layer_names_the_known_ones(refcnn):
    with pytest.raises(ConfigError, match=r"model 'refcnn': unknown layer\(s\) conv -> nope; .*dense_128"):
        KerasExtractor(refcnn, {"conv": "nope"}, name="refcnn")


def test_mixed_precision_without_gpu_is_float32(refcnn):
    from galclust.backbones import gpu_available

    if gpu_available():
        pytest.skip("a GPU is visible: mixed precision would apply")
    x = images(2)
    mixed = KerasExtractor(refcnn, LAYERS, mixed_precision=True)
    assert mixed.policy == "float32"
    plain = KerasExtractor(refcnn, LAYERS).transform(x)
    for key, arr in mixed.transform(x).items():
        np.testing.assert_array_equal(arr, plain[key])


def test_global_mixed_precision_is_followed_by_loaded_models(refcnn, monkeypatch):
    """What rule `extract` does with `mixed_precision: true` (forced: this machine may have no GPU)."""
    from galclust import precision

    monkeypatch.setattr(precision, "gpu_available", lambda: True)
    try:
        assert precision.enable_mixed_precision() == "mixed_float16"
        ex = KerasExtractor(refcnn, LAYERS)  # mixed_precision=None: follow the global policy
        assert ex.policy == "mixed_float16" and ex.describe()["dtype_policy"] == "mixed_float16"
        assert ex._cut.get_layer("conv1").compute_dtype == "float16"
        out = ex.transform(images(2))
        assert all(arr.dtype == np.float32 for arr in out.values())
        assert KerasExtractor(refcnn, LAYERS, mixed_precision=False).policy == "float32"
    finally:
        keras.config.set_dtype_policy("float32")
    assert refcnn.get_layer("conv1").compute_dtype == "float32"  # the original is untouched


def test_with_dtype_policy_mixed_float16_keeps_weights_and_returns_float32(refcnn):
    from galclust.backbones import with_dtype_policy

    half = with_dtype_policy(refcnn, "mixed_float16")
    assert half.get_layer("conv1").compute_dtype == "float16"
    assert half.get_layer("conv1").kernel.dtype == "float32"  # variables stay float32
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    x = images(2)
    ex16 = KerasExtractor.from_cut(
        keras.Model(half.inputs, half.get_layer("dense_128").output), ["dense_128"], name="half")
    ex32 = KerasExtractor(refcnn, {"dense_128": "dense_128"})
    got, want = ex16.transform(x)["dense_128"], ex32.transform(x)["dense_128"]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0.05, atol=0.02 * np.abs(want).max())


# --- extract_store --------------------------------------------------------------------


def test_extract_store_blocks_ids_attrs(tmp_path, refcnn):
    ids, x = image_store(tmp_path / "images.zarr", 10)
    ex = KerasExtractor(refcnn, LAYERS, name="refcnn", batch_size=3)
    extract_store(tmp_path / "images.zarr", tmp_path / "f.zarr", ex, block_rows=4, attrs={"config_hash": "abc"})
    assert list(read_ids(tmp_path / "f.zarr")) == ids
    attrs = read_attrs(tmp_path / "f.zarr")
    assert attrs["extractor"] == "refcnn" and attrs["layers"] == LAYERS and attrs["config_hash"] == "abc"
    assert "provenance" in attrs
    want = ex.transform(x)
    for key in LAYERS:
        got = read_array(tmp_path / "f.zarr", key)
        assert got.dtype == np.float32 and got.shape == want[key].shape
        np.testing.assert_allclose(got, want[key], rtol=1e-5, atol=1e-6)


class Recorder:
    """A cheap extractor that records the blocks it sees and how far reading had got."""

    name = "recorder"

    def __init__(self, counter: list[int]) -> None:
        self.counter = counter  # blocks yielded by the reader so far
        self.seen: list[tuple[int, int]] = []  # (block length, blocks read when transform ran)

    def output_names(self):
        return ["mean", "first"]

    def transform(self, images):
        self.seen.append((len(images), self.counter[0]))
        return {"mean": images.reshape(len(images), -1).mean(axis=1, keepdims=True).astype(np.float32),
                "first": images[:, 0, 0, :].astype(np.float32)}

    def describe(self):
        return {"extractor": self.name}


def test_extract_store_streams_with_one_block_read_ahead(tmp_path, monkeypatch):
    ids, x = image_store(tmp_path / "images.zarr", 11)
    counter = [0]
    real = extract_mod.iter_blocks

    def counting(*args, **kwargs):
        for item in real(*args, **kwargs):
            counter[0] += 1
            yield item

    monkeypatch.setattr(extract_mod, "iter_blocks", counting)
    rec = Recorder(counter)
    extract_store(tmp_path / "images.zarr", tmp_path / "f.zarr", rec, block_rows=3)
    assert [length for length, _ in rec.seen] == [3, 3, 3, 2]
    # While block i is computed, at most block i+1 has been read: memory is bounded.
    for i, (_, read) in enumerate(rec.seen):
        assert i + 1 <= read <= i + 2
    np.testing.assert_allclose(read_array(tmp_path / "f.zarr", "mean")[:, 0], x.reshape(11, -1).mean(axis=1),
                               rtol=1e-5)
    np.testing.assert_array_equal(read_array(tmp_path / "f.zarr", "first"), x[:, 0, 0, :])


def test_extract_store_computes_and_writes_in_steps_of_whole_batches(tmp_path):
    import zarr

    from galclust.extract import step_rows_for

    _, x = image_store(tmp_path / "images.zarr", 150)
    rec = Recorder([0])
    rec.batch_size = 16
    assert step_rows_for(rec, 100) == 64 and step_rows_for(rec, 40) == 40
    extract_store(tmp_path / "images.zarr", tmp_path / "f.zarr", rec, block_rows=100)
    assert [length for length, _ in rec.seen] == [64, 36, 50]  # blocks of 100 read, steps of 64 computed
    assert zarr.open_group(str(tmp_path / "f.zarr"), mode="r")["first"].chunks == (64, 3)
    np.testing.assert_array_equal(read_array(tmp_path / "f.zarr", "first"), x[:, 0, 0, :])
    assert step_rows_for(DihedralAverage(PixelExtractor()), 256) == 256  # no batch size: whole blocks
    wrapped = Recorder([0])
    wrapped.batch_size = 100
    assert step_rows_for(DihedralAverage(wrapped), 256) == 100


def test_extract_store_empty_batch_gets_real_widths(tmp_path, refcnn):
    write_store(tmp_path / "images.zarr", [], {"images": np.zeros((0, 80, 80, 3), np.float32)})
    extract_store(tmp_path / "images.zarr", tmp_path / "f.zarr", KerasExtractor(refcnn, LAYERS))
    assert read_array(tmp_path / "f.zarr", "flatten").shape == (0, 37632)
    assert read_array(tmp_path / "f.zarr", "dense_128").shape == (0, 128)
    extract_store(tmp_path / "images.zarr", tmp_path / "p.zarr", PixelExtractor())
    assert read_array(tmp_path / "p.zarr", "pixels").shape == (0, 0)


def test_dihedral_average_wraps_any_extractor(tmp_path):
    x = images(2, size=6)
    avg = DihedralAverage(PixelExtractor())
    want = np.mean([v.reshape(2, -1) for v in dihedral_views(x)], axis=0)
    np.testing.assert_allclose(avg.transform(x)["pixels"], want, rtol=1e-6)
    np.testing.assert_allclose(avg.transform(x[:, ::-1])["pixels"], want, rtol=1e-6)
    assert avg.describe() == {"extractor": "pixels", "tta": "dihedral8"}
    assert avg.output_names() == ["pixels"] and avg.name == "pixels"


def test_extract_store_failure_leaves_no_store(tmp_path):
    image_store(tmp_path / "images.zarr", 7)

    class Broken(Recorder):
        def transform(self, images):
            out = super().transform(images)
            if len(self.seen) == 2:
                out["mean"] = out["mean"][:-1]  # one row short
            return out

    with pytest.raises(ValueError, match="feature 'mean' has shape"):
        extract_store(tmp_path / "images.zarr", tmp_path / "f.zarr", Broken([0]), block_rows=3)
    assert not (tmp_path / "f.zarr").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images.zarr"]
