"""Projected feature stores (features.<fs>.store): fitted on the first batches, c values a galaxy.

Unit tests check the projection against rule reduce's own fit; one workflow run checks the
route end to end on the tiny demo (every projected batch float16, the fit sample's raw layers
removed, the features those of the raw route when the fit sees every galaxy) and that
appending galaxies never refits.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY, load_yaml, planned_jobs, snakemake, write_config
from galclust.errors import ConfigError
from galclust.extract import PixelExtractor, extract_store
from galclust.projection import FeatureProjection
from galclust.stages.projected import ProjectedExtractor, fit_projection, gather_projected
from galclust.stages.reduce import reduce
from galclust.store import create_store, open_store, read_array, read_ids
from galclust.workflow import Plan

pytestmark = pytest.mark.slow  # runs Snakemake, SLURM or Chromium (make test-fast leaves it out)


def image_store(path: Path, n: int, seed: int, offset: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    base = rng.random((4, 8, 8, 3), dtype=np.float32)
    images = (base[rng.integers(0, 4, n)] + 0.05 * rng.random((n, 8, 8, 3), dtype=np.float32)).astype(np.float32)
    with create_store(path, [f"g{offset + i:04d}" for i in range(n)], {}) as writer:
        writer.create("images", images.shape[1:])
        writer.write("images", 0, images)
    return path


@pytest.fixture
def batches(tmp_path):
    """Three batches of 8×8 images and their raw pixel stores."""
    out = []
    for b in range(3):
        images = image_store(tmp_path / f"images{b}.zarr", 40, seed=b, offset=40 * b)
        raw = tmp_path / f"pixels{b}.zarr"
        extract_store(images, raw, PixelExtractor())
        out.append((images, raw))
    return out


FS = {"extractor": "pixels", "pca": 6, "standardise": True}


def test_fit_on_every_batch_gives_the_raw_route_features(batches, tmp_path):
    raws = [r for _, r in batches]
    reduce("px", FS, None, None, 0, raws, None, tmp_path / "raw.zarr", tmp_path / "raw.png", tmp_path / "raw_proj")
    fit_projection("px", FS, None, raws, tmp_path / "proj", tmp_path / "var.png")
    projection = FeatureProjection.load(tmp_path / "proj")
    stores = []
    for b, (images, _) in enumerate(batches):
        out = tmp_path / f"projected{b}.zarr"
        extract_store(images, out, ProjectedExtractor(PixelExtractor(), "pixels", projection, "float16"), dtype="float16")
        assert open_store(out)["features"].dtype == np.float16
        stores.append(out)
    gather_projected("px", FS, stores, tmp_path / "proj", tmp_path / "gathered.zarr")
    raw = read_array(tmp_path / "raw.zarr", "features")
    gathered = read_array(tmp_path / "gathered.zarr", "features")
    assert gathered.shape == raw.shape == (120, 6) and gathered.dtype == np.float32
    assert list(read_ids(tmp_path / "gathered.zarr")) == list(read_ids(tmp_path / "raw.zarr"))
    # the same fit; only float16 storage differs (about 3 significant digits)
    np.testing.assert_allclose(gathered, raw, rtol=2e-3, atol=2e-3 * np.abs(raw).max())


def test_fit_on_the_first_batch_projects_the_others(batches, tmp_path):
    fit_projection("px", FS, None, [batches[0][1]], tmp_path / "proj", tmp_path / "var.png")
    projection = FeatureProjection.load(tmp_path / "proj")
    images, raw = batches[2]
    out = tmp_path / "projected.zarr"
    extract_store(images, out, ProjectedExtractor(PixelExtractor(), "pixels", projection, "float32"), dtype="float32")
    expected = projection.transform(read_array(raw, "pixels"))
    np.testing.assert_array_equal(read_array(out, "features"), expected)


def _plan(n_galaxies: int, **storage) -> Plan:
    config = load_yaml(TINY)
    config["source"]["demo"]["n_galaxies"] = n_galaxies
    config["features"]["morph"] = {"extractor": "morphometrics", "pca": False}
    config["features"]["dense_pca"] = {"from": "cnn_dense", "reduce": {"method": "pca", "n_components": 2}}
    config["feature_storage"] = storage
    return Plan(config)


def test_auto_projects_streamed_feature_sets_with_pca_above_the_threshold():
    assert _plan(60).projected == []  # default threshold: far above 60 galaxies
    plan = _plan(60, projected_above_n=59, fit_galaxies=30)
    # morphometrics are read whole (imputation), views reduce their parent: both stay raw
    assert plan.projected == ["pixels", "cnn_conv", "cnn_dense"]
    assert plan.raw_stores() == ["morphometrics"]
    assert plan.fit_batches() == ["b0000"]
    import re

    for fs in plan.features:
        hits = [bool(re.fullmatch(plan.fs_pattern(projected=p), fs)) for p in (True, False)]
        assert hits == [fs in plan.projected, fs not in plan.projected], fs
    assert _plan(60, projected_above_n=60).projected == []


def test_projected_where_it_cannot_be_is_a_clear_error():
    config = load_yaml(TINY)
    config["features"]["morph"] = {"extractor": "morphometrics", "pca": False, "store": "projected"}
    with pytest.raises(ConfigError, match=r"features\.morph\.store"):
        _ = Plan(copy.deepcopy(config)).projected



@pytest.fixture(scope="module")
def projected_run(tiny_run, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("projected")
    # the route under test starts at extraction: the tiny run's catalog, cutouts, preprocessed
    # batches and trained CNN, with Snakemake's records of them (copy2: mtimes kept, so none reruns)
    reference = tiny_run[0]
    shutil.copytree(reference / "resources", workdir / "resources")
    shutil.copytree(reference / ".snakemake/metadata", workdir / ".snakemake/metadata")
    shutil.copytree(reference / "results/models", workdir / "results/models")
    shutil.copy2(reference / "results/catalog.ecsv", workdir / "results/catalog.ecsv")
    for batch in sorted((reference / "results/batches").iterdir()):
        (workdir / "results/batches" / batch.name).mkdir(parents=True)
        for name in ("cutouts.ecsv", "preprocess.ecsv"):
            shutil.copy2(batch / name, workdir / "results/batches" / batch.name / name)
        shutil.copytree(batch / "images.zarr", workdir / "results/batches" / batch.name / "images.zarr")
    config = load_yaml(TINY)
    # every galaxy in the fit: the features must then be the raw route's (tiny_run's)
    config["feature_storage"] = {"projected_above_n": 0, "fit_galaxies": 60, "dtype": "float16"}
    # the route ends at the reduced feature sets: one clustering (and its member pages) is
    # enough for everything downstream of them (summary, comparison, maps) to run on it
    config["clustering"] = {"kmeans": {"k": [3], "n_init": 4}}
    config["report"]["member_pdfs"] = ["pixels/kmeans-k3"]
    path = write_config(workdir / "config.yaml", config)
    dry = snakemake(workdir, path, "--cores", "2", "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    reused = {"catalog", "acquire", "preprocess", "train_model"}
    assert not reused & set(planned_jobs(dry)), planned_jobs(dry)
    result = snakemake(workdir, path, "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir, path, config


@pytest.mark.integration
def test_projected_run_stores_c_values_a_galaxy_and_matches_the_raw_route(projected_run, tiny_run):
    workdir, _, config = projected_run
    reference = tiny_run[0]
    batches = sorted((workdir / "results/batches").iterdir())
    assert [b.name for b in batches] == ["b0000", "b0001"]
    for batch in batches:
        assert not (batch / "features").exists()  # no raw layer kept
        assert not (batch / "fit_sample").exists() or not any((batch / "fit_sample").iterdir())  # temporary
        for fs in config["features"]:
            features = open_store(batch / "projected" / f"{fs}.zarr")["features"]
            assert features.dtype == np.float16 and features.shape[0] == 30
            assert features.shape[1] * 2 <= 2048  # ≤ 2 kB a galaxy
    for fs in config["features"]:
        raw = read_array(reference / f"results/features/{fs}/reduced.zarr", "features")
        projected = read_array(workdir / f"results/features/{fs}/reduced.zarr", "features")
        assert projected.shape == raw.shape, fs
        np.testing.assert_allclose(projected, raw, rtol=5e-3, atol=5e-3 * np.abs(raw).max(), err_msg=fs)
    assert (workdir / "results/summary.md").is_file()
    # each projected rule's log and benchmark (test_logs checks the other rules on the tiny run)
    for rule, wildcards in (("extract_fit_sample", "pixels/b0000"), ("fit_projection", "pixels"),
                            ("extract_projected", "cnn_conv/b0001"), ("gather_projected", "cnn_dense")):
        assert (workdir / f"logs/{rule}/{wildcards}.log").is_file(), rule
        assert (workdir / f"benchmarks/{rule}/{wildcards}.tsv").is_file(), rule


@pytest.mark.integration
def test_appending_galaxies_never_refits_the_projection(projected_run, tmp_path):
    workdir, _, config = projected_run
    config = copy.deepcopy(config)
    config["source"]["demo"]["n_galaxies"] = 90  # a third batch
    changed = write_config(tmp_path / "appended.yaml", config)
    result = snakemake(workdir, changed, "--cores", "2", "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = planned_jobs(result)
    assert "fit_projection" not in jobs and "extract_fit_sample" not in jobs and "train_model" not in jobs, jobs
    assert jobs["extract_projected"] == len(config["features"])  # b0002 of each feature set
    assert jobs["gather_projected"] == len(config["features"])
