"""Download throughput of the acquire stage against the local fake SkyServer, vs a sequential loop.

    .venv/bin/python bench/bench_download.py [--n 100] [--latency 0.1]

The fake server (tests/fakeserver.py) answers every cutout request after a fixed
latency (100 ms by default) with a real 424x424 JPEG. The baseline is the plain
loop a script would write: one requests.Session, one GET after another, each body
written to a file. The acquire stage (galclust.acquire.acquire_batch, kind sdss,
a fresh cache each run) is timed at the schema's default concurrency and politeness
and at a few other settings. Nothing leaves 127.0.0.1.

Throughput is bounded by min(concurrency, requests_per_second x latency) times the
sequential rate: at 100 ms latency the defaults (16 workers, 100 requests/s) allow
up to 10x; the other rows show what the
downloader does when the limit is lifted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import requests
from astropy.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fakeserver import FakeServer  # noqa: E402

from galclust.acquire import acquire_batch, fill_source_defaults  # noqa: E402
from galclust.acquire.services import sdss_request  # noqa: E402


def make_rows(n: int, offset: float) -> Table:
    return Table({
        "id": [f"B{i:05d}" for i in range(n)],
        "ra": [10.0 + offset + 0.001 * i for i in range(n)],
        "dec": [5.0 + 0.001 * i for i in range(n)],
        "size": [4.0] * n,
    })


def sdss_block(server: FakeServer) -> dict:
    # The schema's SDSS defaults (424 x 424, 0.02 R_e per pixel), pointed at the fake server.
    return {**fill_source_defaults({"kind": "sdss"})["sdss"], "base_url": server.url}


def sequential(server: FakeServer, rows: Table, cache: Path) -> float:
    sdss = sdss_block(server)
    reqs = [sdss_request({c: r[c] for c in rows.colnames}, sdss, cache) for r in rows]
    cache.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with requests.Session() as session:
        for req in reqs:
            resp = session.get(req.url, timeout=(10, 60))
            resp.raise_for_status()
            req.dest.write_bytes(resp.content)
    return time.perf_counter() - start


def with_acquire(server: FakeServer, rows: Table, cache: Path, **download: float) -> float:
    source = {
        "kind": "sdss",
        "cache_dir": str(cache),
        "sdss": sdss_block(server),
        "download": {"allowed_hosts": ["127.0.0.1"], **download},
    }
    start = time.perf_counter()
    manifest = acquire_batch(rows, source, cache / "manifest.ecsv")
    elapsed = time.perf_counter() - start
    assert set(manifest["status"]) == {"ok"}, "every cutout must be fetched (fresh cache)"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="cutouts per run (default 100)")
    parser.add_argument("--latency", type=float, default=0.1, help="server latency per request, s")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)  # keep the progress lines out of the table

    dl = fill_source_defaults({"kind": "sdss"})["download"]
    conc, rps = dl["concurrency"], dl["requests_per_second"]
    runs = [
        (f"acquire, defaults (concurrency {conc}, {rps:g} req/s)", {}),
        (f"acquire, concurrency {conc}, no politeness limit", {"requests_per_second": 10_000}),
        ("acquire, concurrency 8, no politeness limit", {"concurrency": 8, "requests_per_second": 10_000}),
        ("acquire, concurrency 32, 200 req/s", {"concurrency": 32, "requests_per_second": 200}),
    ]
    results = []
    with FakeServer(latency=args.latency) as server, tempfile.TemporaryDirectory() as tmp:
        base = sequential(server, make_rows(args.n, 0.0), Path(tmp) / "seq")
        per_request = base / args.n
        results.append(("sequential loop (requests.Session)", base, 1.0))
        for i, (label, download) in enumerate(runs, start=1):
            rows = make_rows(args.n, float(i))
            server.register(rows)
            elapsed = with_acquire(server, rows, Path(tmp) / f"run{i}", **download)
            c = download.get("concurrency", conc)
            r = download.get("requests_per_second", rps)
            # Neither more than c requests at once nor more than r a second.
            results.append((label, elapsed, min(c, r * per_request)))

    print(f"\n{args.n} cutouts of 424x424 px, server latency {args.latency * 1000:.0f} ms per request "
          f"(sequential: {per_request * 1000:.0f} ms per cutout)\n")
    print(f"{'run':<52} {'seconds':>8} {'cutouts/s':>10} {'ratio':>7} {'bound':>7}")
    for label, elapsed, bound in results:
        print(f"{label:<52} {elapsed:8.2f} {args.n / elapsed:10.1f} {base / elapsed:6.2f}x {bound:6.2f}x")
    ratio = base / results[1][1]
    print(f"\nratio at the default concurrency and politeness: {ratio:.2f}x "
          f"(bound {results[1][2]:.2f}x; issue target >= 8x)")

if __name__ == "__main__":
    main()
