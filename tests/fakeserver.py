"""A fake SkyServer + Legacy Survey viewer on 127.0.0.1, with a fault plan, for tests and benchmarks.

It speaks the URL patterns of the real services and answers with real image bodies
of the requested size::

    /{release}/SkyServerWS/ImgCutout/getjpeg?ra=&dec=&scale=&width=&height=   JPEG width x height
    /{release}/SkyServerWS/SearchTools/SqlSearch?cmd=...&format=csv           "#Table1" + CSV
    /viewer/cutout.jpg?ra=&dec=&layer=&pixscale=&size=                         JPEG size x size
    /viewer/cutout.fits?ra=&dec=&layer=&pixscale=&size=&bands=griz            FITS cube (bands, size, size)

(release: dr17 or dr18). Point a config at it with ``source.sdss.base_url = server.url``,
``source.legacy.base_url = server.url + "/viewer"`` and ``download.allowed_hosts = ["127.0.0.1"]``
(:meth:`FakeServer.source` builds such a block).

Galaxies are recognised by position: :meth:`FakeServer.register` maps (ra, dec) to ids
(unknown positions are counted under ``"{ra},{dec}"``; SQL requests under ``"sql"``).

Fault plan, per id and per attempt -- ``server.plan("g1", "500", "503", then="ok")`` answers
g1's first request with a 500, the second with a 503, every later one normally;
``server.plan("g2", then="404")`` answers 404 forever. Faults:

==================  ==========================================================================
``ok``              a normal answer
``500``             HTTP 500
``503`` / ``429``   HTTP 503 / 429 with ``Retry-After: server.retry_after`` (seconds)
``reset``           the connection is reset (TCP RST) without an answer
``truncate``        status 200, full Content-Length, half the body, then the connection closes
``slow``            sleeps ``server.slow_seconds`` before answering (past the client's timeout)
``html``            status 200, an HTML error page (text/html)
``text``            status 200, a plain-text error message
``404``             HTTP 404
``blank``           a valid image of the requested size, every pixel 0 (outside the footprint)
``wrongsize``       a valid image of half the requested size
``huge``            status 200, no Content-Length, ``server.huge_bytes`` bytes streamed
``huge-declared``   status 200, ``Content-Length: 10**10``, a few bytes, then closes
``redirect-away``   302 to ``http://forbidden.invalid/`` (a host never on the allow-list)
``redirect-self``   302 to the same URL with ``&hop=1`` (on the allow-list: followed)
``sqlerror``        (SQL) status 200, text ``ERROR: ...``
==================  ==========================================================================

Every request is counted: ``server.count("g1")`` (all endpoints), ``server.total()``,
``server.log`` (id, path, fault) in arrival order, ``server.max_in_flight`` (most requests
answered at once) and ``server.connections`` (distinct client sockets, to see pooling). ``server.latency`` adds a fixed delay
to every answer (the benchmark uses 0.1 s).

Use it as a context manager (``with FakeServer() as server: ...``) or via the pytest
fixture :func:`fake_server` (``from fakeserver import fake_server`` in a test module).
"""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

RELEASES = ("dr17", "dr18")

DEFAULT_SQL_CSV = (
    "plateifu,mangaid,objra,objdec,nsa_elpetro_th50_r\n"
    "8485-1901,1-209232,232.544703894,48.6902009334,3.2\n"
    "7443-12703,12-193481,229.525575871,42.7458424664,5.1\n"
    "8077-6101,1-38166,42.6289830,0.3855810,2.7\n"
)


def _galaxy(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A float image in [0, 1]: an elliptical blob on noisy sky."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    cx, cy = width / 2, height / 2
    r2 = ((x - cx) / (0.12 * width)) ** 2 + ((y - cy) / (0.08 * height)) ** 2
    img = np.exp(-r2) + 0.03 * rng.standard_normal((height, width))
    return np.clip(img, 0, 1)


@lru_cache(maxsize=256)
def jpeg_bytes(width: int, height: int, blank: bool = False, seed: int = 0) -> bytes:
    """A real JPEG of the given size (cached: the server answers many requests)."""
    from PIL import Image

    if blank:
        arr = np.zeros((height, width, 3), dtype=np.uint8)
    else:
        g = _galaxy(width, height, seed)
        tint = 0.5 + 0.5 * np.random.default_rng(seed).random(2)  # colour differs per position
        arr = (np.stack([g, tint[0] * g, tint[1] * g], axis=-1) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


@lru_cache(maxsize=64)
def fits_bytes(size: int, bands: str = "griz", blank: bool = False, seed: int = 0) -> bytes:
    """A real FITS cube (len(bands), size, size) float32 with BANDn keywords, as the viewer sends."""
    from astropy.io import fits

    if blank:
        data = np.zeros((len(bands), size, size), dtype=np.float32)
    else:
        g = _galaxy(size, size, seed).astype(np.float32)
        # the colour differs per position too, so cutouts of different galaxies differ
        tint = 0.5 + 0.5 * np.random.default_rng(seed).random(len(bands))
        data = np.stack([g * (0.5 + 0.3 * i) * tint[i] for i in range(len(bands))]).astype(np.float32)
    hdu = fits.PrimaryHDU(data)
    for i, b in enumerate(bands):
        hdu.header[f"BAND{i}"] = b
    buf = io.BytesIO()
    hdu.writeto(buf)
    return buf.getvalue()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients can pool connections
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body would wait
    # for the client's delayed ACK (~40 ms per request), which no real service adds.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet tests
        pass

    # -- plumbing ----------------------------------------------------------------------
    def _send(self, code: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send a TCP RST: the client sees "connection reset".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        fs = self.server.fake
        parts = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        segs = [s for s in parts.path.split("/") if s]
        try:
            endpoint, gid = self._route(segs, q)
        except _BadRequest as exc:
            fs._record("?", parts.path, "400")
            self._send(400, str(exc).encode(), "text/plain")
            return
        fault = fs._next_fault(gid, parts.path)
        fs._enter(self.client_address)
        try:
            if fs.latency:
                time.sleep(fs.latency)
            self._answer(endpoint, fault, q)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client went away (timeout, size cap): fine
        finally:
            fs._leave()

    def _route(self, segs: list[str], q: dict[str, str]) -> tuple[str, str]:
        fs = self.server.fake
        if len(segs) == 4 and segs[0] in RELEASES and segs[1:] == ["SkyServerWS", "ImgCutout", "getjpeg"]:
            for key in ("ra", "dec", "scale", "width", "height"):
                if key not in q:
                    raise _BadRequest(f"missing parameter {key}")
            w, h = int(q["width"]), int(q["height"])
            if not (64 <= w <= 2048 and 64 <= h <= 2048) or float(q["scale"]) <= 0:
                raise _BadRequest("width/height/scale out of range")
            return "sdss", fs.id_at(q["ra"], q["dec"])
        if len(segs) == 4 and segs[0] in RELEASES and segs[1:] == ["SkyServerWS", "SearchTools", "SqlSearch"]:
            if "cmd" not in q or q.get("format") != "csv":
                raise _BadRequest("need cmd and format=csv")
            with fs._lock:
                fs.sql_queries.append(q["cmd"])
            return "sql", "sql"
        if segs[:1] == ["viewer"] and len(segs) == 2 and segs[1] in ("cutout.jpg", "cutout.fits"):
            for key in ("ra", "dec", "layer", "pixscale", "size"):
                if key not in q:
                    raise _BadRequest(f"missing parameter {key}")
            if not 64 <= int(q["size"]) <= 3000:
                raise _BadRequest("size out of range")
            return ("legacy-fits" if segs[1] == "cutout.fits" else "legacy-jpg"), fs.id_at(q["ra"], q["dec"])
        raise _BadRequest("no such endpoint")

    def _image(self, endpoint: str, q: dict[str, str], *, blank: bool = False, half: bool = False) -> tuple[bytes, str]:
        f = 2 if half else 1
        # A different sky noise and tint per position, so cutouts of different galaxies differ.
        seed = abs(hash((q.get("ra"), q.get("dec")))) % 2**32
        if endpoint == "sdss":
            return jpeg_bytes(int(q["width"]) // f, int(q["height"]) // f, blank, seed), "image/jpeg"
        size = int(q["size"]) // f
        if endpoint == "legacy-fits":
            return fits_bytes(size, q.get("bands", "griz"), blank, seed), "image/fits"
        return jpeg_bytes(size, size, blank, seed), "image/jpeg"

    def _answer(self, endpoint: str, fault: str, q: dict[str, str]) -> None:
        fs = self.server.fake
        if fault == "reset":
            self._reset()
            return
        if fault == "slow":
            time.sleep(fs.slow_seconds)
            fault = "ok"
        if fault in ("500", "404"):
            self._send(int(fault), b"error\n", "text/plain")
        elif fault in ("503", "429"):
            self._send(int(fault), b"busy, retry later\n", "text/plain", {"Retry-After": str(fs.retry_after)})
        elif fault == "html":
            self._send(200, b"<!DOCTYPE html><html><body><h1>Server Error</h1></body></html>", "text/html; charset=utf-8")
        elif fault == "text":
            self._send(200, b"Error: something went wrong on the server\n", "text/plain")
        elif fault == "sqlerror":
            self._send(200, b"ERROR: Invalid object name 'nosuchtable'.\n", "text/plain")
        elif fault in ("redirect-away", "redirect-self"):
            loc = "http://forbidden.invalid/x" if fault == "redirect-away" else self.path + "&hop=1"
            self._send(302, b"", "text/plain", {"Location": loc})
        elif fault == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            chunk = b"\xff\xd8\xff" + b"\0" * 65533
            sent = 0
            while sent < fs.huge_bytes:
                self.wfile.write(chunk)
                sent += len(chunk)
        elif fault == "huge-declared":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(10**10))
            self.end_headers()
            self.wfile.write(b"\xff\xd8\xff" + b"\0" * 1000)
            self.close_connection = True
        elif endpoint == "sql":
            self._send(200, ("#Table1\n" + fs.sql_csv).encode(), "text/plain")
        elif fault == "truncate":
            body, ctype = self._image(endpoint, q)
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True  # an orderly close: the client sees a short body
        elif fault in ("ok", "blank", "wrongsize"):
            body, ctype = self._image(endpoint, q, blank=fault == "blank", half=fault == "wrongsize")
            self._send(200, body, ctype)
        else:
            raise ValueError(f"unknown fault {fault!r}")


class _BadRequest(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler asleep in a "slow" fault must not block shutdown
    allow_reuse_address = True
    fake: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        # Clients that time out, hit their size cap or are killed reset connections: expected here.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class FakeServer:
    """The fake services; see the module docstring. Thread-safe counters; start()/stop() or ``with``."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        slow_seconds: float = 2.0,
        retry_after: float | int = 1,
        huge_bytes: int = 5_000_000,
        sql_csv: str = DEFAULT_SQL_CSV,
    ) -> None:
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.huge_bytes = huge_bytes
        self.sql_csv = sql_csv
        self.sql_queries: list[str] = []
        self.log: list[tuple[str, str, str]] = []
        #: Client (address, port) pairs seen: one per TCP connection, so pooling shows as few.
        self.connections: set[tuple[str, int]] = set()
        #: Most requests being answered at the same time (bounded concurrency shows here).
        self.max_in_flight = 0
        self._in_flight = 0
        self._counts: Counter[str] = Counter()
        self._plans: dict[str, tuple[list[str], str]] = {}
        self._ids: dict[tuple[float, float], str] = {}
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> FakeServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL for ``source.sdss.base_url`` (``/viewer`` appended for Legacy)."""
        return f"http://127.0.0.1:{self.port}"

    def source(self, kind: str = "sdss", cache_dir: str = "cutouts", **download: Any) -> dict[str, Any]:
        """A ``source`` config block pointing at this server, with fast test-friendly download settings
        and the schema's defaults filled in (as the workflow's jobs get it)."""
        dl = {
            "concurrency": 4,
            "requests_per_second": 1000,
            "connect_timeout": 2,
            "read_timeout": 2,
            "max_attempts": 4,
            "backoff_seconds": 0.01,
            "allowed_hosts": ["127.0.0.1"],
        }
        dl.update(download)
        from galclust.acquire import fill_source_defaults

        return fill_source_defaults({
            "kind": kind,
            "cache_dir": str(cache_dir),
            "sdss": {"base_url": self.url, "release": "dr17", "width": 64, "height": 64,
                     "scale": {"mode": "fixed", "arcsec_per_pixel": 0.396}},
            "legacy": {"base_url": self.url + "/viewer", "size": 64},
            "download": dl,
        })

    # -- galaxies and faults ---------------------------------------------------------------
    @staticmethod
    def _key(ra: Any, dec: Any) -> tuple[float, float]:
        return round(float(ra), 6), round(float(dec), 6)

    def register(self, galaxies: Iterable[Any]) -> None:
        """Map positions to ids: rows with ``id``, ``ra``, ``dec`` (a Table) or (id, ra, dec) tuples."""
        with self._lock:
            for g in galaxies:
                gid, ra, dec = (g["id"], g["ra"], g["dec"]) if not isinstance(g, tuple) else g
                self._ids[self._key(ra, dec)] = str(gid)

    def id_at(self, ra: str, dec: str) -> str:
        with self._lock:
            return self._ids.get(self._key(ra, dec), f"{ra},{dec}")

    def plan(self, gid: str, *faults: str, then: str = "ok") -> None:
        """Answer ``gid``'s requests with ``faults`` in turn, then with ``then`` forever."""
        with self._lock:
            self._plans[str(gid)] = (list(faults), then)

    def _next_fault(self, gid: str, path: str) -> str:
        with self._lock:
            n = self._counts[gid]
            self._counts[gid] += 1
            faults, then = self._plans.get(gid, ([], "ok"))
            fault = faults[n] if n < len(faults) else then
            self.log.append((gid, path, fault))
            return fault

    def _enter(self, client: tuple[str, int]) -> None:
        with self._lock:
            self.connections.add(client)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _record(self, gid: str, path: str, fault: str) -> None:
        with self._lock:
            self._counts[gid] += 1
            self.log.append((gid, path, fault))

    # -- counters --------------------------------------------------------------------------
    def count(self, gid: str) -> int:
        """Requests received for ``gid`` so far."""
        with self._lock:
            return self._counts[str(gid)]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self.log.clear()
            self.connections.clear()
            self.max_in_flight = 0


def fake_server_fixture():  # pragma: no cover - wrapped below
    with FakeServer() as server:
        yield server


try:
    import pytest

    fake_server = pytest.fixture(fake_server_fixture, name="fake_server")
    fake_server.__doc__ = "A started :class:`FakeServer` (function scope)."
except ImportError:  # the benchmark imports this module without pytest
    pass


def main() -> None:
    """Run the server by hand: ``python tests/fakeserver.py`` prints its URL and serves until ^C."""
    with FakeServer() as s:
        print(s.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
