"""Issue 24, end to end: config/examples/train_encoder.yaml trains a (tiny) encoder on real labelled
cutouts and writes its model card; another run uses it by path, taking its preprocessing from the
card, and a run that contradicts the card stops before any job."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from conftest import load_example, REPO, load_yaml, snakemake, write_config
from galclust.modelcard import file_sha256
from galclust.store import read_array
from galclust.tables import read_table

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")]
GZ2 = REPO / "tests" / "data" / "gz2_three"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The recipe on the 36 real three-class cutouts: every 4th galaxy held out of training."""
    work = tmp_path_factory.mktemp("train_encoder")
    with open(GZ2 / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    labels = work / "labels.csv"
    with open(labels, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "label", "split", "in_gz2_spirals"])
        for i, row in enumerate(rows):
            writer.writerow([row["id"], row["class"], "test" if i % 4 == 0 else "train", "no"])
    config = load_yaml(REPO / "config" / "examples" / "train_encoder.yaml")
    config["source"]["local"]["directory"] = str(GZ2 / "images")
    config["catalog"]["path"] = str(labels)
    config["batch_size"] = 20
    config["preprocess"]["size"] = 40
    train = config["models"]["gz2_five_encoder"]["train"]
    train.update(epochs=2, batch_size=8, widths=[4, 8], embedding=8, validation_fraction=0.15,
                 test_fraction=0.15)
    config["clustering"] = {"kmeans": {"k": [3]}}  # the one clustering this module reads
    config["report"] = {"member_pdfs": ["encoder/kmeans-k3"]}
    result = snakemake(work, write_config(work / "config.yaml", config), "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    return work, [r["id"] for i, r in enumerate(rows) if i % 4 != 0]


def test_the_recipe_writes_a_model_card(trained):
    work, training_ids = trained
    model_dir = work / "results" / "models" / "gz2_five_encoder"
    card = json.loads((model_dir / "model.card.json").read_text())
    assert card["format"] == "galclust-model-card" and card["kind"] == "encoder"
    assert card["sha256"] == file_sha256(model_dir / "model.keras")
    assert card["input"] == {"size": 40, "channels": 3, "scaling": "unit",
                             "description": "RGB in [0, 1] after galclust's preprocessing (below)"}
    assert card["preprocess"]["size"] == 40
    assert card["preprocess"]["normalise"]["mode"] == "full"
    assert card["preprocess"]["normalise"]["radius_multiple"] == 6
    assert card["classes"] == ["edge_on", "elliptical", "face_on_spiral"] and card["task"] == "classification"
    # train.where: only the train rows, none of the held-out quarter
    assert card["training_set"]["n"] == len(training_ids) == 27
    assert card["training_set"]["where"] == {"split": "train", "in_gz2_spirals": "no"}
    assert card["seed"] == 42 and card["epochs"] == 2 and "Galaxy Zoo" in card["credits"]
    assert set(card["test_metrics"]) >= {"test_accuracy", "test_balanced_accuracy", "n_train"}
    assert card["layers"] == {"embedding": "embedding", "pool": "pool"}
    # the recipe's run also clusters the whole reference set with the encoder it trained
    assert read_array(work / "results/features/encoder/reduced.zarr", "features").shape == (36, 8)
    assert len(read_table(work / "results/clustering/encoder/kmeans-k3/labels.ecsv")) == 36


def _using(trained, tmp_path, **preprocess):
    work, _ = trained
    model = work / "results" / "models" / "gz2_five_encoder" / "model.keras"
    config = load_example("local.yaml")
    config["source"]["local"]["directory"] = str(GZ2 / "images")
    config["preprocess"] = preprocess
    config["batch_size"] = 36
    config["models"] = {"mine": {"kind": "encoder", "path": str(model), "layers": {"embedding": "embedding"}}}
    config["features"] = {"mine": {"extractor": "mine", "layer": "embedding", "pca": False}}
    config["clustering"] = {"kmeans": {"k": [3]}}
    config["report"] = {"member_pdfs": []}
    return write_config(tmp_path / "config.yaml", config)


def test_another_run_uses_it_by_path_with_the_cards_preprocessing(trained, tmp_path):
    """...and, beside it, a user's own saved network (kind keras) cut at a named layer, with its
    input size and pixel scale."""
    import keras

    inputs = keras.Input((24, 24, 3))
    x = keras.layers.Conv2D(6, 3, name="their_conv")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="their_pool")(x)
    theirs = keras.Model(inputs, keras.layers.Dense(3, name="their_logits")(pooled))
    theirs.save(tmp_path / "theirs.keras")
    config = load_yaml(_using(trained, tmp_path, from_model="mine"))
    config["models"]["theirs"] = {"kind": "keras", "path": str(tmp_path / "theirs.keras"), "input_size": 24,
                                  "input_scaling": "symmetric", "layers": {"pool": "their_pool"}}
    config["features"]["theirs"] = {"extractor": "theirs", "layer": "pool", "pca": False}
    # both side by side, each block z-scored and weighed by 1/sqrt(width)
    config["features"]["both"] = {"from": ["mine", "theirs"], "reduce": {"method": "concat"}}
    result = snakemake(tmp_path, write_config(tmp_path / "config.yaml", config), "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    reduced = read_array(tmp_path / "results/features/mine/reduced.zarr", "features")
    ours = read_array(trained[0] / "results/features/encoder/reduced.zarr", "features")
    # the same images (the card's preprocessing) through the same network: the same features
    np.testing.assert_allclose(reduced, ours, rtol=1e-4, atol=1e-5)
    assert len(read_table(tmp_path / "results/clustering/mine/kmeans-k3/labels.ecsv")) == 36

    images = read_array(tmp_path / "results/batches/b0000/images.zarr", "images")
    small = np.asarray(keras.ops.image.resize(images, (24, 24), interpolation="area"))
    cut = keras.Model(theirs.inputs, theirs.get_layer("their_pool").output)
    expected = np.asarray(cut.predict(small * 2.0 - 1.0, verbose=0))
    got = read_array(tmp_path / "results/features/theirs/reduced.zarr", "features")
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert len(read_table(tmp_path / "results/clustering/theirs/kmeans-k3/labels.ecsv")) == 36

    both = read_array(tmp_path / "results/features/both/reduced.zarr", "features")
    assert both.shape == (36, 8 + 6)
    z = lambda a: (a - a.mean(0)) / np.where(a.std(0) > 0, a.std(0), 1)  # noqa: E731
    np.testing.assert_allclose(both, np.hstack([z(reduced) / np.sqrt(8), z(got) / np.sqrt(6)]), rtol=1e-3,
                               atol=1e-4)
    reference_labels = read_table(tmp_path / "results/clustering/both/kmeans-k3/labels.ecsv")

    # the same galaxies placed into this run's clusterings (assign.reference): the combined set is
    # projected by the saved scaling, so every galaxy lands in its own cluster
    again = tmp_path / "again"
    again.mkdir()
    config["assign"] = {"reference": str(tmp_path / "results")}
    result = snakemake(again, write_config(again / "config.yaml", config), "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    placed = read_array(again / "results/assigned/both/projected.zarr", "features")
    np.testing.assert_allclose(placed, both, rtol=1e-4, atol=1e-4)
    assigned = read_table(again / "results/assigned/both/kmeans-k3/assigned.ecsv")
    assert list(assigned["id"]) == list(reference_labels["id"])
    assert list(assigned["label"]) == list(reference_labels["label"])


def test_a_run_contradicting_the_card_stops_before_any_job(trained, tmp_path):
    path = _using(trained, tmp_path, size=80, normalise={"mode": "full", "radius_multiple": 6})
    result = snakemake(tmp_path, path, "--cores", "2")
    assert result.returncode != 0
    assert "config key 'preprocess.size': 80, but model 'mine' was trained on images preprocessed with 40" \
        in result.stderr
    assert not (tmp_path / "results").exists()
