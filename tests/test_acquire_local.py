"""Local images: every format decodes explicitly (imageio) and folders map to catalog rows (acquire.local)."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from PIL import Image

from galclust.acquire import acquire_batch, fill_source_defaults, read_manifest, scan_local_directory
from galclust.errors import CatalogError, ImageError
from galclust.imageio import read_rgb, write_band_cube

H, W = 24, 32  # not square: catches transposed axes


def gradient(dtype_max: float = 255.0) -> np.ndarray:
    """(H, W, 3) test pattern with distinct channels and a top-bottom asymmetry."""
    y, x = np.mgrid[0:H, 0:W]
    r = x / (W - 1)
    g = y / (H - 1)
    b = 0.25 + 0.5 * ((x + y) % 2)
    return np.stack([r, g, b], axis=-1) * dtype_max


def png_16bit(path: Path, arr: np.ndarray, color_type: int) -> None:
    """Write a 16-bit PNG by hand (Pillow cannot write 16-bit RGB): color_type 0 gray, 2 RGB, 6 RGBA."""
    h, w = arr.shape[:2]
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# -- formats -------------------------------------------------------------------------------------
def test_jpeg(tmp_path: Path) -> None:
    ref = gradient().astype(np.uint8)
    Image.fromarray(ref).save(tmp_path / "a.jpg", quality=95)
    rgb = read_rgb(tmp_path / "a.jpg")
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.float32
    # red and green are smooth ramps; blue is a checkerboard JPEG chroma subsampling blurs
    assert np.abs(rgb[..., :2] - ref[..., :2] / 255).mean() < 0.03


def test_png_8bit_rgb_is_exact(tmp_path: Path) -> None:
    ref = gradient().astype(np.uint8)
    Image.fromarray(ref).save(tmp_path / "a.png")
    np.testing.assert_allclose(read_rgb(tmp_path / "a.png"), ref / 255, atol=1e-6)


def test_png_16bit_gray_keeps_full_precision(tmp_path: Path) -> None:
    ref = gradient(65535)[..., 0].astype(np.uint16)
    ref[0, 0] = 1  # a value 8 bits cannot represent
    png_16bit(tmp_path / "g16.png", ref, 0)
    rgb = read_rgb(tmp_path / "g16.png")
    assert rgb.shape == (H, W, 3)
    np.testing.assert_allclose(rgb[..., 0], ref / 65535, atol=1e-6)
    assert rgb[0, 0, 0] > 0
    assert np.array_equal(rgb[..., 0], rgb[..., 2])


def test_png_16bit_rgb_is_read_at_8bit_precision(tmp_path: Path) -> None:
    ref = gradient(65535).astype(np.uint16)
    png_16bit(tmp_path / "c16.png", ref, 2)
    rgb = read_rgb(tmp_path / "c16.png")
    np.testing.assert_allclose(rgb, ref / 65535, atol=1 / 255 + 1e-6)


def test_png_16bit_rgba_composited_on_black(tmp_path: Path) -> None:
    ref = np.concatenate([gradient(65535), np.full((H, W, 1), 32768.0)], axis=-1).astype(np.uint16)
    png_16bit(tmp_path / "c16a.png", ref, 6)
    np.testing.assert_allclose(read_rgb(tmp_path / "c16a.png"), ref[..., :3] / 65535 * 0.5, atol=2 / 255)


def test_rgba_alpha_is_composited_on_black(tmp_path: Path) -> None:
    rgba = np.zeros((H, W, 4), dtype=np.uint8)
    rgba[..., :3] = 200
    rgba[:, : W // 2, 3] = 255  # left half opaque, right half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    rgb = read_rgb(tmp_path / "a.png")
    np.testing.assert_allclose(rgb[:, : W // 2], 200 / 255, atol=1e-6)
    np.testing.assert_allclose(rgb[:, W // 2 :], 0.0)


def test_grayscale_and_gray_alpha_and_palette(tmp_path: Path) -> None:
    gray = gradient()[..., 0].astype(np.uint8)
    Image.fromarray(gray, "L").save(tmp_path / "l.png")
    Image.fromarray(gray, "L").save(tmp_path / "l.jpg", quality=95)
    rgb = read_rgb(tmp_path / "l.png")
    np.testing.assert_allclose(rgb, np.repeat(gray[..., None] / 255, 3, axis=2), atol=1e-6)
    assert read_rgb(tmp_path / "l.jpg").shape == (H, W, 3)

    la = Image.fromarray(np.stack([gray, np.full_like(gray, 255)], axis=-1), "LA")
    la.save(tmp_path / "la.png")
    np.testing.assert_allclose(read_rgb(tmp_path / "la.png")[..., 1], gray / 255, atol=1e-6)

    pal = Image.fromarray(gradient().astype(np.uint8)).convert("P")
    pal.save(tmp_path / "p.png", transparency=0)
    out = read_rgb(tmp_path / "p.png")
    assert out.shape == (H, W, 3) and 0 <= out.min() and out.max() <= 1


def test_fits_single_image_is_grayscale_and_north_up(tmp_path: Path) -> None:
    data = np.zeros((H, W), dtype=np.float32)
    data[0, :] = 10.0  # FITS row 0 is the bottom of the picture
    data[5, 5] = np.nan
    fits.PrimaryHDU(data).writeto(tmp_path / "a.fits")
    rgb = read_rgb(tmp_path / "a.fits")
    assert rgb.shape == (H, W, 3)
    assert np.all(rgb[-1] == 1.0) and np.all(rgb[:-1] == 0.0)  # bottom row, non-finite -> minimum


def test_fits_gz(tmp_path: Path) -> None:
    data = np.arange(H * W, dtype=np.float64).reshape(H, W)
    fits.PrimaryHDU(data).writeto(tmp_path / "a.fits")
    (tmp_path / "b.fits.gz").write_bytes(gzip.compress((tmp_path / "a.fits").read_bytes()))
    np.testing.assert_allclose(read_rgb(tmp_path / "b.fits.gz"), read_rgb(tmp_path / "a.fits"))


def _band_planes() -> dict[str, np.ndarray]:
    # Each band bright in a different third of the image, so the mapping is visible.
    planes = {}
    for k, band in enumerate("griz"):
        p = np.zeros((H, W), dtype=np.float32)
        p[:, k * 8 : (k + 1) * 8] = 1.0 + k
        planes[band] = p
    return planes


def test_fits_cube_with_band_keywords_maps_by_wavelength(tmp_path: Path) -> None:
    planes = _band_planes()
    hdu = fits.PrimaryHDU(np.stack([planes[b] for b in "griz"]))
    for i, b in enumerate("griz"):
        hdu.header[f"BAND{i}"] = b
    hdu.writeto(tmp_path / "cube.fits")
    rgb = read_rgb(tmp_path / "cube.fits")
    # g, r, i chosen (z left out); red = i, green = r, blue = g
    assert rgb[:, 16:24, 0].min() > 0 and rgb[:, 16:24, 1:].max() == 0
    assert rgb[:, 8:16, 1].min() > 0 and rgb[:, 8:16, [0, 2]].max() == 0
    assert rgb[:, 0:8, 2].min() > 0 and rgb[:, 0:8, :2].max() == 0
    assert rgb[:, 24:].max() == 0


def test_fits_cube_with_an_empty_band_falls_back(tmp_path: Path) -> None:
    planes = _band_planes()
    planes["i"][:] = 0.0  # not observed (northern Legacy footprint)
    hdu = fits.PrimaryHDU(np.stack([planes[b] for b in "griz"]))
    for i, b in enumerate("griz"):
        hdu.header[f"BAND{i}"] = b
    hdu.writeto(tmp_path / "cube.fits")
    rgb = read_rgb(tmp_path / "cube.fits")
    assert rgb[:, 24:, 0].min() > 0  # z became red


def test_fits_cube_without_keywords_is_rgb_in_file_order(tmp_path: Path) -> None:
    ref = gradient(1.0)
    fits.PrimaryHDU(np.moveaxis(ref, -1, 0)[:, ::-1]).writeto(tmp_path / "cube.fits")
    np.testing.assert_allclose(read_rgb(tmp_path / "cube.fits"), ref / ref.max(), atol=1e-6)


def test_fits_multi_extension_stack(tmp_path: Path) -> None:
    planes = _band_planes()
    hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(planes[b], name=b.upper()) for b in "gri"]
    hdus[1].header["FILTER"] = "DECam g"
    fits.HDUList(hdus).writeto(tmp_path / "mef.fits")
    rgb = read_rgb(tmp_path / "mef.fits")
    assert rgb[:, 16:24, 0].min() > 0 and rgb[:, 0:8, 2].min() > 0


def test_fits_lupton_option(tmp_path: Path) -> None:
    planes = _band_planes()
    hdu = fits.PrimaryHDU(np.stack([planes[b] for b in "gri"]))
    for i, b in enumerate("gri"):
        hdu.header[f"BAND{i}"] = b
    hdu.writeto(tmp_path / "cube.fits")
    linear = read_rgb(tmp_path / "cube.fits")
    lupton = read_rgb(tmp_path / "cube.fits", lupton={"stretch": 0.5, "Q": 8})
    assert lupton.shape == (H, W, 3) and lupton.dtype == np.float32
    assert 0 <= lupton.min() and lupton.max() <= 1
    assert not np.allclose(linear, lupton)
    assert lupton[:, 16:24, 0].min() > 0  # same band mapping


def test_broken_files_raise_image_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "x.jpg").write_bytes(b"not an image")
    (tmp_path / "x.fits").write_bytes(b"SIMPLE  = nonsense")
    fits.PrimaryHDU(np.full((H, W), np.nan)).writeto(tmp_path / "nan.fits")
    for name in ("x.jpg", "x.fits", "nan.fits"):
        with pytest.raises(ImageError, match=name):
            read_rgb(tmp_path / name)


# -- folders -> rows ------------------------------------------------------------------------------
def write_triplet(folder: Path, base: str, sep: str = "_") -> None:
    planes = _band_planes()
    for b in "gri":
        fits.PrimaryHDU(planes[b]).writeto(folder / f"{base}{sep}{b}.fits")


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    d = tmp_path / "images"
    d.mkdir()
    Image.fromarray(gradient().astype(np.uint8)).save(d / "NGC1.jpg")
    Image.fromarray(gradient().astype(np.uint8)).save(d / "NGC2.png")
    png_16bit(d / "NGC3.png", gradient(65535).astype(np.uint16), 2)
    fits.PrimaryHDU(np.moveaxis(gradient(1.0), -1, 0)).writeto(d / "NGC4.fits")
    write_triplet(d, "NGC5")
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(d / "BLANK.png")
    (d / "BROKEN.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (d / "notes.txt").write_text("not an image")
    return d


def test_scan_local_directory(image_folder: Path) -> None:
    table = scan_local_directory(image_folder, ["*.jpg", "*.png", "*.fits"])
    assert list(table["id"]) == ["BLANK", "BROKEN", "NGC1", "NGC2", "NGC3", "NGC4", "NGC5"]
    assert table["bands"][list(table["id"]).index("NGC5")] == "g,r,i"
    assert all(Path(p).is_absolute() and Path(p).exists() for p in table["path"])


def test_scan_rejects_duplicate_and_unsafe_stems(tmp_path: Path) -> None:
    Image.fromarray(gradient().astype(np.uint8)).save(tmp_path / "x.jpg")
    Image.fromarray(gradient().astype(np.uint8)).save(tmp_path / "x.png")
    Image.fromarray(gradient().astype(np.uint8)).save(tmp_path / "a..b.png")
    with pytest.raises(CatalogError) as err:
        scan_local_directory(tmp_path)
    msg = str(err.value)
    assert "x.jpg, x.png" in msg and "a..b.png" in msg


def test_local_batch_by_filename(image_folder: Path, tmp_path: Path) -> None:
    ids = ["NGC1", "NGC2", "NGC3", "NGC4", "NGC5", "BLANK", "BROKEN", "MISSING"]
    rows = Table({"id": ids, "ra": np.zeros(len(ids)), "dec": np.zeros(len(ids)), "size": np.full(len(ids), np.nan)})
    source = fill_source_defaults({
        "kind": "local",
        "cache_dir": str(tmp_path / "cache"),
        "local": {"directory": str(image_folder)},
        "download": {"max_failed_fraction": 1.0},
    })
    manifest = acquire_batch(rows, source, tmp_path / "m.ecsv")
    status = dict(zip(manifest["id"], manifest["status"]))
    reason = dict(zip(manifest["id"], manifest["reason"]))
    assert status == {"NGC1": "ok", "NGC2": "ok", "NGC3": "ok", "NGC4": "ok", "NGC5": "ok",
                      "BLANK": "blank", "BROKEN": "failed", "MISSING": "failed"}
    assert reason["MISSING"] == "missing file"
    assert reason["BROKEN"].startswith("undecodable file")
    path = dict(zip(manifest["id"], manifest["path"]))
    assert path["NGC1"] == str((image_folder / "NGC1.jpg").absolute())
    # The triplet became one cube in the cache; the originals are untouched.
    cube = Path(path["NGC5"])
    assert cube.is_relative_to(tmp_path / "cache") and cube.suffix == ".fits"
    assert fits.getheader(cube)["BAND2"] == "i"
    assert read_rgb(cube).shape == (H, W, 3)
    again = acquire_batch(rows, source, tmp_path / "m2.ecsv")
    assert dict(zip(again["id"], again["status"]))["NGC5"] == "cached"
    assert read_manifest(tmp_path / "m.ecsv")["reason"][0] == ""


def test_local_batch_by_column_refuses_escaping_paths(image_folder: Path, tmp_path: Path) -> None:
    (image_folder / "sub").mkdir()
    Image.fromarray(gradient().astype(np.uint8)).save(image_folder / "sub" / "deep.jpg")
    rows = Table({
        "id": ["a", "b", "c", "d", "e"],
        "file": ["NGC1.jpg", "sub/deep.jpg", "../images/NGC1.jpg", str(image_folder / "NGC1.jpg"), "nope.jpg"],
        "ra": np.zeros(5), "dec": np.zeros(5), "size": np.ones(5),
    })
    source = fill_source_defaults({
        "kind": "local",
        "cache_dir": str(tmp_path / "cache"),
        "local": {"directory": str(image_folder), "id_from": "column", "path_column": "file"},
        "download": {"max_failed_fraction": 1.0},
    })
    manifest = acquire_batch(rows, source, tmp_path / "m.ecsv")
    assert list(manifest["status"]) == ["ok", "ok", "failed", "failed", "failed"]
    assert "'..'" in manifest["reason"][2]
    assert "absolute path" in manifest["reason"][3]
    assert manifest["reason"][4] == "missing file"


def test_write_band_cube_rejects_mismatched_shapes(tmp_path: Path) -> None:
    fits.PrimaryHDU(np.zeros((4, 4))).writeto(tmp_path / "x_g.fits")
    fits.PrimaryHDU(np.zeros((5, 4))).writeto(tmp_path / "x_r.fits")
    with pytest.raises(ImageError, match="differ in shape"):
        write_band_cube({"g": tmp_path / "x_g.fits", "r": tmp_path / "x_r.fits"}, tmp_path / "out.fits")
    assert not (tmp_path / "out.fits").exists()
