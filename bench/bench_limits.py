"""Wall times that used to be upper-bound asserts in tests (a loaded machine broke them).

    .venv/bin/python bench/bench_limits.py

Prints each measurement next to the limit the test used to assert, and exits non-zero when
one is over it (for a quiet machine or CI's benchmark job, never for the test suite):

* ``demo.draw_catalog(100_000)``: under 5 s (~0.6 s on one core);
* ``demo.render`` per 424x424 image: under 0.1 s (~7 ms);
* ``plots.cluster_member_pdfs`` of 1,000 images in 10 clusters: under 20 s;
* ``acquire_batch`` of 15 galaxies answering every unrecoverable fault (fake server,
  read timeout 1 s, 3 attempts): under 15 s (the retries are bounded).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def demo_catalog() -> float:
    from galclust import demo

    return timed(lambda: demo.draw_catalog(100_000, seed=1))


def demo_render() -> float:
    from galclust import demo

    catalog = demo.draw_catalog(30, seed=1)
    demo.render(catalog[0])
    return timed(lambda: [demo.render(r) for r in catalog]) / len(catalog)


def member_pdfs() -> float:
    from galclust import plots

    rng = np.random.default_rng(2)
    imgs = rng.random((1000, 80, 80, 3), dtype=np.float32)
    labels = rng.integers(0, 10, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        return timed(lambda: plots.cluster_member_pdfs(imgs, labels, Path(tmp) / "m"))


def unrecoverable_acquire() -> float:
    from astropy.table import Table
    from fakeserver import FakeServer

    from galclust.acquire import acquire_batch

    faults = ["500", "503", "429", "reset", "truncate", "slow", "html", "text", "404", "wrongsize",
              "huge", "huge-declared", "redirect-away", "blank"]
    rows = Table({"id": [f"g{i}" for i in range(len(faults) + 1)],
                  "ra": 150 + 0.01 * np.arange(len(faults) + 1), "dec": 2 + 0.001 * np.arange(len(faults) + 1),
                  "size": np.full(len(faults) + 1, 3.0)})
    with FakeServer(retry_after=0, slow_seconds=2.5, huge_bytes=2_000_000) as server, \
            tempfile.TemporaryDirectory() as tmp:
        server.register(rows)
        for gid, fault in zip(rows["id"], faults):
            server.plan(gid, then=fault)
        source = server.source(cache_dir=Path(tmp) / "c", read_timeout=1.0, max_attempts=3,
                               max_bytes=200_000, max_failed_fraction=1.0)
        return timed(lambda: acquire_batch(rows, source, Path(tmp) / "m.ecsv"))


CHECKS = [("demo.draw_catalog(100000)", demo_catalog, 5.0),
          ("demo.render per image", demo_render, 0.1),
          ("cluster_member_pdfs 1000 images", member_pdfs, 20.0),
          ("acquire, 15 unrecoverable faults", unrecoverable_acquire, 15.0)]


def main() -> int:
    over = 0
    for name, fn, limit in CHECKS:
        seconds = fn()
        flag = "OVER" if seconds > limit else "ok"
        over += seconds > limit
        print(f"{name:36s} {seconds:8.3f} s   limit {limit:6.2f} s   {flag}", flush=True)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
