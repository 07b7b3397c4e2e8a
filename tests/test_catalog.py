"""Tests of galclust.catalog: column mapping, row validation, file formats, batches."""

from __future__ import annotations

import re

import numpy as np
import pytest
from astropy.table import Table, vstack

from galclust.batches import batch_index, batch_names
from galclust.catalog import (
    batch_rows,
    is_safe_id,
    read_catalog_file,
    rows_digest,
    standardise,
)
from galclust.errors import CatalogError

SRC = "cat.csv"
COLS = {"id": "id", "ra": "ra", "dec": "dec", "size": "r_e"}


def good_table(n: int = 5) -> Table:
    return Table(
        {
            "id": [f"g{i:03d}" for i in range(n)],
            "ra": np.linspace(1.0, 359.0, n),
            "dec": np.linspace(-80.0, 80.0, n),
            "r_e": np.linspace(1.0, 5.0, n),
            "klass": [f"c{i % 2}" for i in range(n)],
        }
    )


def catalog_error(table: Table, columns: dict | None = None, source: str = SRC) -> str:
    with pytest.raises(CatalogError) as info:
        standardise(table, columns or COLS, source)
    msg = str(info.value)
    assert msg.startswith(f"{source}: "), msg
    return msg


def rows_in(msg: str, what: str) -> list[int]:
    """The row numbers listed after ``what ... in rows`` in ``msg``."""
    m = re.search(re.escape(what) + r"[^;]*? in rows ([0-9, ]+)", msg)
    assert m, f"{what!r} not in {msg!r}"
    return [int(x) for x in m.group(1).split(",")]


# --- standardise ---------------------------------------------------------------------


def test_standardise_maps_columns():
    t = Table(
        {
            "objid": [101, 102, 103],
            "RA_deg": [10.0, 20.0, 30.0],
            "DEC_deg": [-1.0, 0.0, 1.0],
            "petro_r50": [2.0, 3.0, 4.0],
            "klass": ["E", "S", "S"],
        }
    )
    out = standardise(t, {"id": "objid", "ra": "RA_deg", "dec": "DEC_deg", "size": "petro_r50"}, SRC)
    assert out.colnames[:4] == ["id", "ra", "dec", "size"]
    assert list(out["id"]) == ["101", "102", "103"]
    assert out["id"].dtype.kind == "U"
    np.testing.assert_allclose(out["ra"], [10, 20, 30])
    np.testing.assert_allclose(out["dec"], [-1, 0, 1])
    np.testing.assert_allclose(out["size"], [2, 3, 4])
    assert list(out["klass"]) == ["E", "S", "S"]  # other columns kept
    # the catalog's own columns stay under their own names too
    assert list(out["objid"]) == [101, 102, 103]
    assert list(out["petro_r50"]) == [2.0, 3.0, 4.0]


def test_standardise_without_size_column():
    t = good_table()
    del t["r_e"]
    out = standardise(t, {**COLS, "size": None}, SRC)
    assert np.isnan(out["size"]).all()


def test_standardise_strips_ids():
    t = good_table(2)
    t["id"] = [" a1 ", "b2"]
    assert list(standardise(t, COLS, SRC)["id"]) == ["a1", "b2"]


def test_missing_columns_named_with_config_key():
    t = good_table()
    del t["ra"]
    msg = catalog_error(t, {**COLS, "dec": "DECL"})
    assert "'ra' (catalog.columns.ra)" in msg
    assert "'DECL' (catalog.columns.dec)" in msg
    assert "id" in msg and "r_e" in msg  # the table's columns are listed
    assert "'r_e' (catalog.columns.size)" not in msg


def test_missing_size_column():
    t = good_table()
    del t["r_e"]
    assert "'r_e' (catalog.columns.size)" in catalog_error(t)


def test_non_numeric_ra():
    t = good_table(3)
    t["ra"] = ["a", "b", "c"]
    msg = catalog_error(t)
    assert "'ra'" in msg and "not numeric" in msg


def test_nan_and_out_of_range_ra():
    t = good_table(6)
    t["ra"][1] = np.nan
    t["ra"][3] = 360.0
    t["ra"][4] = -0.5
    msg = catalog_error(t)
    assert rows_in(msg, "ra missing") == [2, 4, 5]


def test_nan_and_out_of_range_dec():
    t = good_table(6)
    t["dec"][0] = 90.5
    t["dec"][5] = np.nan
    t["dec"][2] = -91
    msg = catalog_error(t)
    assert rows_in(msg, "dec missing") == [1, 3, 6]
    assert "ra missing" not in msg


def test_boundary_coordinates_accepted():
    t = good_table(3)
    t["ra"] = [0.0, 359.999, 180.0]
    t["dec"] = [-90.0, 90.0, 0.0]
    standardise(t, COLS, SRC)


def test_masked_ra_is_reported():
    t = Table(good_table(3), masked=True)
    t["ra"].mask[1] = True
    assert rows_in(catalog_error(t), "ra missing") == [2]


def test_duplicate_ids():
    t = good_table(6)
    t["id"][4] = t["id"][1]
    t["id"][5] = t["id"][1]
    msg = catalog_error(t)
    assert rows_in(msg, "duplicate ids") == [2, 5, 6]


@pytest.mark.parametrize("bad", ["../x", "a/b", ".hidden", "a\tb", "a\x01b", "x..y", "a b", "a\\b"])
def test_unsafe_ids(bad):
    t = good_table(4)
    t["id"] = t["id"].astype("U16")
    t["id"][2] = bad
    msg = catalog_error(t)
    assert rows_in(msg, "unsafe") == [3]


def test_empty_id():
    t = good_table(4)
    t["id"][0] = ""
    t["id"][3] = "   "
    msg = catalog_error(t)
    assert rows_in(msg, "empty id") == [1, 4]
    assert "unsafe" not in msg and "duplicate" not in msg


@pytest.mark.parametrize("ok", ["587722981741363294", "J123456.78+012345.6", "gal_1-a", "1237+abc.fits"])
def test_safe_ids(ok):
    assert is_safe_id(ok)


def test_unsafe_id_too_long():
    assert is_safe_id("a" * 200)
    assert not is_safe_id("a" * 201)


def test_bad_size():
    t = good_table(5)
    t["r_e"][0] = 0.0
    t["r_e"][2] = -1.0
    t["r_e"][4] = np.nan
    assert rows_in(catalog_error(t), "size missing") == [1, 3, 5]


def test_size_not_checked_when_unmapped():
    t = good_table(3)
    t["r_e"] = [np.nan, -1.0, 0.0]
    out = standardise(t, {**COLS, "size": None}, SRC)
    assert np.isnan(out["size"]).all()
    assert list(out["r_e"]) [1] == -1.0  # kept as an ordinary column


def test_many_bad_rows_are_abbreviated():
    t = good_table(15)
    t["ra"] = np.full(15, 400.0)
    msg = catalog_error(t)
    assert "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 5 more" in msg


def test_several_problems_in_one_message():
    t = good_table(4)
    t["id"][1] = "a/b"
    t["dec"][3] = 100
    msg = catalog_error(t)
    assert rows_in(msg, "unsafe") == [2]
    assert rows_in(msg, "dec missing") == [4]


def test_empty_catalog():
    assert "no rows" in catalog_error(good_table(0))


# --- files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, fmt",
    [("cat.csv", "ascii.csv"), ("cat.ecsv", "ascii.ecsv"), ("cat.fits", "fits"), ("cat.vot", "votable"),
     ("cat.xml", "votable")],
)
def test_read_catalog_file_formats(tmp_path, name, fmt):
    t = good_table(4)
    path = tmp_path / name
    t.write(path, format=fmt)
    back = read_catalog_file(path)
    assert len(back) == 4
    out = standardise(back, COLS, str(path))
    assert list(out["id"]) == ["g000", "g001", "g002", "g003"]
    np.testing.assert_allclose(out["ra"], t["ra"])
    np.testing.assert_allclose(out["dec"], t["dec"])
    np.testing.assert_allclose(out["size"], t["r_e"])
    assert [str(v) for v in out["klass"]] == ["c0", "c1", "c0", "c1"]


def test_read_catalog_file_explicit_format(tmp_path):
    path = tmp_path / "cat.dat"
    good_table(3).write(path, format="ascii.csv")
    assert len(read_catalog_file(path, "ascii.csv")) == 3


def test_csv_with_numeric_ids_and_bad_row(tmp_path):
    path = tmp_path / "cat.csv"
    path.write_text("id,ra,dec,r_e\n1,10,0,1\n2,10,95,1\n3,10,0,1\n")
    with pytest.raises(CatalogError) as info:
        standardise(read_catalog_file(path), COLS, str(path))
    msg = str(info.value)
    assert msg.startswith(str(path))
    assert rows_in(msg, "dec missing") == [2]


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(CatalogError, match=re.escape(str(path)) + ".*not found"):
        read_catalog_file(path)


def test_unreadable_file(tmp_path):
    path = tmp_path / "cat.fits"
    path.write_bytes(b"this is not a FITS file at all" * 10)
    with pytest.raises(CatalogError) as info:
        read_catalog_file(path)
    msg = str(info.value)
    assert msg.startswith(str(path))
    assert "cannot read" in msg


# --- batches -------------------------------------------------------------------------


def test_batch_names():
    assert batch_names(10, 5) == ["b0000", "b0001"]
    assert batch_names(11, 5) == ["b0000", "b0001", "b0002"]
    assert batch_names(1, 5) == ["b0000"]
    assert batch_names(0, 5) == ["b0000"]
    assert len(batch_names(25000, 1)) == 25000
    assert batch_names(25000, 1)[-1] == "b24999"


def test_batch_index():
    assert batch_index("b0000") == 0
    assert batch_index("b0012") == 12
    assert batch_index("b12345") == 12345
    for bad in ("b12", "0001", "b00x1", "batch0001", "b0001 "):
        with pytest.raises(ValueError):
            batch_index(bad)


def test_batch_rows_cover_table_once():
    t = standardise(good_table(11), COLS, SRC)
    names = batch_names(len(t), 4)
    parts = [batch_rows(t, name, 4) for name in names]
    assert [len(p) for p in parts] == [4, 4, 3]
    assert sum((list(p["id"]) for p in parts), []) == list(t["id"])
    assert list(parts[1]["id"]) == ["g004", "g005", "g006", "g007"]


def test_appending_rows_keeps_batch_membership():
    bs = 4
    src = good_table(10)
    old = standardise(src, COLS, SRC)  # batches of 4, 4, 2
    extra = good_table(7)
    extra["id"] = [f"added_{i}" for i in range(7)]  # longer ids than before
    new = standardise(vstack([src, extra]), COLS, SRC)
    # the first 10 rows are the same galaxies
    assert list(new["id"][:10]) == list(old["id"])
    old_names, new_names = batch_names(len(old), bs), batch_names(len(new), bs)
    assert new_names[: len(old_names)] == old_names
    for name in old_names[:-1]:  # full batches: same rows, same digest
        assert list(batch_rows(old, name, bs)["id"]) == list(batch_rows(new, name, bs)["id"])
        assert rows_digest(batch_rows(old, name, bs)) == rows_digest(batch_rows(new, name, bs))
    last = old_names[-1]  # the partial batch gained rows: its digest changes
    assert len(batch_rows(old, last, bs)) == 2 and len(batch_rows(new, last, bs)) == 4
    assert rows_digest(batch_rows(old, last, bs)) != rows_digest(batch_rows(new, last, bs))


def test_rows_digest_changes_with_content_and_columns():
    t = standardise(good_table(5), COLS, SRC)
    d = rows_digest(t)
    assert re.fullmatch(r"[0-9a-f]{16}", d)
    assert rows_digest(t.copy()) == d
    changed = t.copy()
    changed["ra"][2] += 1e-9
    assert rows_digest(changed) != d
    renamed = t.copy()
    renamed["id"][0] = "g999"
    assert rows_digest(renamed) != d
    # restricted to some columns: insensitive to the others
    assert rows_digest(changed, ["id", "dec"]) == rows_digest(t, ["id", "dec"])
    assert rows_digest(t, ["id"]) != rows_digest(t, ["id", "dec"])


def test_a_folder_of_images_needs_no_coordinates():
    """source.kind local: a catalog of labels without RA/Dec/size is fine (NaN coordinates)."""
    t = Table({"id": ["a", "b"], "klass": ["spiral", "elliptical"]})
    out = standardise(t, {"id": "id", "ra": "ra", "dec": "dec", "size": "r_e"}, "labels.csv",
                      require_coordinates=False)
    assert list(out["id"]) == ["a", "b"] and np.isnan(out["ra"]).all() and list(out["klass"]) == ["spiral", "elliptical"]
    with pytest.raises(CatalogError, match="labels.csv: missing column.*'ra'"):
        standardise(t, {"id": "id", "ra": "ra", "dec": "dec", "size": "r_e"}, "labels.csv")
