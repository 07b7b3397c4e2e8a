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


def check_defaults(schema: dict, raw, filled, path: str = "") -> int:
    """Assert every schema default missing from ``raw`` is filled in ``filled``; count them."""
    if not isinstance(filled, dict):
        return 0
    raw = raw if isinstance(raw, dict) else {}
    n = 0
    for name, sub in schema.get("properties", {}).items():
        key = f"{path}.{name}".lstrip(".")
        if "default" in sub and name not in raw:
            assert name in filled, f"default of {key} not filled"
            default = sub["default"]
            if isinstance(default, dict):  # then its own properties' defaults are added
                assert default.items() <= filled[name].items(), key
            else:
                assert filled[name] == default, key
            n += 1
        if name in filled:
            n += check_defaults(sub, raw.get(name), filled[name], key)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for name in set(filled) - set(schema.get("properties", {})):
            n += check_defaults(extra, raw.get(name), filled[name], f"{path}.{name}".lstrip("."))
    return n


def assert_kept(raw, filled, path: str = "") -> None:
    """Every value given in ``raw`` is unchanged in ``filled``."""
    if isinstance(raw, dict):
        for name, value in raw.items():
            assert name in filled, f"{path}.{name} dropped"
            assert_kept(value, filled[name], f"{path}.{name}")
    else:
        assert filled == raw, path


def test_default_config_validates_and_fills_defaults(raw):
    config = load_config(str(CONFIG))
    # values given in the file are kept
    assert_kept(raw, config)
    # every default the file leaves out is filled, nested ones and those in named maps too
    filled = check_defaults(load_schema(), raw, config)
    assert filled > 30
    assert config["source"]["sdss"]["scale"]["arcsec_per_pixel"] > 0  # a default inside a default
    assert all("max_components" in fs for fs in config["features"].values())
    assert "convergence_iter" in config["clustering"]["affinity_propagation"]


def test_minimal_config_gets_defaults():
    raw = minimal()
    config = validate_config(copy.deepcopy(raw))
    assert check_defaults(load_schema(), raw, config) > 30
    assert set(config["catalog"]["columns"]) == {"id", "ra", "dec", "size"}
    assert config["catalog"]["truth"] == []
    assert config["models"] == {}
    assert config["report"]["member_pdfs"] == []
    # every method gets an (empty) setting list by default: only the configured job runs
    assert config["clustering"]["agglomerative"]["k"] == []
    assert config["clustering"]["dbscan"]["eps"] == []
    assert list(clustering_jobs(config)) == ["kmeans-k3"]


def test_check_defaults_detects_a_missing_default():
    raw = minimal()
    config = validate_config(copy.deepcopy(raw))
    del config["source"]["download"]["max_attempts"]
    with pytest.raises(AssertionError, match="source.download.max_attempts"):
        check_defaults(load_schema(), raw, config)


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


@pytest.fixture
def base() -> dict:
    """A complete valid config (a model with two layers, several jobs, member PDFs)."""
    return {
        "seed": 1,
        "source": {"kind": "demo"},
        "catalog": {"truth": ["klass"]},
        "batch_size": 50,
        "models": {"refcnn": {"layers": {"conv": "flatten", "dense": "dense_128"}}},
        "features": {
            "pixels": {"extractor": "pixels", "pca": 50},
            "cnn_conv": {"extractor": "refcnn", "layer": "conv", "pca": 100},
            "cnn_dense": {"extractor": "refcnn", "layer": "dense", "pca": 0.95},
        },
        "clustering": {
            "kmeans": {"k": [2, 6, 10]},
            "agglomerative": {"k": [6]},
            "affinity_propagation": {"damping": [0.8]},
        },
        "report": {"member_pdfs": ["cnn_conv/kmeans-k6"]},
    }


def test_base_is_valid(base):
    validate_config(base)


def test_unknown_clustering_method(base):
    base["clustering"]["foo"] = {"k": [3]}
    msg = error_of(base)
    assert_names_key(msg, "clustering.foo")
    assert "kmeans" in msg  # the allowed methods are listed


@pytest.mark.parametrize("ks, index", [([1, 4], 0), ([4, 1], 1), ([0], 0)])
def test_k_below_two(base, ks, index):
    base["clustering"]["kmeans"]["k"] = ks
    assert_names_key(error_of(base), f"clustering.kmeans.k[{index}]")


def test_agglomerative_k_below_two(base):
    base["clustering"]["agglomerative"]["k"] = [6, 1]
    assert_names_key(error_of(base), "clustering.agglomerative.k[1]")


@pytest.mark.parametrize("size", [0, -5])
def test_non_positive_batch_size(base, size):
    base["batch_size"] = size
    assert_names_key(error_of(base), "batch_size")


def test_batch_size_wrong_type(base):
    base["batch_size"] = "many"
    assert_names_key(error_of(base), "batch_size")


def test_missing_required_key(base):
    del base["batch_size"]
    msg = error_of(base)
    assert msg.startswith("config key '")
    assert "batch_size" in msg


def test_unknown_feature_extractor(base):
    base["features"]["pixels"]["extractor"] = "vgg16"
    msg = error_of(base)
    assert_names_key(msg, "features.pixels.extractor")
    assert "vgg16" in msg and "refcnn" in msg


def test_unknown_layer_name(base):
    base["features"]["cnn_conv"]["layer"] = "nope"
    msg = error_of(base)
    assert_names_key(msg, "features.cnn_conv.layer")
    assert "nope" in msg and "conv" in msg and "dense" in msg


def test_model_extractor_without_layer(base):
    del base["features"]["cnn_dense"]["layer"]
    assert_names_key(error_of(base), "features.cnn_dense.layer")


def test_member_pdfs_unknown_feature_set(base):
    base["report"]["member_pdfs"] = ["cnn_conv/kmeans-k6", "nosuch/kmeans-k6"]
    msg = error_of(base)
    assert_names_key(msg, "report.member_pdfs[1]")
    assert "nosuch" in msg


def test_member_pdfs_unknown_clustering(base):
    base["report"]["member_pdfs"] = ["cnn_conv/kmeans-k7"]
    msg = error_of(base)
    assert_names_key(msg, "report.member_pdfs[0]")
    assert "kmeans-k7" in msg and "kmeans-k6" in msg


def test_extractor_file_without_file(base):
    base["features"]["mine"] = {"extractor": "file", "pca": False}
    assert_names_key(error_of(base), "features.mine.file")


def test_unknown_top_level_key(base):
    base["bogus"] = 1
    msg = error_of(base)
    assert_names_key(msg, "bogus")
    assert "unknown key" in msg


def test_unknown_nested_key(base):
    base["clustering"]["kmeans"]["kk"] = [3]
    assert_names_key(error_of(base), "clustering.kmeans.kk")


@pytest.mark.parametrize("pca", [1.5, 0, -1, "half"])
def test_bad_pca(base, pca):
    base["features"]["pixels"]["pca"] = pca
    assert_names_key(error_of(base), "features.pixels.pca")


def test_bad_damping(base):
    base["clustering"]["affinity_propagation"]["damping"] = [1.0]
    assert_names_key(error_of(base), "clustering.affinity_propagation.damping[0]")


def test_bad_source_kind(base):
    base["source"]["kind"] = "hubble"
    assert_names_key(error_of(base), "source.kind")


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


def test_clustering_job_names_of_default_config(raw):
    jobs = clustering_jobs(load_config(str(CONFIG)))
    c = raw["clustering"]
    expected = (
        [f"kmeans-k{k}" for k in c["kmeans"]["k"]]
        + [f"agglomerative-k{k}" for k in c["agglomerative"]["k"]]
        + [f"affinity_propagation-d{d:g}" for d in c["affinity_propagation"]["damping"]]
        + [f"dbscan-eps{format_setting(e)}" for e in c["dbscan"]["eps"]]
        + [f"hdbscan-m{m}" for m in c["hdbscan"]["min_cluster_size"]]
        + [f"spectral-k{k}" for k in c["spectral"]["k"]]
        + [f"gmm-k{k}" for k in c["gmm"]["k"]]
        + [f"birch-k{k}" for k in c["birch"]["k"]]
    )
    assert len(expected) > 5
    assert set(jobs) == set(expected)
    assert all(job.name == name for name, job in jobs.items())


def test_clustering_job_params():
    config = minimal()
    config["clustering"] = {
        "kmeans": {"k": [10, 2], "n_init": 4},
        "affinity_propagation": {"damping": [0.8], "max_iter": 300},
        "spectral": {"k": [6]},
        "hdbscan": {"min_cluster_size": [10]},
        "agglomerative": {"k": [32]},
    }
    jobs = clustering_jobs(validate_config(config))
    assert set(jobs) == {
        "kmeans-k10", "kmeans-k2", "affinity_propagation-d0.8", "spectral-k6", "hdbscan-m10", "agglomerative-k32",
    }
    assert jobs["kmeans-k10"] == ClusteringJob("kmeans-k10", "kmeans", {"k": 10, "n_init": 4, "route": "auto"})
    ap = jobs["affinity_propagation-d0.8"]
    assert ap.method == "affinity_propagation"
    assert ap.params["damping"] == 0.8 and ap.params["max_iter"] == 300
    assert "convergence_iter" in ap.params  # default filled
    assert jobs["spectral-k6"].params["k"] == 6 and "n_neighbors" in jobs["spectral-k6"].params
    assert jobs["hdbscan-m10"].params == {"min_cluster_size": 10, "min_samples": None, "route": "auto"}
    assert jobs["agglomerative-k32"].params == {"k": 32, "route": "auto"}


def test_clustering_job_names_all_methods():
    config = minimal()
    config["clustering"] = {
        "dbscan": {"eps": [0.5, 1.25], "min_samples": 3},
        "affinity_propagation": {"damping": [0.75, 0.9]},
    }
    jobs = clustering_jobs(validate_config(config))
    assert set(jobs) == {"dbscan-eps0.5", "dbscan-eps1.25", "affinity_propagation-d0.75", "affinity_propagation-d0.9"}
    assert jobs["dbscan-eps1.25"].params == {"eps": 1.25, "min_samples": 3, "route": "auto"}


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


def _tiny() -> dict:
    import yaml as _yaml

    from conftest import TINY

    return _yaml.safe_load(TINY.read_text())


def test_yaml_exponent_without_a_dot_is_explained():
    config = _tiny()
    config["clustering"]["dbscan"]["eps"] = yaml.safe_load("[1e-5]")  # YAML 1.1: a string
    with pytest.raises(ConfigError, match=r"clustering\.dbscan\.eps\[0\].*YAML reads 1e-5 as text"):
        validate_config(config)


@pytest.mark.parametrize("change, message", [
    (lambda c: c["catalog"].update(truth=["no_such_column"]), r"catalog\.truth.*no_such_column"),
    (lambda c: c["features"]["pixels"].update(pca=20000), r"features\.pixels\.pca.*20000 components.*60 galaxies"),
    (lambda c: c["features"].update(m={"extractor": "morphometrics", "pca": 20}),
     r"features\.m\.pca.*20 components.*morphometrics features have 8 columns"),
    (lambda c: c["features"].update(v={"from": "pixels", "reduce": {"method": "lda", "target": "nope"}}),
     r"features\.v\.reduce\.target.*column 'nope' not in the catalog"),
    (lambda c: c["report"].update(physical={"pairs": [["ellipticity", "mass"]]}),
     r"report\.physical\.pairs.*column 'mass' not in the catalog"),
])
def test_what_needs_the_catalog_is_checked_at_parse_time(change, message):
    from galclust.workflow import Plan

    config = _tiny()
    change(config)
    with pytest.raises(ConfigError, match=message):
        Plan(config).check()


@pytest.mark.parametrize("view, message", [
    ({"from": "nowhere", "reduce": {"method": "tsne"}}, r"features\.v\.from.*unknown feature set 'nowhere'"),
    ({"from": "pixels"}, r"features\.v\.reduce.*required with 'from'"),
    ({"from": "pixels", "extractor": "pixels", "reduce": {"method": "pca"}}, r"features\.v.*not both"),
    ({"from": "pixels", "reduce": {"method": "lda"}}, r"features\.v\.reduce\.target.*LDA needs"),
    ({"from": "v", "reduce": {"method": "pca"}}, r"cycle"),
    ({"from": "pixels", "reduce": {"method": "isomap"}}, r"features\.v\.reduce\.method"),
    ({"extractor": "pixels", "methods": ["kmeans", "nope"]}, r"features\.v\.methods\[1\].*unknown method 'nope'"),
])
def test_views_are_checked_before_any_job(view, message):
    config = _tiny()
    config["features"]["v"] = view
    with pytest.raises(ConfigError, match=message):
        validate_config(config)


def test_an_exact_route_that_cannot_fit_stops_before_any_job():
    from galclust.workflow import Plan

    config = _tiny()
    config["max_mem_mb"] = 100  # 60 galaxies fit; pretend the node is tiny and force exact AP
    config["clustering"]["affinity_propagation"]["route"] = "exact"
    config["source"]["demo"]["n_galaxies"] = 6000
    with pytest.raises(ConfigError, match=r"exact route on N=6000 rows needs .* GiB.*set clustering\.\w+\.route: scalable"):
        Plan(config).check()


def test_hdbscan_min_cluster_size_may_be_a_fraction_of_the_galaxies():
    config = minimal()
    config["clustering"] = {"hdbscan": {"min_cluster_size": [0.05, 25], "min_samples": 10}}
    jobs = clustering_jobs(validate_config(config))
    assert set(jobs) == {"hdbscan-m0.05", "hdbscan-m25"}
    assert jobs["hdbscan-m0.05"].params["min_cluster_size"] == 0.05
    for bad in (0, 1, 1.5, -0.1):
        config["clustering"]["hdbscan"]["min_cluster_size"] = [bad]
        assert_names_key(error_of(config), "clustering.hdbscan.min_cluster_size[0]")
