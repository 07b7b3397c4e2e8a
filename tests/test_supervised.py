"""Training on catalog labels (issue 8): class columns, vote fractions, fine-tuned backbones."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import MaskedColumn, Table

from galclust.backbones import BackboneExtractor
from galclust.cnn import load_model, save_model, train_reference_cnn
from galclust.errors import ConfigError
from galclust.supervised import (
    balanced_class_weights,
    catalog_targets,
    head_for,
    resolve_task,
    usable,
)
from galclust.workflow import Plan

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")]


def blobs_and_rings(n: int, size: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Centred blobs (class 'blob') and rings ('ring'): a class a small CNN learns in a few epochs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    r = np.hypot(yy, xx)
    labels = np.where(np.arange(n) % 3 == 0, "ring", "blob")  # imbalanced: 1 ring for 2 blobs
    images = np.empty((n, size, size, 3), np.float32)
    for i, label in enumerate(labels):
        scale = rng.uniform(3, 6)
        profile = np.exp(-((r - 2 * scale) ** 2) / 4) if label == "ring" else np.exp(-(r**2) / (2 * scale**2))
        images[i] = np.clip(profile[..., None] + rng.normal(0, 0.05, (size, size, 3)), 0, 1)
    return images, labels


def test_task_from_the_column_and_the_key_in_errors():
    catalog = Table({"id": ["a", "b", "c"], "klass": ["spiral", "", "elliptical"], "lambda_r": [0.1, 0.2, np.nan],
                     "p_spiral": [0.9, 0.1, 0.5], "p_smooth": [0.1, 0.9, 0.5]})
    key = "models.m.train"
    assert resolve_task({"target": "klass"}, catalog, key) == "classification"
    assert resolve_task({"target": "lambda_r"}, catalog, key) == "regression"
    assert resolve_task({"target": ["p_spiral", "p_smooth"]}, catalog, key) == "regression"
    with pytest.raises(ConfigError, match=r"models\.m\.train\.target': the catalog has no column 'nope'"):
        resolve_task({"target": ["p_spiral", "nope"]}, catalog, key)
    with pytest.raises(ConfigError, match=r"models\.m\.train\.task': classification learns one class column"):
        resolve_task({"target": ["p_spiral", "p_smooth"], "task": "classification"}, catalog, key)
    with pytest.raises(ConfigError, match=r"column 'klass' is not numeric; set models\.m\.train\.task"):
        catalog_targets(catalog, ["klass"], "regression", key)

    classes = catalog_targets(catalog, ["klass"], "classification", key)
    assert classes == {"a": "spiral", "b": None, "c": "elliptical"}  # empty: no class, not a class ""
    single = catalog_targets(catalog, ["lambda_r"], "regression", key)
    assert single["a"] == pytest.approx(0.1) and not usable(single["c"])
    votes = catalog_targets(catalog, ["p_spiral", "p_smooth"], "regression", key)
    assert votes["b"].tolist() == [0.1, 0.9] and usable(votes["b"])

    masked = Table({"id": ["a", "b"], "klass": MaskedColumn(["x", "y"], mask=[False, True])})
    assert catalog_targets(masked, ["klass"], "classification", key) == {"a": "x", "b": None}


def test_heads_and_balanced_class_weights():
    head = head_for(np.array(["s", "e", "s", "s"]), "classification")
    assert head.classes == ["e", "s"] and head.y.tolist() == [1, 0, 1, 1]
    assert (head.units, head.activation, head.loss) == (2, "softmax", "sparse_categorical_crossentropy")
    weights = balanced_class_weights(head.y, head.units)
    assert weights == {0: pytest.approx(2.0), 1: pytest.approx(4 / 6)}
    assert 1 * weights[0] == pytest.approx(3 * weights[1])  # each class weighs the same in total
    votes = head_for(np.array([[0.1, 0.9], [0.5, 0.5]]), "regression")
    assert (votes.units, votes.activation, votes.loss) == (2, None, "mse")
    with pytest.raises(ValueError, match="at least 2 classes"):
        head_for(np.array(["s", "s"]), "classification")


def test_reference_cnn_learns_a_class_column(tmp_path):
    images, labels = blobs_and_rings(90)
    model, result = train_reference_cnn(images, labels, epochs=6, batch_size=16, task="classification",
                                        augment=False, validation_fraction=0.15, test_fraction=0.3, seed=0)
    assert result.scores["classes"] == ["blob", "ring"]
    assert set(result.scores["class_weights"]) == {"blob", "ring"}
    assert result.scores["class_weights"]["ring"] > result.scores["class_weights"]["blob"]  # the rarer class
    # blobs and rings are told apart on held-out galaxies (chance: 0.5 balanced)
    assert result.scores["test_balanced_accuracy"] >= 0.8, result.scores
    path = tmp_path / "m.keras"
    save_model(model, path)
    probabilities = np.asarray(load_model(path).predict(images[:5], verbose=0))
    assert probabilities.shape == (5, 2) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_reference_cnn_regresses_several_vote_fractions():
    images, labels = blobs_and_rings(45)
    votes = np.stack([(labels == "ring") * 0.8 + 0.1, (labels == "blob") * 0.7 + 0.2], axis=1)
    model, result = train_reference_cnn(images, votes, epochs=2, batch_size=16, augment=False, seed=1)
    assert model.outputs[0].shape[-1] == 2
    assert len(result.scores["test_pearson"]) == 2 and len(result.scores["test_spearman"]) == 2


def test_plan_trains_a_backbone_only_when_fine_tuned(tmp_path, monkeypatch):
    from conftest import TINY, load_yaml

    monkeypatch.chdir(tmp_path)
    config = load_yaml(TINY)
    config["models"]["bb"] = {"kind": "backbone", "backbone": "efficientnetb0", "weights": "random",
                              "input_size": 32, "layers": {"pool": "global_average_pooling"},
                              "train": {"target": ["lambda_r", "ellipticity"], "epochs": 1}}
    config["features"]["bb_pool"] = {"extractor": "bb", "layer": "pool", "pca": 5}
    plan = Plan(config)
    assert "bb" not in plan.trained_models() and plan.model_inputs("bb") == []
    config["models"]["bb"]["fine_tune"] = True
    plan = Plan(config)
    assert "bb" in plan.trained_models()
    assert plan.model_inputs("bb") == [plan.model_file("bb")]
    settings = plan.train_settings("bb")
    assert settings["backbone"] == "efficientnetb0" and settings["input_size"] == 32
    assert settings["target"] == ["lambda_r", "ellipticity"]
    config["models"]["bb"]["train"]["target"] = ["lambda_r", "no_such_column"]
    with pytest.raises(ConfigError, match=r"models\.bb\.train\.target': the catalog has no column 'no_such_column'"):
        Plan(config).training_digest("bb")


@pytest.mark.integration
def test_workflow_trains_on_classes_and_fine_tunes_a_backbone(extended_run):
    """The tiny run plus a CNN learning the demo's class column, a backbone fine-tuned on two
    columns and a self-supervised CNN monitored against the truth columns (conftest's
    ``extended_run``, which also adds tests/test_views_workflow.py's views): all become feature
    sets, their scores reach metrics.json and summary.md."""
    import json

    from galclust.store import read_array

    work, config, jobs = extended_run
    assert jobs["train_model"] == 3  # refcnn is reused
    classes = json.loads((work / "results/models/classcnn/metrics.json").read_text())
    assert classes["task"] == "classification" and classes["target"] == "klass"
    assert len(classes["classes"]) >= 3 and 0 <= classes["test_balanced_accuracy"] <= 1
    tuned = json.loads((work / "results/models/tuned/metrics.json").read_text())
    assert tuned["task"] == "regression" and len(tuned["test_pearson"]) == 2
    assert (tuned["n_train"], tuned["n_validation"], tuned["n_test"]) == (42, 9, 9)  # 60 at 0.15 and 0.15
    assert_fine_tuned_backbone_keeps_its_layers(work, config["seed"])
    assert read_array(work / "results/features/class_dense/reduced.zarr", "features").shape == (60, 5)
    assert read_array(work / "results/features/tuned_pool/reduced.zarr", "features").shape == (60, 5)
    ssl = json.loads((work / "results/models/ssl/metrics.json").read_text())
    assert 0 <= ssl["knn_klass"] <= 1  # the truth column, scored after the (one) epoch
    assert "knn_klass" in (work / "results/models/ssl/history.tsv").read_text().splitlines()[0]
    summary = (work / "results/summary.md").read_text()
    assert "k-NN accuracy of klass" in summary
    assert "classcnn (cnn) trained on `klass` (classification" in summary
    assert "tuned (backbone) trained on" in summary


def assert_fine_tuned_backbone_keeps_its_layers(work, seed: int) -> None:
    """The fine-tuned backbone the run saved keeps the application's own layer names (Keras
    numbers only its unnamed helpers per session), so the layers a feature set names still cut
    it; and its features are not those of the network it started from."""
    from galclust.store import read_array
    from galclust.tables import read_table

    history = read_table(work / "results/models/tuned/history.tsv")
    assert len(history) == 1 and np.isfinite(np.asarray(history["loss"])).all()
    images = read_array(work / "results/batches/b0000/images.zarr", "images")[:4]
    before = BackboneExtractor("efficientnetb0", "random", {"pool": "global_average_pooling"}, input_size=32,
                               seed=seed)
    tuned = work / "results/models/tuned/model.keras"
    after = BackboneExtractor("efficientnetb0", str(tuned), {"pool": "global_average_pooling"}, input_size=32)
    named = [layer.name for layer in before.model.layers if layer.name.startswith(("block", "stem", "top"))]
    assert len(named) > 200 and len(after.model.layers) == len(before.model.layers)
    assert named == [layer.name for layer in after.model.layers if layer.name.startswith(("block", "stem", "top"))]
    f0, f1 = before.transform(images)["pool"], after.transform(images)["pool"]
    assert f0.shape == f1.shape == (4, 1280) and not np.allclose(f0, f1)
