"""Tests of galclust.store (Zarr stores of per-galaxy arrays) and galclust.atomic."""

from __future__ import annotations

import numpy as np
import pytest

from galclust import __version__
from galclust.atomic import atomic_path, write_bytes_atomic, write_text_atomic
from galclust.store import (
    count_rows,
    create_store,
    iter_blocks,
    open_store,
    provenance,
    read_array,
    read_attrs,
    read_ids,
    row_width,
    write_store,
)


def leftovers(directory) -> list[str]:
    """Temporary siblings left in ``directory`` (atomic_path names them '.<stem>.*.tmp*')."""
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


def make_store(path, start: int, n: int, width: int = 3, **kw):
    ids = [f"g{i:05d}" for i in range(start, start + n)]
    x = np.arange(start * width, (start + n) * width, dtype=np.float32).reshape(n, width)
    write_store(path, ids, {"x": x}, {"kind": "test", "start": start}, **kw)
    return ids, x


# --- store -------------------------------------------------------------------------


def test_round_trip(tmp_path):
    path = tmp_path / "s.zarr"
    ids = ["a", "bb", "587722981741363294", "J1+2.5"]
    images = np.random.default_rng(0).random((4, 5, 5, 3)).astype(np.float32)
    labels = np.array([3, -1, 0, 7], dtype=np.int64)
    attrs = {"extractor": "pixels", "layer": None, "n": 4, "params": {"size": 80, "pca": [1, 2]}}
    write_store(path, ids, {"images": images, "labels": labels[:, None]}, attrs, chunk_rows=2)
    assert list(read_ids(path)) == ids
    assert read_ids(path).dtype.kind == "U"
    back = read_array(path, "images")
    assert back.dtype == np.float32 and back.shape == (4, 5, 5, 3)
    np.testing.assert_array_equal(back, images)
    np.testing.assert_array_equal(read_array(path, "labels")[:, 0], labels)
    got = read_attrs(path)
    for key, value in attrs.items():
        assert got[key] == value
    prov = got["provenance"]
    assert prov["galclust"] == __version__
    assert {"python", "numpy", "zarr"} <= set(prov)
    assert prov == provenance()
    assert row_width(path, "images") == 75
    assert row_width(path, "labels") == 1
    assert count_rows([path]) == 4


def test_create_store_block_writes(tmp_path):
    path = tmp_path / "s.zarr"
    ids = [f"g{i}" for i in range(10)]
    full = np.arange(40, dtype=np.float32).reshape(10, 4)
    with create_store(path, ids, {"a": 1}, chunk_rows=3) as w:
        w.create("f", (4,))
        for start in range(0, 10, 4):
            w.write("f", start, full[start : start + 4])
        assert not path.exists()  # not under its final name until complete
    np.testing.assert_array_equal(read_array(path, "f"), full)
    assert leftovers(tmp_path) == []


def test_overwrite_existing_store(tmp_path):
    path = tmp_path / "s.zarr"
    make_store(path, 0, 5)
    ids, x = make_store(path, 100, 2)
    assert list(read_ids(path)) == ids
    np.testing.assert_array_equal(read_array(path, "x"), x)
    assert read_attrs(path)["start"] == 100


def test_iter_blocks_across_stores(tmp_path):
    paths, all_ids, all_x = [], [], []
    for i, (start, n) in enumerate([(0, 7), (7, 0), (7, 12), (19, 1)]):
        path = tmp_path / f"b{i:04d}.zarr"
        ids, x = make_store(path, start, n, chunk_rows=4)
        paths.append(path)
        all_ids += ids
        all_x.append(x)
    block_rows = 5
    blocks = list(iter_blocks(paths, "x", block_rows=block_rows))
    assert all(0 < len(b_ids) <= block_rows for b_ids, _ in blocks)
    assert all(len(b_ids) == len(b_x) for b_ids, b_x in blocks)
    got_ids = np.concatenate([b for b, _ in blocks])
    got_x = np.concatenate([x for _, x in blocks])
    assert list(got_ids) == all_ids
    np.testing.assert_array_equal(got_x, np.concatenate(all_x))
    # aligned: row i of every block is the row of the id it is paired with
    for b_ids, b_x in blocks:
        starts = np.array([int(g[1:]) for g in b_ids])
        np.testing.assert_array_equal(b_x[:, 0], starts * 3)
    assert count_rows(paths) == 20
    # block sizes: 5,2 | (empty store) | 5,5,2 | 1
    assert [len(b) for b, _ in blocks] == [5, 2, 5, 5, 2, 1]


def test_empty_store(tmp_path):
    path = tmp_path / "empty.zarr"
    write_store(path, [], {"x": np.zeros((0, 4), np.float32)}, {"kind": "empty"})
    assert path.is_dir()
    assert len(read_ids(path)) == 0
    assert read_array(path, "x").shape == (0, 4)
    assert list(iter_blocks([path], "x")) == []
    assert count_rows([path]) == 0
    assert read_attrs(path)["kind"] == "empty"


def test_exception_inside_create_store_leaves_nothing(tmp_path):
    path = tmp_path / "s.zarr"
    with pytest.raises(RuntimeError, match="boom"):
        with create_store(path, ["a", "b"]) as w:
            w.create("x", (2,))
            w.write("x", 0, np.ones((1, 2), np.float32))
            raise RuntimeError("boom")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_exception_keeps_previous_store(tmp_path):
    path = tmp_path / "s.zarr"
    ids, x = make_store(path, 0, 3)
    with pytest.raises(KeyError):
        with create_store(path, ["z"]):
            raise KeyError("no")
    assert list(read_ids(path)) == ids
    np.testing.assert_array_equal(read_array(path, "x"), x)
    assert leftovers(tmp_path) == []


def test_write_store_length_mismatch(tmp_path):
    path = tmp_path / "s.zarr"
    with pytest.raises(ValueError, match="'x' has 3 rows for 2 ids"):
        write_store(path, ["a", "b"], {"x": np.zeros((3, 2))})
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_open_store_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.zarr"):
        open_store(tmp_path / "nope.zarr")
    path = tmp_path / "s.zarr"
    make_store(path, 0, 2)
    with pytest.raises(KeyError, match="'y'.*x"):
        read_array(path, "y")
    with pytest.raises(KeyError, match="'y'"):
        list(iter_blocks([path], "y"))


# --- atomic ------------------------------------------------------------------------


def test_atomic_file(tmp_path):
    final = tmp_path / "sub" / "out.csv"
    with atomic_path(final) as tmp:
        assert tmp.parent == final.parent
        assert tmp.suffix == ".csv"  # writers picking a format by extension still work
        assert not tmp.exists()
        tmp.write_text("a,b\n")
        assert not final.exists()
    assert final.read_text() == "a,b\n"
    assert leftovers(final.parent) == []


def test_atomic_file_failure_keeps_old(tmp_path):
    final = tmp_path / "out.txt"
    final.write_text("old")
    with pytest.raises(ValueError):
        with atomic_path(final) as tmp:
            tmp.write_text("half")
            raise ValueError
    assert final.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_atomic_nothing_written(tmp_path):
    final = tmp_path / "out.txt"
    with pytest.raises(FileNotFoundError, match="produced nothing"):
        with atomic_path(final):
            pass
    assert not final.exists()


def test_atomic_directory(tmp_path):
    final = tmp_path / "d.zarr"
    final.mkdir()
    (final / "stale").write_text("x")
    with atomic_path(final, directory=True) as tmp:
        tmp.mkdir()
        (tmp / "new").write_text("y")
        assert (final / "stale").exists()
    assert sorted(p.name for p in final.iterdir()) == ["new"]
    assert leftovers(tmp_path) == []


def test_atomic_directory_failure(tmp_path):
    final = tmp_path / "d"
    with pytest.raises(OSError):
        with atomic_path(final, directory=True) as tmp:
            tmp.mkdir()
            (tmp / "f").write_text("partial")
            raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_write_bytes_and_text_atomic(tmp_path):
    write_bytes_atomic(tmp_path / "b.bin", b"\x00\x01")
    write_text_atomic(tmp_path / "t.txt", "héllo")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "t.txt").read_bytes() == "héllo".encode()
    assert leftovers(tmp_path) == []


def test_a_killed_writers_temporary_is_removed_by_the_next_writer(tmp_path: Path) -> None:
    """SIGKILL runs no cleanup: the next write of the same output removes the dead writer's temporary."""
    import signal
    import subprocess
    import sys

    final = tmp_path / "reduced.zarr"
    child = (
        "import sys, time\n"
        "from galclust.atomic import atomic_path\n"
        "with atomic_path(sys.argv[1], directory=True) as tmp:\n"
        "    tmp.mkdir(); (tmp / 'zarr.json').write_text('{'); print(tmp.name, flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", child, str(final)], stdout=subprocess.PIPE, text=True)
    name = proc.stdout.readline().strip()
    live = tmp_path / name
    assert live.is_dir()
    with atomic_path(tmp_path / "other.zarr", directory=True) as tmp:  # another output: untouched
        tmp.mkdir()
    assert live.is_dir()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert live.is_dir()  # what a kill leaves behind
    write_bytes_atomic(tmp_path / "x.bin", b"1")  # another output's writer leaves it alone
    assert live.is_dir()
    with atomic_path(final, directory=True) as tmp:
        tmp.mkdir()
    assert not live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.zarr", "reduced.zarr", "x.bin"]


def test_a_failed_cleanup_never_hides_the_writers_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Disk full inside a Zarr write: the error the user sees is the write's, not the cleanup's."""
    from galclust import atomic

    def busy(path: Path) -> None:  # as when zarr's I/O threads still add chunks during rmtree
        raise OSError(39, "Directory not empty", "c")

    monkeypatch.setattr(atomic, "_remove", busy)
    with pytest.raises(OSError, match="File too large"):
        with atomic_path(tmp_path / "s.zarr", directory=True) as tmp:
            tmp.mkdir()
            raise OSError(27, "File too large")
