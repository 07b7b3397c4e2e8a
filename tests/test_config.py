"""Tests of galclust.config: schema validation, defaults, one-line key errors, jobs, hashing."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from galclust.config import (
    ClusteringJob,
    clustering_jobs,
    config_hash,
    format_setting,
    load_config,
    load_schema,
    validate_config,
)
from galclust.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config.yaml"
REFERENCE = ROOT / "config" / "reference.yaml"


@pytest.fixture
def raw() -> dict:
    """The repository's config.yaml, unvalidated (a fresh copy per test)."""
    return yaml.safe_load(CONFIG.read_text())


def minimal() -> dict:
    return {
        "source": {"kind": "demo"},
        "catalog": {},
        "batch_size": 10,
        "features": {"pixels": {"extractor": "pixels", "pca": 5}},
        "clustering": {"kmeans": {"k": [3]}},
    }


def error_of(config: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config(config)
    msg = str(info.value)
    assert "\n" not in msg, f"error must be one line: {msg!r}"
    return msg


def assert_names_key(msg: str, key: str) -> None:
    assert msg.startswith(f"config key '{key}': "), msg


# --- valid configs -------------------------------------------------------------------


def test_schema_loads_and_is_an_object_schema():
    schema = load_schema()
    assert schema["type"] == "object"
    assert {"source", "catalog", "batch_size", "features", "clustering"} <= set(schema["required"])


def test_default_config_validates_and_fills_defaults():
    config = load_config(str(CONFIG))
    # values given in the file are kept
    assert config["seed"] == 42
    assert config["batch_size"] == 250
    assert config["clustering"]["kmeans"]["k"] == [2, 4, 6, 8, 10, 12]
    # defaults filled in where the file is silent
    assert config["source"]["download"]["concurrency"] == 8
    # nested defaults are filled too (the default object, then its own defaults)
    assert config["source"]["sdss"]["scale"] == {"mode": "size", "factor": 0.02, "arcsec_per_pixel": 0.396}
    assert config["catalog"]["format"] is None
    assert config["catalog"]["sql"] is None
    assert config["features"]["pixels"]["max_components"] == 200
    assert config["clustering"]["affinity_propagation"]["max_iter"] == 200
    assert config["clustering"]["affinity_propagation"]["convergence_iter"] == 15
    assert config["clustering"]["spectral"]["n_neighbors"] == 10
    assert config["models"]["refcnn"]["train"]["epochs"] == 6  # given
    assert config["report"]["dendrogram_leaves"] == 32


def test_minimal_config_gets_defaults():
    config = validate_config(minimal())
    assert config["seed"] == 42
    assert config["preprocess"] == {"size": 80}
    assert config["catalog"]["columns"] == {"id": "id", "ra": "ra", "dec": "dec", "size": "r_e"}
    assert config["catalog"]["truth"] == []
    assert config["models"] == {}
    assert config["report"]["member_pdfs"] == []
    # every method gets an (empty) setting list by default
    assert config["clustering"]["agglomerative"] == {"k": []}
    assert config["clustering"]["dbscan"] == {"eps": [], "min_samples": 5}


def test_validate_returns_same_dict():
    config = minimal()
    assert validate_config(config) is config


def test_reference_config_validates():
    config = load_config(str(REFERENCE))
    assert set(config["features"]) == {"CNN_37632_PCA_100", "CNN_128_PCA_20"}
    assert all(fs["pca"] is False for fs in config["features"].values())
    assert set(clustering_jobs(config)) == {"kmeans-k10", "agglomerative-k32", "affinity_propagation-d0.8"}


def test_load_config_rejects_non_mapping(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        load_config(str(path))


@pytest.mark.parametrize("pca", [7, 0.9, False])
def test_pca_forms_accepted(pca):
    config = minimal()
    config["features"]["pixels"]["pca"] = pca
    validate_config(config)


# --- one-line errors naming the key -----------------------------------------------------


def test_unknown_clustering_method(raw):
    raw["clustering"]["foo"] = {"k": [3]}
    msg = error_of(raw)
    assert_names_key(msg, "clustering.foo")
    assert "kmeans" in msg  # the allowed methods are listed


@pytest.mark.parametrize("ks, index", [([1, 4], 0), ([4, 1], 1), ([0], 0)])
def test_k_below_two(raw, ks, index):
    raw["clustering"]["kmeans"]["k"] = ks
    assert_names_key(error_of(raw), f"clustering.kmeans.k[{index}]")


def test_agglomerative_k_below_two(raw):
    raw["clustering"]["agglomerative"]["k"] = [6, 1]
    assert_names_key(error_of(raw), "clustering.agglomerative.k[1]")


@pytest.mark.parametrize("size", [0, -5])
def test_non_positive_batch_size(raw, size):
    raw["batch_size"] = size
    assert_names_key(error_of(raw), "batch_size")


def test_batch_size_wrong_type(raw):
    raw["batch_size"] = "many"
    assert_names_key(error_of(raw), "batch_size")


def test_missing_required_key(raw):
    del raw["batch_size"]
    msg = error_of(raw)
    assert msg.startswith("config key '")
    assert "batch_size" in msg


def test_unknown_feature_extractor(raw):
    raw["features"]["pixels"]["extractor"] = "vgg16"
    msg = error_of(raw)
    assert_names_key(msg, "features.pixels.extractor")
    assert "vgg16" in msg and "refcnn" in msg


def test_unknown_layer_name(raw):
    raw["features"]["cnn_conv"]["layer"] = "nope"
    msg = error_of(raw)
    assert_names_key(msg, "features.cnn_conv.layer")
    assert "nope" in msg and "conv" in msg and "dense" in msg


def test_model_extractor_without_layer(raw):
    del raw["features"]["cnn_dense"]["layer"]
    assert_names_key(error_of(raw), "features.cnn_dense.layer")


def test_member_pdfs_unknown_feature_set(raw):
    raw["report"]["member_pdfs"] = ["cnn_conv/kmeans-k6", "nosuch/kmeans-k6"]
    msg = error_of(raw)
    assert_names_key(msg, "report.member_pdfs[1]")
    assert "nosuch" in msg


def test_member_pdfs_unknown_clustering(raw):
    raw["report"]["member_pdfs"] = ["cnn_conv/kmeans-k7"]
    msg = error_of(raw)
    assert_names_key(msg, "report.member_pdfs[0]")
    assert "kmeans-k7" in msg and "kmeans-k6" in msg


def test_extractor_file_without_file(raw):
    raw["features"]["mine"] = {"extractor": "file", "pca": False}
    assert_names_key(error_of(raw), "features.mine.file")


def test_unknown_top_level_key(raw):
    raw["bogus"] = 1
    msg = error_of(raw)
    assert_names_key(msg, "bogus")
    assert "unknown key" in msg


def test_unknown_nested_key(raw):
    raw["clustering"]["kmeans"]["kk"] = [3]
    assert_names_key(error_of(raw), "clustering.kmeans.kk")


@pytest.mark.parametrize("pca", [1.5, 0, -1, "half"])
def test_bad_pca(raw, pca):
    raw["features"]["pixels"]["pca"] = pca
    assert_names_key(error_of(raw), "features.pixels.pca")


def test_bad_damping(raw):
    raw["clustering"]["affinity_propagation"]["damping"] = [1.0]
    assert_names_key(error_of(raw), "clustering.affinity_propagation.damping[0]")


def test_bad_source_kind(raw):
    raw["source"]["kind"] = "hubble"
    assert_names_key(error_of(raw), "source.kind")


def test_no_clustering_job():
    config = minimal()
    config["clustering"] = {"kmeans": {"k": []}}
    assert_names_key(error_of(config), "clustering")


def test_non_demo_source_needs_catalog():
    config = minimal()
    config["source"] = {"kind": "sdss"}
    assert_names_key(error_of(config), "catalog.path")


def test_local_source_needs_directory():
    config = minimal()
    config["source"] = {"kind": "local"}
    config["catalog"] = {"path": "cat.csv"}
    assert_names_key(error_of(config), "source.local.directory")


# --- clustering jobs -------------------------------------------------------------------


def test_clustering_job_names_of_default_config():
    jobs = clustering_jobs(load_config(str(CONFIG)))
    assert set(jobs) == {
        "kmeans-k2", "kmeans-k4", "kmeans-k6", "kmeans-k8", "kmeans-k10", "kmeans-k12",
        "agglomerative-k6", "agglomerative-k32",
        "affinity_propagation-d0.8",
        "hdbscan-m10",
        "spectral-k6",
    }
    assert jobs["kmeans-k10"] == ClusteringJob("kmeans-k10", "kmeans", {"k": 10, "n_init": 10})
    assert jobs["affinity_propagation-d0.8"].method == "affinity_propagation"
    assert jobs["affinity_propagation-d0.8"].params == {"damping": 0.8, "max_iter": 200, "convergence_iter": 15}
    assert jobs["spectral-k6"].params == {"k": 6, "n_neighbors": 10}
    assert jobs["hdbscan-m10"].params == {"min_cluster_size": 10}


def test_clustering_job_names_all_methods():
    config = minimal()
    config["clustering"] = {
        "dbscan": {"eps": [0.5, 1.25], "min_samples": 3},
        "affinity_propagation": {"damping": [0.75, 0.9]},
    }
    jobs = clustering_jobs(validate_config(config))
    assert set(jobs) == {"dbscan-eps0.5", "dbscan-eps1.25", "affinity_propagation-d0.75", "affinity_propagation-d0.9"}
    assert jobs["dbscan-eps1.25"].params == {"eps": 1.25, "min_samples": 3}


@pytest.mark.parametrize("value, text", [(10, "10"), (0.8, "0.8"), (0.80, "0.8"), (2.0, "2"), (0.125, "0.125")])
def test_format_setting(value, text):
    assert format_setting(value) == text


# --- hashing -------------------------------------------------------------------------


def test_config_hash_ignores_key_order():
    a = {"x": 1, "y": {"b": [1, 2], "a": "s"}}
    b = {"y": {"a": "s", "b": [1, 2]}, "x": 1}
    assert config_hash(a) == config_hash(b)
    assert len(config_hash(a)) == 12
    assert re.fullmatch(r"[0-9a-f]{12}", config_hash(a))
    assert len(config_hash(a, length=20)) == 20


def test_config_hash_changes_with_a_value(raw):
    h = config_hash(raw)
    assert config_hash(copy.deepcopy(raw)) == h
    changed = copy.deepcopy(raw)
    changed["clustering"]["kmeans"]["n_init"] = 11
    assert config_hash(changed) != h
    reordered = copy.deepcopy(raw)
    reordered["clustering"]["kmeans"]["k"] = list(reversed(reordered["clustering"]["kmeans"]["k"]))
    assert config_hash(reordered) != h  # list order is a value
