"""Service URL patterns, cache variants, Legacy FITS, SkyServer SQL catalogs, the demo source, example configs."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from astropy.table import Table
from fakeserver import FakeServer, fake_server  # noqa: F401 - fixture

from galclust.acquire import acquire_batch, fetch_sql_catalog, fill_source_defaults
from galclust.acquire.services import (
    MissingSizeError,
    legacy_request,
    legacy_variant,
    pixel_scale,
    safe_id,
    sdss_request,
    sdss_variant,
    sql_search_url,
)
from galclust.errors import CatalogError, GalclustError
from galclust.imageio import read_rgb

ROOT = Path(__file__).resolve().parents[1]


def rows_of(n: int, size: float | None = 5.0) -> Table:
    return Table({
        "id": [f"G{i}" for i in range(n)],
        "ra": [180.0 + i * 0.5 for i in range(n)],
        "dec": [-5.0 + i * 0.25 for i in range(n)],
        "size": [np.nan if size is None else size] * n,
    })


# -- ids and URLs -------------------------------------------------------------------------------
@pytest.mark.parametrize("ok", ["NGC1234", "8485-1901", "1237648702966988820", "a.b_c+d", "Ω-1"])
def test_safe_id_accepts(ok: str) -> None:
    assert safe_id(ok) == ok


@pytest.mark.parametrize("bad", ["", " ", "a/b", "a\\b", "..", "a..b", ".hidden", "a\nb", "a\x00b",
                                 "a\u202eb", " lead", "x" * 201])
def test_safe_id_rejects(bad: str) -> None:
    with pytest.raises(CatalogError):
        safe_id(bad)


def test_sdss_url_size_tied_scale() -> None:
    source = fill_source_defaults({"kind": "sdss"})
    req = sdss_request({"id": "G1", "ra": 232.5447, "dec": 48.6902, "size": 3.2}, source["sdss"], Path("/c"))
    parts = urlsplit(req.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://skyserver.sdss.org/dr17/SkyServerWS/ImgCutout/getjpeg"
    )
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {"ra": "232.5447", "dec": "48.6902", "scale": repr(0.02 * 3.2), "width": "424", "height": "424"}
    assert req.dest == Path("/c/G1.jpg") and (req.width, req.height, req.fmt) == (424, 424, "jpeg")
    # 424 pixels at 0.02 R_e per pixel is 8.48 R_e across.
    assert 424 * float(q["scale"]) == pytest.approx(8.48 * 3.2)


def test_sdss_fixed_scale_and_dr18() -> None:
    sdss = fill_source_defaults({"kind": "sdss", "sdss": {
        "release": "dr18", "width": 128, "height": 96, "scale": {"mode": "fixed", "arcsec_per_pixel": 0.4}}})["sdss"]
    req = sdss_request({"id": "x", "ra": 1.0, "dec": 2.0, "size": None}, sdss, Path("c"))
    assert "/dr18/SkyServerWS/ImgCutout/getjpeg?" in req.url
    assert "scale=0.4&width=128&height=96" in req.url


def test_size_tied_scale_needs_a_size() -> None:
    for size in (None, float("nan"), 0.0, -1.0, "n/a"):
        with pytest.raises(MissingSizeError):
            pixel_scale({"mode": "size", "factor": 0.02}, size)
    assert pixel_scale({"mode": "fixed", "arcsec_per_pixel": 0.262}, None) == 0.262


def test_legacy_urls() -> None:
    legacy = fill_source_defaults({"kind": "legacy"})["legacy"]
    jpg = legacy_request({"id": "a", "ra": 10.5, "dec": -3.25, "size": 1.0}, legacy, Path("c"))
    assert jpg.url == (
        "https://www.legacysurvey.org/viewer/cutout.jpg?ra=10.5&dec=-3.25&layer=ls-dr10&pixscale=0.262&size=256"
    )
    legacy["format"] = "fits"
    fits_req = legacy_request({"id": "a", "ra": 10.5, "dec": -3.25, "size": 1.0}, legacy, Path("c"))
    assert fits_req.url.startswith("https://www.legacysurvey.org/viewer/cutout.fits?")
    assert fits_req.url.endswith("&size=256&bands=griz")
    assert fits_req.dest == Path("c/a.fits") and fits_req.fmt == "fits"


def test_sql_url() -> None:
    sdss = fill_source_defaults({"kind": "sdss"})["sdss"]
    url = sql_search_url("SELECT TOP 1 objra FROM mangaDrpAll WHERE x & 4 = 0", sdss)
    parts = urlsplit(url)
    assert parts.path == "/dr17/SkyServerWS/SearchTools/SqlSearch"
    assert parse_qs(parts.query) == {"cmd": ["SELECT TOP 1 objra FROM mangaDrpAll WHERE x & 4 = 0"], "format": ["csv"]}


def test_variants_change_with_every_pixel_setting() -> None:
    base = fill_source_defaults({"kind": "sdss"})["sdss"]
    v0 = sdss_variant(base)
    assert v0.startswith("dr17_424x424_re0.02_")
    changed = [
        {**base, "release": "dr18"},
        {**base, "width": 256},
        {**base, "scale": {"mode": "size", "factor": 0.03}},
        {**base, "scale": {"mode": "fixed", "arcsec_per_pixel": 0.396}},
        {**base, "base_url": "http://127.0.0.1:1"},
    ]
    assert len({v0, *(sdss_variant(c) for c in changed)}) == len(changed) + 1
    legacy = fill_source_defaults({"kind": "legacy"})["legacy"]
    assert legacy_variant(legacy).startswith("ls-dr10_jpg_256_px0.262_")
    assert legacy_variant({**legacy, "format": "fits"}).startswith("ls-dr10_fits-griz_256_")
    assert legacy_variant({**legacy, "lupton": {"stretch": 9}}) == legacy_variant(legacy)  # not a pixel setting


def test_missing_size_fails_only_that_galaxy(fake_server: FakeServer, tmp_path: Path) -> None:
    rows = rows_of(3)
    rows["size"][1] = np.nan
    fake_server.register(rows)
    source = fake_server.source(cache_dir=tmp_path / "c", max_failed_fraction=0.5)
    source["sdss"]["scale"] = {"mode": "size", "factor": 0.02}
    manifest = acquire_batch(rows, source, tmp_path / "m.ecsv")
    assert list(manifest["status"]) == ["ok", "failed", "ok"]
    assert "size-tied pixel scale" in manifest["reason"][1]
    assert fake_server.count("G1") == 0


# -- Legacy Survey ----------------------------------------------------------------------------
def test_legacy_jpg(fake_server: FakeServer, tmp_path: Path) -> None:
    rows = rows_of(2)
    fake_server.register(rows)
    source = fake_server.source("legacy", cache_dir=tmp_path / "c")
    manifest = acquire_batch(rows, source, tmp_path / "m.ecsv")
    assert list(manifest["status"]) == ["ok", "ok"]
    assert "/legacy/ls-dr10_jpg_64_" in manifest["path"][0]
    assert read_rgb(manifest["path"][0]).shape == (64, 64, 3)
    assert all("/viewer/cutout.jpg" in path for _, path, _ in fake_server.log)


def test_legacy_fits_kept_raw_and_read_with_lupton(fake_server: FakeServer, tmp_path: Path) -> None:
    from astropy.io import fits

    rows = rows_of(3)
    fake_server.register(rows)
    fake_server.plan("G1", then="blank")
    fake_server.plan("G2", "truncate")
    source = fake_server.source("legacy", cache_dir=tmp_path / "c")
    source["legacy"].update({"format": "fits", "bands": "griz", "lupton": {"stretch": 0.5, "Q": 8}})
    manifest = acquire_batch(rows, source, tmp_path / "m.ecsv")
    assert list(manifest["status"]) == ["ok", "blank", "ok"]
    assert manifest["attempts"][2] == 2
    path = Path(manifest["path"][0])
    assert path.suffix == ".fits"
    with fits.open(path) as hdul:
        assert hdul[0].data.shape == (4, 64, 64)  # raw griz cube, as served
        assert [hdul[0].header[f"BAND{i}"] for i in range(4)] == list("griz")
    rgb = read_rgb(path, lupton=source["legacy"]["lupton"])
    assert rgb.shape == (64, 64, 3) and 0 <= rgb.min() and rgb.max() <= 1 and rgb.max() > 0
    assert all(p == "/viewer/cutout.fits" for _, p, _ in fake_server.log)


# -- SkyServer SQL ------------------------------------------------------------------------------
QUERY = "SELECT plateifu, mangaid, objra, objdec, nsa_elpetro_th50_r FROM mangaDrpAll"


def test_sql_catalog_is_fetched_once_and_cached(fake_server: FakeServer, tmp_path: Path) -> None:
    source = fake_server.source()
    cache = tmp_path / "catalogs" / "manga.csv"
    assert fetch_sql_catalog(QUERY, source, cache) == cache
    text = cache.read_text()
    assert not text.startswith("#Table")
    table = Table.read(cache, format="ascii.csv")
    assert table.colnames == ["plateifu", "mangaid", "objra", "objdec", "nsa_elpetro_th50_r"]
    assert len(table) == 3
    assert fake_server.sql_queries == [QUERY]
    fetch_sql_catalog(QUERY, source, cache)
    assert fake_server.count("sql") == 1  # a rerun does not query again


def test_sql_retries_and_politeness(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.retry_after = 0
    fake_server.plan("sql", "500", "html")
    source = fake_server.source(backoff_seconds=0.001)
    start = time.monotonic()
    fetch_sql_catalog(QUERY, source, tmp_path / "a.csv")
    # Three requests, at most one a second: SkyServer asks for <= 60 queries a minute.
    assert fake_server.count("sql") == 3
    assert time.monotonic() - start >= 1.9


def test_sql_error_is_reported_and_not_cached(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.plan("sql", then="sqlerror")
    with pytest.raises(GalclustError, match="Invalid object name"):
        fetch_sql_catalog("SELECT * FROM nosuchtable", fake_server.source(), tmp_path / "a.csv")
    assert not (tmp_path / "a.csv").exists()
    assert fake_server.count("sql") == 1  # an SQL error is not retried


def test_sql_only_allowed_hosts(fake_server: FakeServer, tmp_path: Path) -> None:
    source = fake_server.source(allowed_hosts=["skyserver.sdss.org"])
    with pytest.raises(GalclustError, match="host not allowed: 127.0.0.1"):
        fetch_sql_catalog(QUERY, source, tmp_path / "a.csv")
    assert fake_server.total() == 0


# -- demo -----------------------------------------------------------------------------------------
def test_demo_renders_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from galclust import demo
    from galclust.catalog import standardise

    table = standardise(demo.draw_catalog(3, 7), {"id": "id", "ra": "ra", "dec": "dec", "size": "r_e"}, "demo")
    calls = []
    real = demo.write_cutout

    def counting(row, path, image_size=424):  # type: ignore[no-untyped-def]
        calls.append(row["id"])
        real(row, path, image_size=image_size)

    monkeypatch.setattr(demo, "write_cutout", counting)
    source = {"kind": "demo", "cache_dir": str(tmp_path / "c"), "demo": {"image_size": 64}}
    first = acquire_batch(table, source, tmp_path / "m1.ecsv", config_hash="abc123")
    assert set(first["status"]) <= {"ok", "blank"} and len(calls) == 3
    assert all("/demo/demo_64_abc123/" in p for p in first["path"])
    assert read_rgb(first["path"][0]).shape == (64, 64, 3)
    second = acquire_batch(table, source, tmp_path / "m2.ecsv", config_hash="abc123")
    assert len(calls) == 3 and set(second["status"]) <= {"cached", "blank"}
    acquire_batch(table, source, tmp_path / "m3.ecsv", config_hash="other")
    assert len(calls) == 6  # another demo configuration, another cache


# -- configuration --------------------------------------------------------------------------------
def test_fill_source_defaults() -> None:
    s = fill_source_defaults({"kind": "sdss", "sdss": {"scale": {"mode": "fixed"}}})
    assert s["cache_dir"] == "resources/cutouts"
    assert s["sdss"]["scale"] == {"mode": "fixed", "factor": 0.02, "arcsec_per_pixel": 0.396}
    assert s["download"]["allowed_hosts"] == ["skyserver.sdss.org", "www.legacysurvey.org"]
    assert s["legacy"]["lupton"] == {"stretch": 0.5, "Q": 8}
    assert fill_source_defaults(s) == s


def test_a_source_block_outside_the_workflow_is_checked_and_named(tmp_path: Path) -> None:
    from galclust.errors import ConfigError, GalclustError

    # defaults come from the one config schema, and a bad key is named as in the config
    with pytest.raises(ConfigError, match=r"config key 'source\.sdss\.width'"):
        fill_source_defaults({"kind": "sdss", "sdss": {"width": 10}})
    # acquire_batch fills nothing: the workflow's jobs get the block with its defaults (params)
    rows = Table({"id": ["a"], "ra": [1.0], "dec": [2.0], "size": [3.0]})
    with pytest.raises(GalclustError, match=r"config key 'source\.legacy': missing"):
        acquire_batch(rows, {"kind": "legacy", "cache_dir": str(tmp_path)}, tmp_path / "m.ecsv")


@pytest.mark.parametrize("name", ["sdss_manga.yaml", "legacy.yaml"])
def test_example_configs_are_valid(name: str) -> None:
    from galclust.config import load_config

    config = load_config(str(ROOT / "config" / "examples" / name))
    sql = config["catalog"]["sql"]
    assert sql["query"] and sql["cache"].startswith("resources/")
    hosts = set(config["source"]["download"]["allowed_hosts"])
    assert "skyserver.sdss.org" in hosts  # the SQL catalog comes from SkyServer
    if name == "sdss_manga.yaml":
        assert "mangaDrpAll" in sql["query"]
        assert config["catalog"]["columns"] == {
            "id": "plateifu", "ra": "objra", "dec": "objdec", "size": "nsa_elpetro_th50_r"}
        assert config["source"]["sdss"]["scale"] == {"mode": "size", "factor": 0.02, "arcsec_per_pixel": 0.396}
        assert config["source"]["sdss"]["width"] == config["source"]["sdss"]["height"] == 424
    else:
        assert config["source"]["kind"] == "legacy"
        assert "www.legacysurvey.org" in hosts
