"""The registries are the one place that says which methods, extractors and sources exist:
the schema agrees with them, and job names are exact."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from galclust.acquire.sources import SOURCES
from galclust.backbones import BACKBONES
from galclust.config import JOB_NAME, SCHEMA_FILE, clustering_jobs, format_setting, load_config, validate_config
from galclust.errors import ConfigError
from galclust.extractors import EXTRACTORS, builtin, model_kinds
from galclust.methods import METHODS

from conftest import REPO


def packaged_schema() -> dict:
    return yaml.safe_load((REPO / "src" / "galclust" / "schemas" / SCHEMA_FILE).read_text())


def test_schema_lists_exactly_the_registered_sources_model_kinds_methods_and_backbones():
    props = packaged_schema()["properties"]
    assert props["source"]["properties"]["kind"]["enum"] == list(SOURCES)
    assert set(props["source"]["properties"]) - {"kind", "cache_dir", "download"} == set(SOURCES)
    model = props["models"]["additionalProperties"]["properties"]
    assert model["kind"]["enum"] == model_kinds()
    assert sorted(model["backbone"]["enum"]) == sorted(BACKBONES)
    assert set(props["clustering"]["properties"]) == set(METHODS)
    for name, method in METHODS.items():
        block = props["clustering"]["properties"][name]["properties"]
        assert method.setting in block, (name, method.setting)
        assert "$ref" in block[method.setting] or block[method.setting]["type"] == "array", name


def test_every_registry_entry_is_complete():
    for name, method in METHODS.items():
        assert method.name == name and re.fullmatch(r"[a-z_]+", name) and re.fullmatch(r"[a-z]+", method.tag)
        assert callable(method.fit) and callable(method.memory_bytes) and callable(method.route)
        assert method.memory_bytes(1000, 10, {method.setting: 5}) > 0
    assert builtin() == ["pixels", "morphometrics", "profiles", "file"]
    for name, kind in EXTRACTORS.items():
        assert kind.name == name and callable(kind.build) and kind.label({"backbone": "resnet50", "file": "x.npy"})
    for name, source in SOURCES.items():
        assert source.name == name and callable(source.fetch)


@pytest.mark.parametrize("value, name", [
    (1e-5, "0.00001"), (0.1234567, "0.1234567"), (0.1234568, "0.1234568"), (2.0, "2"), (10, "10"),
    (0.8, "0.8"), (1e-12, "0.000000000001"), (12345.5, "12345.5"),
])
def test_job_names_are_exact(value, name):
    assert format_setting(value) == name
    assert float(format_setting(value)) == value  # reads back as the same number
    assert JOB_NAME.match(f"dbscan-eps{name}")


def _config(**clustering) -> dict:
    config = load_config(str(REPO / "config" / "tests" / "tiny.yaml"))
    config["clustering"] = clustering
    config["report"]["member_pdfs"] = []
    return validate_config(config)


def test_close_values_give_distinct_jobs_and_tiny_eps_is_a_valid_job():
    jobs = clustering_jobs(_config(dbscan={"eps": [1e-5, 0.1234567, 0.1234568]}))
    assert sorted(jobs) == ["dbscan-eps0.00001", "dbscan-eps0.1234567", "dbscan-eps0.1234568"]
    assert [j.params["eps"] for j in jobs.values()] == [1e-5, 0.1234567, 0.1234568]
    for name in jobs:
        assert re.fullmatch(r"[a-z_]+-[a-z]+[0-9.]+", name)  # the Snakefile's `job` wildcard


def test_a_repeated_value_names_its_key():
    with pytest.raises(ConfigError, match=r"clustering\.dbscan\.eps\[1\].*repeats"):
        clustering_jobs(_config(dbscan={"eps": [0.5, 0.50]}))


def test_the_method_registry_drives_the_cluster_step():
    from galclust.cluster import fit_predict
    from galclust.config import ClusteringJob

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.3, (20, 2)), rng.normal(10, 0.3, (20, 2))]).astype(np.float32)
    for name, method in METHODS.items():
        value = {"k": 2, "damping": 0.9, "eps": 1.0, "min_cluster_size": 5}[method.setting]
        result = fit_predict(X, ClusteringJob(f"{name}-{method.tag}{value}", name, {method.setting: value}), 0)
        assert len(set(result.labels.tolist()) - {-1}) == 2, name


# -- the Registry type (galclust.registry) and the reducer registry ---------------------------------
from dataclasses import dataclass  # noqa: E402

from galclust.config import load_schema  # noqa: E402
from galclust.extractors import kind_for  # noqa: E402
from galclust.reducers import REDUCERS, Reducer  # noqa: E402
from galclust.registry import Registry, UnknownName  # noqa: E402


@dataclass(frozen=True)
class _Entry:
    name: str
    flag: bool = False


def test_registry_registers_looks_up_and_names_the_unknown_and_the_known():
    reg: Registry[_Entry] = Registry("widget")
    a = reg.register(_Entry("a"))
    reg.register(_Entry("b", flag=True))
    assert reg["a"] is a and list(reg) == ["a", "b"] and len(reg) == 2 and "b" in reg and "c" not in reg
    assert reg.where(flag=True) == ["b"] and reg.where() == ["a", "b"]
    with pytest.raises(UnknownName) as err:
        reg["c"]
    assert str(err.value) == "unknown widget 'c' (known: a, b)"
    assert isinstance(err.value, KeyError) and isinstance(err.value, ConfigError)
    assert reg.get("c") is None  # Mapping's get still answers None
    replaced = reg.register(_Entry("a", flag=True))  # a plugin may replace a built-in, in place
    assert reg["a"] is replaced and list(reg) == ["a", "b"]


def test_every_registry_is_a_registry():
    for registry, what in ((METHODS, "method"), (EXTRACTORS, "extractor"), (SOURCES, "source"),
                           (REDUCERS, "reducer")):
        assert isinstance(registry, Registry) and registry.what == what
    with pytest.raises(UnknownName, match=r"unknown reducer 'nope' \(known: pca, tsne, umap, lda, concat\)"):
        REDUCERS["nope"]


def test_the_schema_lists_exactly_the_registered_reducers():
    props = packaged_schema()["properties"]
    reduce = props["features"]["additionalProperties"]["properties"]["reduce"]["properties"]
    assert reduce["method"]["enum"] == list(REDUCERS)
    assert props["report"]["properties"]["maps"]["properties"]["method"]["enum"] == [
        n for n, r in REDUCERS.items() if r.map_keys is not None]
    for name, reducer in REDUCERS.items():
        assert reducer.name == name and callable(reducer.fit_transform) and reducer.memory_bytes(100, 10, {}) > 0
        assert set(reducer.map_keys or ()) <= set(props["report"]["properties"]["maps"]["properties"])
    assert REDUCERS.where(supervised=True) == ["lda"] and REDUCERS.where(combines=True) == ["concat"]


def test_a_plugin_reducer_brings_its_schema_block_and_is_supervised_by_its_entry(monkeypatch):
    def fit(X, params, seed, target):
        raise AssertionError("not fitted here")

    toy = Reducer("toyred", "Toy", fit, lambda n, d, p: 1, supervised=True,
                  schema={"strength": {"type": "number", "minimum": 0}})
    monkeypatch.setitem(REDUCERS._entries, "toyred", toy)
    load_schema.cache_clear()
    try:
        config = {"source": {"kind": "demo"}, "catalog": {}, "batch_size": 10,
                  "features": {"p": {"extractor": "pixels", "pca": 5},
                               "t": {"from": "p", "reduce": {"method": "toyred", "strength": 2}}},
                  "clustering": {"kmeans": {"k": [3]}}}
        with pytest.raises(ConfigError, match=r"features\.t\.reduce\.target': Toy needs the catalog column"):
            validate_config(copy_of(config))
        config["features"]["t"]["reduce"]["target"] = "klass"
        validate_config(copy_of(config))
        config["features"]["t"]["reduce"]["strength"] = -1
        with pytest.raises(ConfigError, match=r"features\.t\.reduce\.strength"):
            validate_config(copy_of(config))
    finally:
        monkeypatch.undo()
        load_schema.cache_clear()


def copy_of(config: dict) -> dict:
    import copy

    return copy.deepcopy(config)


def test_entries_declare_what_the_workflow_asks_of_them():
    figures = {d.figure for m in METHODS.values() for d in m.diagnostics}
    assert figures == {"elbow", "eigengap", "information"}  # rule elbow_eigengap's three outputs
    assert [n for n, m in METHODS.items() if m.dendrogram] == ["agglomerative"]
    assert [n for n, m in METHODS.items() if m.assigner] == ["kmeans", "hdbscan"]
    file = EXTRACTORS["file"]
    assert file.builtin and not file.images and file.shape is not None and file.inputs({"file": "f.npy"}) == ["f.npy"]
    assert kind_for(None, "pixels") is EXTRACTORS["pixels"]
    assert kind_for({"kind": "cnn"}, "mine") is EXTRACTORS["cnn"]
