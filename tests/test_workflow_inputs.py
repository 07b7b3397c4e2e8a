"""The workflow on other inputs: published features, a survey server, bad configs and catalogs."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table
from sklearn.metrics import adjusted_rand_score

from conftest import load_example, REFERENCE, REPO, load_yaml, snakemake, write_config
from fakeserver import FakeServer

pytestmark = pytest.mark.slow  # runs Snakemake, SLURM or Chromium (make test-fast leaves it out)


def test_reproduces_the_reference_study_from_its_published_features(tmp_path):
    assert REFERENCE.is_dir(), f"reference data missing: {REFERENCE}"
    config = {
        "seed": 42,
        "source": {"kind": "demo"},
        "catalog": {},
        "batch_size": 1000,
        "features": {
            "ref": {
                "extractor": "file",
                "file": str(REFERENCE / "CNN-37632_PCA-100_features.npy"),
                "pca": False,
                "label": "CNN-37632_PCA-100",
            }
        },
        "clustering": {"agglomerative": {"k": [32]}, "affinity_propagation": {"damping": [0.8]}},
    }
    path = write_config(tmp_path / "config.yaml", config)
    # the labels: the published features read, checked and clustered as any feature set (the
    # figures and maps of every run are other tests' matter; a t-SNE of 6,437 galaxies is not)
    labels = [f"results/clustering/ref/{job}/labels.ecsv" for job in ("affinity_propagation-d0.8", "agglomerative-k32")]
    result = snakemake(tmp_path, path, "--cores", "2", *labels)
    assert result.returncode == 0, result.stderr[-4000:]
    res = tmp_path / "results/clustering/ref"
    ap = Table.read(res / "affinity_propagation-d0.8/labels.ecsv")
    assert len(set(ap["label"])) == 177
    published_ap = np.load(REFERENCE / "affinity_propagation-176_CNN-37632_PCA-100.npy")
    assert adjusted_rand_score(published_ap, ap["label"]) == pytest.approx(1.0)
    ward = Table.read(res / "agglomerative-k32/labels.ecsv")
    published_ward = np.load(REFERENCE / "agglomerative-32_CNN-37632_PCA-100.npy")
    assert adjusted_rand_score(published_ward, ward["label"]) == pytest.approx(1.0)
    # rows keep the published order: ids are the row numbers
    assert list(ap["id"][:3]) == ["0", "1", "2"]


def _small_config(tmp_path, **source) -> dict:
    config = load_yaml(REPO / "config" / "tests" / "tiny.yaml")
    config["features"] = {"pixels": {"extractor": "pixels", "pca": 4}}
    config["models"] = {}
    config["clustering"] = {"kmeans": {"k": [2]}}
    config["report"] = {"member_pdfs": ["pixels/kmeans-k2"], "summary_examples": 2, "dendrogram_leaves": 4}
    config["batch_size"] = 5
    config["source"] = {"kind": "demo", "cache_dir": str(tmp_path / "cache"), **source}
    return config


def test_runs_on_sdss_and_legacy_cutouts_from_a_local_server(tmp_path):
    catalog = Table({"objid": [f"g{i}" for i in range(8)], "objra": np.linspace(150, 151, 8),
                     "objdec": np.linspace(2, 3, 8), "petro_r50": np.full(8, 5.0)})
    catalog.write(tmp_path / "galaxies.csv")
    with FakeServer() as server:
        server.register((r["objid"], r["objra"], r["objdec"]) for r in catalog)
        for kind, extra in (
            ("sdss", {"sdss": {"base_url": server.url, "width": 128, "height": 128}}),
            ("legacy", {"legacy": {"base_url": server.url + "/viewer", "format": "fits", "size": 96}}),
        ):
            workdir = tmp_path / kind
            workdir.mkdir()
            config = _small_config(tmp_path, kind=kind, **extra,
                                   download={"allowed_hosts": ["127.0.0.1"], "backoff_seconds": 0.01})
            config["catalog"] = {"path": str(tmp_path / "galaxies.csv"),
                                 "columns": {"id": "objid", "ra": "objra", "dec": "objdec", "size": "petro_r50"},
                                 "truth": []}
            path = write_config(workdir / "config.yaml", config)
            result = snakemake(workdir, path, "--cores", "2")
            assert result.returncode == 0, result.stderr[-4000:]
            manifest = Table.read(workdir / "results/batches/b0000/cutouts.ecsv")
            assert set(manifest["status"]) == {"ok"}
            labels = Table.read(workdir / "results/clustering/pixels/kmeans-k2/labels.ecsv")
            assert sorted(labels["id"]) == sorted(catalog["objid"])
        requests_before = server.total()
        # the cutouts are cached outside results/: a fresh results tree downloads nothing
        rerun = tmp_path / "sdss_again"
        rerun.mkdir()
        config = _small_config(tmp_path, kind="sdss",
                               sdss={"base_url": server.url, "width": 128, "height": 128},
                               download={"allowed_hosts": ["127.0.0.1"]})
        config["catalog"] = {"path": str(tmp_path / "galaxies.csv"),
                             "columns": {"id": "objid", "ra": "objra", "dec": "objdec", "size": "petro_r50"}}
        # up to the batches' cutout tables: only acquisition fetches anything
        tables = [f"results/batches/{b}/cutouts.ecsv" for b in ("b0000", "b0001")]
        result = snakemake(rerun, write_config(rerun / "config.yaml", config), "--cores", "2", *tables)
        assert result.returncode == 0, result.stderr[-4000:]
        assert all((rerun / t).is_file() for t in tables)
        assert set(Table.read(rerun / tables[0])["status"]) == {"cached"}
        assert server.total() == requests_before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["clustering"].update(foo={}), "config key 'clustering.foo': unknown key"),
        (lambda c: c["clustering"]["kmeans"].update(k=[1, 3]), "config key 'clustering.kmeans.k[0]'"),
        (lambda c: c.update(batch_size=0), "config key 'batch_size'"),
        (lambda c: c["features"]["cnn_conv"].update(layer="nope"), "config key 'features.cnn_conv.layer'"),
        (lambda c: c["features"]["cnn_conv"].update(extractor="resnet"), "config key 'features.cnn_conv.extractor'"),
        (lambda c: c["report"].update(member_pdfs=["nope/kmeans-k3"]), "config key 'report.member_pdfs[0]'"),
    ],
)
def test_bad_config_stops_before_any_job_with_the_key_named(tmp_path, change, message):
    config = load_yaml(REPO / "config" / "tests" / "tiny.yaml")
    change(config)
    result = snakemake(tmp_path, write_config(tmp_path / "config.yaml", config), "--cores", "1")
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_bad_catalog_stops_with_row_numbers(tmp_path):
    catalog = Table({"id": ["a", "b", "a", "../evil"], "ra": [10.0, np.nan, 12.0, 13.0],
                     "dec": [1.0, 2.0, 95.0, 4.0], "r_e": [5.0, 5.0, 5.0, 5.0]})
    catalog.write(tmp_path / "bad.csv")
    config = _small_config(tmp_path, kind="sdss")
    config["catalog"] = {"path": str(tmp_path / "bad.csv"), "truth": []}
    result = snakemake(tmp_path, write_config(tmp_path / "config.yaml", config), "--cores", "1")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "bad.csv" in out
    assert "duplicate ids in rows 1, 3" in out
    assert "ra missing, NaN or outside [0, 360) in rows 2" in out
    assert "dec missing, NaN or outside [-90, 90] in rows 3" in out
    assert "unsafe as file names" in out and "rows 4" in out
    assert not (tmp_path / "results").exists()


def test_missing_catalog_column_names_the_key(tmp_path):
    Table({"id": ["a"], "ra": [1.0], "dec": [1.0]}).write(tmp_path / "cat.csv")
    config = _small_config(tmp_path, kind="sdss")
    config["catalog"] = {"path": str(tmp_path / "cat.csv"), "columns": {"size": "petro_r50"}}
    result = snakemake(tmp_path, write_config(tmp_path / "config.yaml", config), "--cores", "1")
    assert result.returncode != 0
    assert "missing column(s) 'petro_r50' (catalog.columns.size)" in result.stdout + result.stderr


def test_runs_on_a_folder_of_local_images(tmp_path):
    """config/examples/local.yaml on a folder of JPEG, PNG and FITS files (no catalog)."""
    from astropy.io import fits
    from PIL import Image as PILImage

    from galclust import demo

    folder = tmp_path / "images"
    folder.mkdir()
    catalog = demo.draw_catalog(9, seed=3)
    for i, row in enumerate(catalog):
        rgb = demo.render(row, image_size=96)
        name = f"gal_{i:02d}"
        if i % 3 == 0:
            PILImage.fromarray(rgb).save(folder / f"{name}.jpg", quality=92)
        elif i % 3 == 1:
            PILImage.fromarray(rgb).save(folder / f"{name}.png")
        else:
            fits.PrimaryHDU(np.moveaxis(rgb.astype(np.float32), -1, 0)).writeto(folder / f"{name}.fits")
    config = load_example("local.yaml")
    config["source"]["local"]["directory"] = str(folder)
    config["source"]["cache_dir"] = str(tmp_path / "cache")
    config["batch_size"] = 5
    config["features"]["pixels"]["pca"] = 4
    config["clustering"] = {"kmeans": {"k": [2]}, "agglomerative": {"k": [3]}}
    config["report"] = {"member_pdfs": ["pixels/agglomerative-k3"]}
    # what a folder changes is how images are read and named (JPEG, PNG and FITS; no catalog):
    # the profiles, their UMAP view and the pixels here, both methods on the pixels (read
    # below). The encoder's sets (its network, the concatenation and their UMAP view) run on a
    # folder of real cutouts with this config in tests/test_real_images.py; the encoder's card
    # still sets the preprocessing (preprocess.from_model).
    for fs in ("encoder", "encoder_profiles", "encoder_map"):
        del config["features"][fs]
    config["features"]["profiles"]["methods"] = ["kmeans"]
    path = write_config(tmp_path / "config.yaml", config)
    result = snakemake(tmp_path, path, "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    labels = Table.read(tmp_path / "results/clustering/pixels/kmeans-k2/labels.ecsv")
    assert sorted(labels["id"]) == [f"gal_{i:02d}" for i in range(9)]
    assert len(list((tmp_path / "results/clustering/pixels/agglomerative-k3/members").glob("*.pdf"))) == 3
    # the UMAP view's only method (hdbscan) is switched off here: its map is drawn, its
    # clusterings panel says why it is empty
    assert (tmp_path / "results/features/profiles_map/cluster_map.png").stat().st_size > 0
    assert not (tmp_path / "results/clustering/profiles_map").exists()
