"""The downloader against the fake services: faults, retries, limits, atomic writes, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from astropy.table import Table
from fakeserver import FakeServer, fake_server  # noqa: F401 - fixture

from galclust.acquire import acquire_batch, read_manifest
from galclust.acquire.http import Downloader, DownloadSettings, RateLimiter, parse_retry_after
from galclust.acquire.validate import check_file
from galclust.errors import GalclustError


def make_rows(n: int, prefix: str = "g", size: float = 3.0) -> Table:
    return Table(
        {
            "id": [f"{prefix}{i}" for i in range(n)],
            "ra": [150.0 + 0.01 * i for i in range(n)],
            "dec": [2.0 + 0.001 * i for i in range(n)],
            "size": [size] * n,
        }
    )


def final_files(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file() and not p.name.startswith(".")]


def temp_files(cache: Path) -> list[Path]:
    return [p for p in cache.rglob(".*.tmp*")]


def assert_no_corrupt_files(cache: Path) -> None:
    for p in final_files(cache):
        verdict = check_file(p, "fits" if p.suffix == ".fits" else "jpeg")
        assert verdict.ok, f"{p}: {verdict.reason}"


# -- faults that a retry cures ---------------------------------------------------------------
RECOVERABLE = ["500", "503", "429", "reset", "truncate", "slow", "html", "text"]


@pytest.mark.slow
def test_every_recoverable_galaxy_ends_valid(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.retry_after = 0
    # The read timeout must be short for "slow" to fail, but a loaded machine may also let a
    # normal answer time out now and then: attempts are checked against the server's own log
    # (what it answered, attempt by attempt) rather than as exact counts.
    fake_server.slow_seconds = 2.5
    rows = make_rows(len(RECOVERABLE) + 2)
    fake_server.register(rows)
    for gid, fault in zip(rows["id"], RECOVERABLE):
        fake_server.plan(gid, fault, fault)  # fails twice, then answers
    fake_server.plan(rows["id"][-2], "redirect-self")  # an allowed redirect is followed
    source = fake_server.source(cache_dir=tmp_path / "cache", read_timeout=1.0, max_attempts=6)

    manifest = acquire_batch(rows, source, tmp_path / "m.ecsv")

    assert list(manifest["status"]) == ["ok"] * len(rows)
    for gid, fault in zip(rows["id"], RECOVERABLE):
        row = manifest[list(manifest["id"]).index(gid)]
        served = [f for g, _, f in fake_server.log if g == gid]
        assert served[:3] == [fault, fault, "ok"], fault  # retried through both faults
        assert 3 <= row["attempts"] == fake_server.count(gid) <= 6, fault  # bounded, and counted
    redirected = [f for g, _, f in fake_server.log if g == rows["id"][-2]]
    assert redirected[:2] == ["redirect-self", "ok"]  # the redirect and its target
    assert fake_server.count(rows["id"][-1]) >= 1
    for p in manifest["path"]:
        assert check_file(p, "jpeg", 64, 64).ok
    assert_no_corrupt_files(tmp_path / "cache")
    assert temp_files(tmp_path / "cache") == []


# -- faults that are not cured ------------------------------------------------------------------
# fault -> (status, attempts with max_attempts=3, reason fragment)
UNRECOVERABLE = {
    "500": ("failed", 3, "HTTP 500"),
    "503": ("failed", 3, "HTTP 503"),
    "429": ("failed", 3, "HTTP 429"),
    "reset": ("failed", 3, "connection reset"),
    "truncate": ("failed", 3, "truncated body"),
    "slow": ("failed", 3, "timeout (read)"),
    "html": ("failed", 3, "HTML body with status 200"),
    "text": ("failed", 3, "text body with status 200"),
    "404": ("failed", 1, "HTTP 404"),
    "wrongsize": ("failed", 1, "wrong size 32x32, expected 64x64"),
    "huge": ("failed", 1, "larger than max_bytes"),
    "huge-declared": ("failed", 1, "larger than max_bytes"),
    "redirect-away": ("failed", 1, "host not allowed: forbidden.invalid"),
    "blank": ("blank", 1, "blank frame"),
}


@pytest.mark.slow
def test_unrecoverable_galaxies_are_reported_with_reason(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.retry_after = 0
    # 1 s read timeout against 2.5 s "slow" answers: long enough that a loaded machine does not
    # turn a one-attempt fault (404, size cap) into timeouts; the wall time is measured in
    # bench/bench_limits.py, not asserted here.
    fake_server.slow_seconds = 2.5
    fake_server.huge_bytes = 2_000_000
    rows = make_rows(len(UNRECOVERABLE) + 1)
    fake_server.register(rows)
    for gid, fault in zip(rows["id"], UNRECOVERABLE):
        fake_server.plan(gid, then=fault)
    source = fake_server.source(
        cache_dir=tmp_path / "cache", read_timeout=1.0, max_attempts=3,
        max_bytes=200_000, max_failed_fraction=1.0,
    )
    acquire_batch(rows, source, tmp_path / "m.ecsv")

    manifest = read_manifest(tmp_path / "m.ecsv")  # what the user reads, from disk
    by_id = {r["id"]: r for r in manifest}
    for gid, (fault, (status, attempts, reason)) in zip(rows["id"], UNRECOVERABLE.items()):
        row = by_id[gid]
        assert row["status"] == status, fault
        assert row["attempts"] == attempts, fault
        assert fake_server.count(gid) == attempts, fault  # retries are bounded
        assert reason in row["reason"], (fault, row["reason"])
        if status == "failed":
            assert not Path(row["path"]).exists(), fault  # nothing half-written is kept
    blank = by_id[rows["id"][len(UNRECOVERABLE) - 1]]
    assert Path(blank["path"]).exists()  # blank frames are kept, flagged
    assert by_id[rows["id"][-1]]["status"] == "ok"
    assert_no_corrupt_files(tmp_path / "cache")
    assert temp_files(tmp_path / "cache") == []


def test_failed_fraction_over_threshold_fails_the_batch_after_writing_the_table(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    rows = make_rows(10)
    fake_server.register(rows)
    fake_server.plan("g0", then="404")
    source = fake_server.source(cache_dir=tmp_path / "c", max_failed_fraction=0.1)
    acquire_batch(rows, source, tmp_path / "ok.ecsv")  # 1 of 10 = 10 %: allowed

    fake_server.plan("g1", then="404")
    source["cache_dir"] = str(tmp_path / "c2")
    with pytest.raises(GalclustError) as err:
        acquire_batch(rows, source, tmp_path / "bad.ecsv")
    assert str(tmp_path / "bad.ecsv") in str(err.value)
    assert "max_failed_fraction" in str(err.value)
    table = read_manifest(tmp_path / "bad.ecsv")
    assert sorted(table["id"][table["status"] == "failed"]) == ["g0", "g1"]
    assert set(table["reason"][table["status"] == "failed"]) == {"HTTP 404 Not Found"}


# -- politeness, concurrency, pooling, allow-list ------------------------------------------------
def test_retry_after_is_honoured(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.retry_after = 1
    rows = make_rows(2)
    fake_server.register(rows)
    fake_server.plan("g0", "503")
    fake_server.plan("g1", "429")
    source = fake_server.source(cache_dir=tmp_path / "c", backoff_seconds=0.001)
    start = time.monotonic()
    manifest = acquire_batch(rows, source, tmp_path / "m.ecsv")
    assert time.monotonic() - start >= 0.95
    assert list(manifest["attempts"]) == [2, 2]


def test_parse_retry_after() -> None:
    from datetime import datetime, timezone

    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("99999") == 300.0  # capped
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_exponential_with_jitter() -> None:
    dl = Downloader(DownloadSettings(backoff_seconds=1.0))
    for attempt in range(1, 6):
        base = 2 ** (attempt - 1)
        values = [dl.backoff(attempt) for _ in range(50)]
        assert all(base / 2 <= v <= base for v in values)
        assert len(set(values)) > 1  # jittered
    assert dl.backoff(30) <= 60.0
    dl.close()


def test_rate_limiter_spaces_requests() -> None:
    limiter = RateLimiter(50)
    start = time.monotonic()
    for _ in range(11):
        limiter.acquire()
    assert time.monotonic() - start >= 0.19


def test_politeness_and_concurrency_bounds(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.latency = 0.1
    rows = make_rows(12)
    fake_server.register(rows)
    source = fake_server.source(cache_dir=tmp_path / "c", concurrency=3, requests_per_second=1000)
    acquire_batch(rows, source, tmp_path / "m.ecsv")
    assert 2 <= fake_server.max_in_flight <= 3
    assert len(fake_server.connections) <= 3  # keep-alive connections are reused

    fake_server.reset_counts()
    source = fake_server.source(cache_dir=tmp_path / "c2", concurrency=8, requests_per_second=20)
    start = time.monotonic()
    acquire_batch(rows, source, tmp_path / "m2.ecsv")
    assert time.monotonic() - start >= 11 / 20 - 0.02  # 12 requests at 20/s


def test_only_allowed_hosts_are_contacted(fake_server: FakeServer, tmp_path: Path) -> None:
    rows = make_rows(3)
    source = fake_server.source(cache_dir=tmp_path / "c", max_failed_fraction=1.0)
    source["sdss"]["base_url"] = f"http://localhost:{fake_server.port}"  # same server, other name
    manifest = acquire_batch(rows, source, tmp_path / "m.ecsv")
    assert set(manifest["status"]) == {"failed"}
    assert set(manifest["reason"]) == {"host not allowed: localhost"}
    assert set(manifest["attempts"]) == {0}
    assert fake_server.total() == 0


def test_unsafe_ids_never_become_file_names(fake_server: FakeServer, tmp_path: Path) -> None:
    rows = make_rows(4)
    rows["id"] = rows["id"].astype(object)
    rows["id"][0] = "../escape"
    rows["id"][1] = "a/b"
    rows["id"][2] = "bad\nid"
    fake_server.register(rows)
    source = fake_server.source(cache_dir=tmp_path / "c", max_failed_fraction=1.0)
    manifest = acquire_batch(rows, source, tmp_path / "m.ecsv")
    assert list(manifest["status"]) == ["failed", "failed", "failed", "ok"]
    assert all("unsafe id" in r for r in manifest["reason"][:3])
    assert fake_server.total() == 1
    assert not (tmp_path / "escape.jpg").exists()


# -- resume -----------------------------------------------------------------------------------
def test_rerun_fetches_nothing_valid_again(fake_server: FakeServer, tmp_path: Path) -> None:
    rows = make_rows(6)
    fake_server.register(rows)
    source = fake_server.source(cache_dir=tmp_path / "c")
    first = acquire_batch(rows, source, tmp_path / "m1.ecsv")
    assert set(first["status"]) == {"ok"}
    # A file damaged behind our back is fetched again, the others are not.
    damaged = Path(first["path"][2])
    damaged.write_bytes(damaged.read_bytes()[:100])
    second = acquire_batch(rows, source, tmp_path / "m2.ecsv")
    assert list(second["status"]) == ["cached", "cached", "ok", "cached", "cached", "cached"]
    assert list(second["attempts"]) == [0, 0, 1, 0, 0, 0]
    assert fake_server.counts() == {gid: (2 if gid == "g2" else 1) for gid in rows["id"]}

    # A changed setting that changes pixels never reuses the old cutouts.
    source["sdss"]["width"] = 80
    third = acquire_batch(rows, source, tmp_path / "m3.ecsv")
    assert set(third["status"]) == {"ok"}
    assert Path(third["path"][0]).parent != Path(first["path"][0]).parent


CHILD = """
import json, sys
from astropy.table import Table
from galclust.acquire import acquire_batch
cfg = json.load(open(sys.argv[1]))
acquire_batch(Table.read(cfg["rows"], format="ascii.ecsv"), cfg["source"], cfg["manifest"])
"""


@pytest.mark.slow
def test_killed_run_resumes_fetching_only_what_is_missing(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.latency = 0.2
    rows = make_rows(24)
    fake_server.register(rows)
    cache = tmp_path / "cache"
    source = fake_server.source(cache_dir=cache, concurrency=2)
    rows.write(tmp_path / "rows.ecsv")
    (tmp_path / "cfg.json").write_text(json.dumps(
        {"rows": str(tmp_path / "rows.ecsv"), "source": source, "manifest": str(tmp_path / "m.ecsv")}
    ))
    (tmp_path / "child.py").write_text(CHILD)
    proc = subprocess.Popen([sys.executable, str(tmp_path / "child.py"), str(tmp_path / "cfg.json")],
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while len(final_files(cache)) < 6:
            assert proc.poll() is None, "the download finished before it could be killed"
            assert time.monotonic() < deadline, "no progress in the child"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "m.ecsv").exists()

    done = {p.stem for p in final_files(cache)}
    assert 6 <= len(done) < len(rows)
    assert_no_corrupt_files(cache)  # a kill never leaves a truncated cutout under a final name
    before = fake_server.counts()

    manifest = acquire_batch(rows, source, tmp_path / "m.ecsv")

    after = fake_server.counts()
    assert set(manifest["status"]) <= {"ok", "cached"}
    for row in manifest:
        gid = row["id"]
        if gid in done:
            assert row["status"] == "cached" and after.get(gid) == before.get(gid) == 1
        else:
            assert row["status"] == "ok"
            assert after[gid] == before.get(gid, 0) + 1  # fetched once more, only the missing
    assert_no_corrupt_files(cache)
