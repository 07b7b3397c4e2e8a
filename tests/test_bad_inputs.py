"""A corpus of bad input, run through the real Snakefile: every case must stop, clearly and cleanly.

Each case is data: how to set up a working directory (config, catalog, images, feature files,
a results folder), whether it must be caught at parse time (``snakemake -n``: no job may run,
nothing may be written under ``results/``) or by the first job that can know it, and the
substrings that one line of the output must hold together (the key, file or row named).
Every case must end with a non-zero exit, no temporary file left behind (the ``.<stem>.*.tmp*``
siblings of ``galclust.atomic``) and no job left marked incomplete.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from astropy.table import Table

from conftest import REPO, TINY, snakemake, snakemake_env

SNAKEFILE = REPO / "Snakefile"


# -- configs ------------------------------------------------------------------------------------
def tiny() -> dict[str, Any]:
    """The tiny demo config (60 galaxies, CNN features): parse-time cases only, nothing runs."""
    return yaml.safe_load(TINY.read_text())


def file_config(file: str = "feat.npy", **fs: Any) -> dict[str, Any]:
    """Bring-your-own features (no images, no TensorFlow): the cheapest config that runs jobs."""
    return {
        "seed": 1,
        "source": {"kind": "demo", "cache_dir": "cache"},
        "catalog": {},
        "batch_size": 1000,
        "features": {"f": {"extractor": "file", "file": file, "pca": 3, **fs}},
        "clustering": {"kmeans": {"k": [2]}},
        "report": {"member_pdfs": [], "summary_examples": 2, "dendrogram_leaves": 4},
    }


def sdss_config(catalog: str = "cat.csv", **catalog_keys: Any) -> dict[str, Any]:
    """A catalog-driven config: the catalog is read and checked at parse time (no download runs in -n)."""
    config = file_config()
    config["features"] = {"pixels": {"extractor": "pixels", "pca": 3}}
    config["source"] = {"kind": "sdss", "cache_dir": "cache",
                        "download": {"allowed_hosts": ["127.0.0.1"]},
                        "sdss": {"base_url": "http://127.0.0.1:9"}}
    config["catalog"] = {"path": catalog, **catalog_keys}
    config["batch_size"] = 5
    return config


def local_config(directory: str = "images") -> dict[str, Any]:
    config = sdss_config()
    config["source"] = {"kind": "local", "cache_dir": "cache", "local": {"directory": directory}}
    config["catalog"] = {}
    return config


def catalog(n: int = 8, **extra: Any) -> Table:
    t = Table({"id": [f"g{i}" for i in range(n)], "ra": np.linspace(150, 151, n),
               "dec": np.linspace(2, 3, n), "r_e": np.full(n, 5.0)})
    for k, v in extra.items():
        t[k] = v
    return t


def features(n: int = 40, d: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(0, 1, (n // 2, d)), rng.normal(5, 1, (n - n // 2, d))]).astype(np.float32)


def images(folder: Path, n: int, *, corrupt: range | None = None, same: bool = False) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    first = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    for i in range(n):
        if corrupt is not None and i in corrupt:
            (folder / f"gal_{i:02d}.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
            continue
        arr = first if same else (rng.random((64, 64, 3)) * 255).astype(np.uint8)
        Image.fromarray(arr).save(folder / f"gal_{i:02d}.png")


# -- the cases ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One bad input: ``setup(workdir)`` writes the inputs and returns the config (a dict or raw YAML).

    ``dry``: must be refused by ``snakemake -n`` (parse time). Otherwise it runs ``targets``
    with ``--cores 1`` and must fail in the first job that can know. ``expect``: substrings
    that one output line must contain together. ``limit``: how the Snakemake process is
    constrained (``"fsize"``: a small RLIMIT_FSIZE, a disk that fills up).
    """

    setup: Callable[[Path], dict[str, Any] | str]
    expect: tuple[str, ...]
    dry: bool = True
    targets: tuple[str, ...] = ()
    limit: str | None = None
    keep_results: bool = False  # results/ exists beforehand (its files must stay untouched)
    extra: dict[str, Any] = field(default_factory=dict)


def with_change(base: Callable[[], dict[str, Any]], change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], dict]:
    def setup(_: Path) -> dict[str, Any]:
        config = base()
        change(config)
        return config
    return setup


def with_catalog(table: Table | Callable[[], Table] | bytes, name: str = "cat.csv", **keys: Any) -> Callable[[Path], dict]:
    def setup(wd: Path) -> dict[str, Any]:
        t = table() if callable(table) else table
        if isinstance(t, bytes):
            (wd / name).write_bytes(t)
        else:
            t.write(wd / name, overwrite=True)
        return sdss_config(name, **keys)
    return setup


def with_features(X: np.ndarray | bytes | None, name: str = "feat.npy", ids: np.ndarray | None = None,
                  **fs: Any) -> Callable[[Path], dict]:
    def setup(wd: Path) -> dict[str, Any]:
        if isinstance(X, bytes):
            (wd / name).write_bytes(X)
        elif X is not None:
            np.save(wd / name, X)
        if ids is not None:
            np.save(wd / "ids.npy", ids)
            fs["ids"] = "ids.npy"
        return file_config(name, **fs)
    return setup


def eps_as_yaml_11(_: Path) -> str:
    # PyYAML follows YAML 1.1: `1e-5` (no dot) is a string, `1.0e-5` a float.
    text, n = re.subn(r"eps: \[[^\]]*\]", "eps: [1e-5]", TINY.read_text())
    assert n == 1, "the tiny config has no dbscan eps list to change"
    return text


def local_labels_without_coordinates(wd: Path) -> dict[str, Any]:
    images(wd / "images", 6)
    Table({"id": [f"gal_{i:02d}" for i in range(6)], "klass": list("abcabc")}).write(wd / "labels.csv")
    config = local_config()
    config["catalog"] = {"path": "labels.csv", "truth": ["klass"], "columns": {"size": None}}
    config["clustering"] = {"kmeans": {"k": [2]}}
    config["features"]["pixels"]["pca"] = 0.5  # valid: the case is only about `truth: [nope]`
    config["catalog"]["truth"] = ["nope"]
    return config


def corrupt_zarr_left_by_a_crash(wd: Path) -> dict[str, Any]:
    """A reduced store that exists under its final name but is broken (an older, non-atomic crash)."""
    config = file_config()
    np.save(wd / "feat.npy", features())
    store = wd / "results/features/f/reduced.zarr"
    store.mkdir(parents=True)
    (store / "zarr.json").write_text('{"zarr_format": 3, "node_type": "gr')  # truncated JSON
    return config


def crash_leftovers_then_bad_features(wd: Path) -> dict[str, Any]:
    """Temporary siblings left by a killed job must not confuse the next run (it fails for NaN)."""
    X = features()
    X[7, 2] = np.nan
    np.save(wd / "feat.npy", X)
    tmp = wd / "results/features/f/.reduced.abc123.tmp.zarr"
    tmp.mkdir(parents=True)
    (tmp / "zarr.json").write_text("{")
    return file_config()


MOUNTS: list[Path] = []


def read_only_folder(path: Path) -> None:
    """A folder nobody can write to: mode 555, or for root (who writes anyway) a read-only tmpfs."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(path)], check=True)
    MOUNTS.append(path)


def unwritable_results(wd: Path) -> dict[str, Any]:
    np.save(wd / "feat.npy", features())
    read_only_folder(wd / "results")
    return file_config()


def results_is_a_file(wd: Path) -> dict[str, Any]:
    np.save(wd / "feat.npy", features())
    (wd / "results").write_text("not a folder\n")
    return file_config()


def disk_full(wd: Path) -> dict[str, Any]:
    # a chunk of the reduced store (256 rows x 120 float32, 123 kB) passes the 100 kB limit set;
    # Snakemake's own files (and the config schema it caches, 25 kB) stay below it
    np.save(wd / "feat.npy", features(4000, 200))
    return file_config(pca=120)


def local_folder(n: int, **kw: Any) -> Callable[[Path], dict]:
    def setup(wd: Path) -> dict[str, Any]:
        images(wd / "images", n, **kw)
        config = local_config()
        config["batch_size"] = 3
        return config
    return setup


def _nan_features() -> np.ndarray:
    X = features()
    X[12, 0] = np.nan
    return X


def _inf_features() -> np.ndarray:
    X = features()
    X[3, 1] = np.inf
    return X


REDUCED = ("results/features/f/reduced.zarr",)
CLUSTER = ("results/clustering/f/kmeans-k2/labels.ecsv",)

CASES: dict[str, Case] = {
    # -- configs: refused at parse time, the key named -------------------------------------------
    "eps 1e-5 is a YAML 1.1 string": Case(eps_as_yaml_11, ("clustering.dbscan.eps[0]", "1.0e-5")),
    "unknown top-level key": Case(with_change(tiny, lambda c: c.update(sede=7)), ("'sede'", "unknown key")),
    "unknown nested key": Case(with_change(tiny, lambda c: c["preprocess"].update(sise=80)),
                               ("'preprocess.sise'", "unknown key")),
    "unknown clustering method": Case(with_change(tiny, lambda c: c["clustering"].update(kmedoids={})),
                                      ("'clustering.kmedoids'",)),
    "batch_size zero": Case(with_change(tiny, lambda c: c.update(batch_size=0)), ("'batch_size'",)),
    "batch_size a string": Case(with_change(tiny, lambda c: c.update(batch_size="30")), ("'batch_size'", "'30'")),
    "negative seed": Case(with_change(tiny, lambda c: c.update(seed=-1)), ("'seed'",)),
    "no feature sets": Case(with_change(tiny, lambda c: c.update(features={})), ("'features'",)),
    "no clustering job": Case(with_change(tiny, lambda c: c.update(clustering={"kmeans": {"k": []}})),
                              ("'clustering'", "no clustering job")),
    "k of 1": Case(with_change(tiny, lambda c: c["clustering"]["kmeans"].update(k=[1])),
                   ("'clustering.kmeans.k[0]'",)),
    "damping 1": Case(with_change(tiny, lambda c: c["clustering"]["affinity_propagation"].update(damping=[1.0])),
                      ("'clustering.affinity_propagation.damping[0]'",)),
    "pca a fraction above 1": Case(with_change(tiny, lambda c: c["features"]["pixels"].update(pca=1.5)),
                                   ("'features.pixels.pca'",)),
    "feature set name with a dash": Case(with_change(tiny, lambda c: c["features"].update({"my-set": {"extractor": "pixels"}})),
                                         ("'features'", "my-set")),
    "unknown extractor": Case(with_change(tiny, lambda c: c["features"]["pixels"].update(extractor="resnet")),
                              ("'features.pixels.extractor'",)),
    "unknown model layer": Case(with_change(tiny, lambda c: c["features"]["cnn_conv"].update(layer="nope")),
                                ("'features.cnn_conv.layer'", "nope")),
    "member_pdfs of an unknown clustering": Case(
        with_change(tiny, lambda c: c["report"].update(member_pdfs=["pixels/kmeans-k99"])),
        ("'report.member_pdfs[0]'", "kmeans-k99")),
    "truth column the catalog lacks": Case(with_change(tiny, lambda c: c["catalog"].update(truth=["nope"])),
                                           ("'catalog.truth", "nope")),
    "training target the catalog lacks": Case(
        with_change(tiny, lambda c: c["models"]["refcnn"]["train"].update(target="spin")),
        ("'models.refcnn.train.target'", "spin")),
    "pca above the number of galaxies": Case(with_change(tiny, lambda c: c["features"]["pixels"].update(pca=100)),
                                             ("'features.pixels.pca'", "60")),
    "k above the number of galaxies": Case(with_change(tiny, lambda c: c["clustering"]["kmeans"].update(k=[3, 6, 100])),
                                           ("'clustering.kmeans.k", "60")),
    "hdbscan min_cluster_size above the number of galaxies": Case(
        with_change(tiny, lambda c: c["clustering"]["hdbscan"].update(min_cluster_size=[500])),
        ("'clustering.hdbscan.min_cluster_size", "60")),
    "model path that does not exist": Case(
        with_change(tiny, lambda c: c["models"]["refcnn"].update(path="missing/model.keras")),
        ("'models.refcnn.path'", "missing/model.keras")),
    "backbone without a network": Case(
        with_change(tiny, lambda c: c["models"].update(bb={"kind": "backbone", "layers": {"gap": "avg"}})),
        ("'models.bb.backbone'",)),
    "sdss without a catalog": Case(with_change(tiny, lambda c: c["source"].update(kind="sdss")), ("'catalog.path'",)),
    "local without a directory": Case(with_change(tiny, lambda c: c["source"].update(kind="local")),
                                      ("'source.local.directory'",)),
    "local directory that does not exist": Case(
        with_change(tiny, lambda c: c["source"].update(kind="local", local={"directory": "no/such/folder"})),
        ("'source.local.directory'", "no/such/folder")),
    "local directory without images": Case(
        lambda wd: ((wd / "images").mkdir(), local_config())[1], ("'source.local.directory'", "images")),
    "config file not a mapping": Case(lambda _: "- a\n- list\n", ("Config file", "keys at top level")),
    # -- catalogs: refused at parse time, the file and rows named -----------------------------------
    "catalog file missing": Case(lambda _: sdss_config("nope.csv"), ("nope.csv", "not found")),
    "catalog not a table": Case(with_catalog(b"\x00\x01\x02 binary junk\n"), ("cat.csv",)),
    "catalog with a header only": Case(with_catalog(catalog(0)), ("cat.csv", "no rows")),
    "catalog with one galaxy": Case(with_catalog(catalog(1)), ("cat.csv", "1 galax")),
    "catalog duplicate ids": Case(with_catalog(lambda: catalog(4, id=["a", "b", "a", "c"])),
                                  ("cat.csv", "duplicate ids in rows 1, 3")),
    "catalog NaN ra": Case(with_catalog(lambda: catalog(4, ra=[1.0, np.nan, 2.0, 3.0])), ("cat.csv", "ra", "rows 2")),
    "catalog dec out of range": Case(with_catalog(lambda: catalog(4, dec=[1.0, 2.0, 95.0, 3.0])),
                                     ("cat.csv", "dec", "rows 3")),
    "catalog unsafe id": Case(with_catalog(lambda: catalog(3, id=["a", "../x", "c"])), ("cat.csv", "rows 2")),
    "catalog empty id": Case(with_catalog(lambda: catalog(3, id=["a", "", "c"])), ("cat.csv", "rows 2")),
    "catalog size column missing": Case(with_catalog(catalog(4), columns={"size": "petro_r50"}),
                                        ("petro_r50", "catalog.columns.size")),
    "catalog truth column missing": Case(with_catalog(catalog(4), truth=["klass"]), ("'catalog.truth", "klass", "cat.csv")),
    "catalog non-numeric ra": Case(with_catalog(lambda: catalog(3, ra=["1", "x", "3"])), ("cat.csv", "ra")),
    "local labels: truth column missing": Case(local_labels_without_coordinates, ("'catalog.truth", "nope")),
    # -- feature files: the file and rows named; parse time where the header tells -------------------
    "feature file missing": Case(with_features(None), ("'features.f.file'", "feat.npy")),
    "feature file not an array": Case(with_features(b"this is not npy"), ("feat.npy",)),
    "feature file 1-D": Case(with_features(np.arange(10.0)), ("feat.npy", "2-D")),
    "pca wider than the features": Case(with_features(features(d=5), pca=8), ("'features.f.pca'", "5")),
    "feature ids of the wrong length": Case(with_features(features(), ids=np.arange(7).astype(str)),
                                            ("feat.npy", "40", "7")),
    "features with one galaxy": Case(with_features(features(1)), ("feat.npy", "1 galax")),
    "features with no rows": Case(with_features(np.zeros((0, 4), np.float32)), ("feat.npy", "no rows")),
    "NaN features": Case(with_features(_nan_features()), ("feat.npy", "rows 13"), dry=False, targets=REDUCED),
    "infinite features": Case(with_features(_inf_features()), ("feat.npy", "rows 4"), dry=False, targets=REDUCED),
    "all galaxies identical": Case(with_features(np.ones((40, 6), np.float32)), ("feat.npy", "identical"),
                                   dry=False, targets=CLUSTER),
    # -- images --------------------------------------------------------------------------------------
    "every image unreadable": Case(local_folder(4, corrupt=range(4)), ("cutouts.ecsv", "max_failed_fraction"),
                                   dry=False, targets=("results/features/pixels/reduced.zarr",)),
    "an empty batch (all its images unreadable)": Case(
        local_folder(6, corrupt=range(3, 6)), ("b0001/cutouts.ecsv", "max_failed_fraction"),
        dry=False, targets=("results/features/pixels/reduced.zarr",)),
    "all images identical": Case(local_folder(6, same=True), ("identical",),
                                 dry=False, targets=("results/clustering/pixels/kmeans-k2/labels.ecsv",)),
    # -- result folders -------------------------------------------------------------------------------
    "results is a file": Case(results_is_a_file, ("results",), keep_results=True),
    "unwritable results": Case(unwritable_results, ("results", "not writable"), dry=False, targets=REDUCED, keep_results=True),
    "disk full (RLIMIT_FSIZE)": Case(disk_full, ("results/features/f", "File too large"), dry=False,
                                     targets=REDUCED, limit="fsize"),
    "corrupt Zarr store left by a crash": Case(corrupt_zarr_left_by_a_crash, ("reduced.zarr",), dry=False,
                                               targets=CLUSTER, keep_results=True),
    "temporary leftovers of a killed job, then NaN features": Case(
        crash_leftovers_then_bad_features, ("feat.npy", "rows 8"), dry=False, targets=REDUCED, keep_results=True),
}


# -- running -------------------------------------------------------------------------------------
def _small_files() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
    # Ignore SIGXFSZ so that writes past the limit fail with EFBIG (an OSError a job can name).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def run(workdir: Path, config: Path, case: Case) -> subprocess.CompletedProcess:
    args = ["-n"] if case.dry else ["--cores", "1", *case.targets]
    if case.limit != "fsize":
        return snakemake(workdir, config, *args, timeout=600, env={"HOME": str(workdir)})
    # a limit on the run's own process: a fresh `python -m snakemake` under it
    env = snakemake_env(HOME=str(workdir))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(workdir),
           "--configfile", str(config), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=workdir,
                          preexec_fn=_small_files)


def files_under(path: Path) -> dict[str, int]:
    if not path.is_dir():
        return {}
    return {str(p.relative_to(path)): p.stat().st_mtime_ns for p in path.rglob("*")}


@dataclass
class Outcome:
    workdir: Path
    before: dict[str, int]
    result: subprocess.CompletedProcess


def attempt(name: str) -> Outcome:
    """Set the case up in a fresh directory and run it."""
    case = CASES[name]
    workdir = Path(tempfile.mkdtemp(prefix="galclust-bad-"))
    made = case.setup(workdir)
    config = workdir / "config.yaml"
    config.write_text(made if isinstance(made, str) else yaml.safe_dump(made, sort_keys=False))
    before = files_under(workdir / "results")
    return Outcome(workdir, before, run(workdir, config, case))


def remove(workdir: Path) -> None:
    import shutil

    for mount in [m for m in MOUNTS if workdir in m.parents]:
        subprocess.run(["umount", str(mount)], check=False)
        MOUNTS.remove(mount)
    for p in [workdir, *workdir.rglob("*")]:
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o777)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def dry_outcomes(request):
    """The selected parse-time cases, run a few at a time (each is a Snakemake start-up: mostly waiting)."""
    from concurrent.futures import ThreadPoolExecutor

    names = [item.callspec.params["name"] for item in request.session.items
             if getattr(item, "callspec", None) and item.originalname == "test_bad_input_stops_with_one_clear_line_and_writes_nothing"
             and CASES[item.callspec.params["name"]].dry]
    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = dict(zip(names, pool.map(attempt, names)))
    yield outcomes
    for outcome in outcomes.values():
        remove(outcome.workdir)


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=() if c.dry else pytest.mark.integration) for n, c in CASES.items()],
)
@pytest.mark.slow
def test_bad_input_stops_with_one_clear_line_and_writes_nothing(name: str, dry_outcomes) -> None:
    case = CASES[name]
    outcome = dry_outcomes[name] if case.dry else attempt(name)
    try:
        workdir, before, result = outcome.workdir, outcome.before, outcome.result
        out = result.stdout + result.stderr
        assert result.returncode != 0, f"{name}: accepted (exit 0)\n{out[-3000:]}"
        lines = [line for line in out.splitlines() if all(s in line for s in case.expect)]
        assert lines, f"{name}: no line holds all of {case.expect}\n{out[-3000:]}"
        after = files_under(workdir / "results")
        if case.dry:
            # refused at parse time: no job ran, nothing new under results/
            assert after == before, f"{name}: files written under results/: {sorted(set(after) - set(before))}"
            assert "Finished job" not in out
        # nothing half-written: no temporary siblings, no job left marked incomplete
        leftovers = [p for p in (set(after) - set(before)) if ".tmp" in Path(p).name]
        assert not leftovers, f"{name}: temporary files left: {leftovers}"
        incomplete = workdir / ".snakemake" / "incomplete"
        assert not incomplete.is_dir() or not any(incomplete.iterdir()), f"{name}: jobs left incomplete"
    finally:
        if not case.dry:
            remove(outcome.workdir)


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.slow
def test_a_local_folder_with_a_catalog_of_labels_needs_no_coordinates(tmp_path: Path) -> None:
    """Images named by id plus a table of labels: ra/dec have no use, so they are not required."""
    images(tmp_path / "images", 6)
    Table({"id": [f"gal_{i:02d}" for i in range(6)], "klass": list("abcabc")}).write(tmp_path / "labels.csv")
    config = local_config(str(tmp_path / "images"))
    config["catalog"] = {"path": str(tmp_path / "labels.csv"), "truth": ["klass"], "columns": {"size": None}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run(tmp_path, path, Case(lambda _: config, ()))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
