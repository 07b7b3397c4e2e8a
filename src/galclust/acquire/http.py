"""The downloader: a pooled requests.Session, a politeness limit, retries, a size cap.

:class:`Downloader` fetches many URLs with bounded concurrency and keeps only
bodies that pass a validation hook, writing each to a temporary name and
renaming it (:func:`galclust.atomic.write_bytes_atomic`), so a killed job never
leaves a truncated file under a final name.

Policy, one place:

* Only hosts in ``allowed_hosts`` are contacted; redirects are followed by hand
  so that each hop is checked too.
* Every request (retries included) first takes a slot from a :class:`RateLimiter`
  shared by all worker threads: the services see at most ``requests_per_second``.
* Timeouts, connection errors, truncated bodies, 5xx and 429 are retried with
  exponential backoff and jitter, at most ``max_attempts`` requests per item;
  ``Retry-After`` is honoured. Other 4xx are permanent.
* Bodies are streamed and abandoned once they exceed ``max_bytes``.
* Each item ends as a :class:`FetchResult` (status ``ok``/``cached``/``blank``/
  ``failed``, attempts, reason): one item's failure never raises.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from .. import __version__
from ..atomic import write_bytes_atomic
from .validate import Verdict

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

USER_AGENT = f"galclust/{__version__} (+https://github.com/; research cutout downloader)"

#: Backoff never grows past this many seconds (before jitter).
MAX_BACKOFF_S = 60.0
#: A server's Retry-After is honoured up to this many seconds.
MAX_RETRY_AFTER_S = 300.0
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class DownloadSettings:
    """The ``source.download`` block (schema defaults)."""

    concurrency: int = 8
    requests_per_second: float = 20.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_bytes: int = 50_000_000
    max_failed_fraction: float = 0.05
    allowed_hosts: tuple[str, ...] = ("skyserver.sdss.org", "www.legacysurvey.org")

    @classmethod
    def from_config(cls, block: Mapping[str, Any] | None) -> DownloadSettings:
        """Build from a ``download`` config block; missing keys take the schema defaults."""
        block = dict(block or {})
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(block) - known
        if unknown:
            raise ValueError(f"unknown download settings: {sorted(unknown)}")
        if "allowed_hosts" in block:
            block["allowed_hosts"] = tuple(str(h).lower() for h in block["allowed_hosts"])
        return cls(**block)


@dataclass
class FetchResult:
    """What happened to one item. ``path`` is where the file is (or would have been)."""

    id: str
    path: Path | None
    status: str  # ok | cached | blank | failed
    attempts: int = 0
    reason: str = ""


@dataclass(frozen=True)
class FetchItem:
    """One file to fetch: ``check(body, content_type)`` decides whether it is kept."""

    id: str
    url: str
    dest: Path
    check: Callable[[bytes, str | None], Verdict]
    #: Re-checks an existing ``dest`` (resume); None means "exists is enough".
    check_cached: Callable[[Path], Verdict] | None = None


class RateLimiter:
    """At most ``rate`` acquisitions per second across threads, evenly spaced (no bursts)."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not rate > 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / float(rate)
        self._next = -math.inf
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> float:
        """Block until this caller's slot; return the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Permanent(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _describe_connection_error(exc: BaseException) -> str:
    text = str(exc)
    low = text.lower()
    if "read timed out" in low or "timed out" in low:
        return "timeout (read)"
    if "reset" in low or "connection aborted" in low or "remotedisconnected" in low:
        return "connection reset"
    if "refused" in low:
        return "connection refused"
    return f"connection error ({text[:120]})"


class Downloader:
    """Fetch URLs politely and robustly; see the module docstring for the policy.

    One instance holds one ``requests.Session`` whose connection pool is sized to
    the concurrency, so worker threads reuse keep-alive connections. Use it as a
    context manager (or call :meth:`close`).
    """

    def __init__(
        self,
        settings: DownloadSettings,
        *,
        limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.limiter = limiter or RateLimiter(settings.requests_per_second)
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._sleep = sleep
        # requests loads here, not with the module: the workflow's parse imports the settings
        # and result types of this module for the source registry, in every snakemake call.
        import requests
        from requests.adapters import HTTPAdapter

        self.session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=4,
            pool_maxsize=max(settings.concurrency, 1),
            pool_block=True,
            max_retries=0,  # retries are ours: we count and space them
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT
        self._allowed = {h.lower() for h in settings.allowed_hosts}

    # -- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Downloader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- policy pieces -------------------------------------------------------------
    def check_host(self, url: str) -> None:
        """Raise unless ``url`` is http(s) to an allowed host (``host`` or ``host:port``)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise _Permanent(f"scheme not allowed: {parts.scheme or '(none)'}")
        host = (parts.hostname or "").lower()
        try:
            port = parts.port
        except ValueError:
            raise _Permanent("invalid port in URL") from None
        if host not in self._allowed and f"{host}:{port}" not in self._allowed:
            raise _Permanent(f"host not allowed: {host or '(none)'}")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential, jittered."""
        base = min(self.settings.backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_S)
        with self._rng_lock:
            # "Equal jitter": at least half the backoff, so retries never hammer,
            # but spread out so that workers that failed together do not retry together.
            return base / 2 + self._rng.uniform(0, base / 2)

    # -- one request ---------------------------------------------------------------
    def _get_once(self, url: str) -> tuple[bytes, str | None]:
        """One GET (following allowed redirects): the body and its Content-Type, or raise."""
        import requests

        s = self.settings
        for _hop in range(MAX_REDIRECTS + 1):
            self.check_host(url)
            self.limiter.acquire()
            try:
                resp = self.session.get(
                    url,
                    stream=True,
                    allow_redirects=False,
                    timeout=(s.connect_timeout, s.read_timeout),
                )
            except requests.exceptions.ConnectTimeout:
                raise _Retryable("timeout (connect)") from None
            except requests.exceptions.ReadTimeout:
                raise _Retryable("timeout (read)") from None
            except requests.exceptions.ConnectionError as exc:
                raise _Retryable(_describe_connection_error(exc)) from None
            except requests.exceptions.InvalidURL as exc:
                raise _Permanent(f"invalid URL ({exc})") from None
            with resp:
                if resp.is_redirect and resp.headers.get("Location"):
                    url = urljoin(url, resp.headers["Location"])
                    continue
                code = resp.status_code
                if code == 429 or 500 <= code <= 599:
                    raise _Retryable(
                        f"HTTP {code} {resp.reason or ''}".strip(),
                        parse_retry_after(resp.headers.get("Retry-After")),
                    )
                if code != 200:
                    # 4xx other than 429 (and odd 1xx/2xx/3xx answers): asking again will not help.
                    raise _Permanent(f"HTTP {code} {resp.reason or ''}".strip())
                return self._read_body(resp), resp.headers.get("Content-Type")
        raise _Permanent(f"more than {MAX_REDIRECTS} redirects")

    def _read_body(self, resp: requests.Response) -> bytes:
        import requests

        cap = self.settings.max_bytes
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise _Permanent(f"response larger than max_bytes ({declared} > {cap} bytes)")
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in resp.iter_content(chunk_size=65536):
                total += len(chunk)
                if total > cap:
                    # Stop reading; closing the response drops the connection.
                    raise _Permanent(f"response larger than max_bytes (> {cap} bytes)")
                chunks.append(chunk)
        except requests.exceptions.ChunkedEncodingError:
            expected = f" of {declared}" if declared else ""
            raise _Retryable(f"truncated body (got {total}{expected} bytes)") from None
        except requests.exceptions.ConnectionError as exc:
            raise _Retryable(_describe_connection_error(exc)) from None
        except requests.exceptions.ContentDecodingError:
            raise _Retryable("undecodable content encoding") from None
        body = b"".join(chunks)
        if declared and declared.isdigit() and len(body) < int(declared):
            raise _Retryable(f"truncated body (got {len(body)} of {declared} bytes)")
        return body

    # -- one item, with retries ----------------------------------------------------
    def fetch(
        self, url: str, check: Callable[[bytes, str | None], Verdict]
    ) -> tuple[Verdict | None, int, str]:
        """GET ``url`` until ``check`` accepts the body or the policy gives up.

        Returns (verdict or None, attempts, reason of the last failure).
        """
        try:
            self.check_host(url)  # refused before any request: 0 attempts
        except _Permanent as exc:
            return None, 0, exc.reason
        attempts = 0
        reason = ""
        while attempts < self.settings.max_attempts:
            attempts += 1
            delay: float
            try:
                body, ctype = self._get_once(url)
                verdict = check(body, ctype)
                if verdict.ok:
                    return verdict, attempts, verdict.reason
                reason = verdict.reason
                if not verdict.retry:
                    return None, attempts, reason
                delay = self.backoff(attempts)
            except _Permanent as exc:
                return None, attempts, exc.reason
            except _Retryable as exc:
                reason = exc.reason
                delay = self.backoff(attempts)
                if exc.retry_after is not None:
                    delay = max(delay, exc.retry_after)
            if attempts < self.settings.max_attempts:
                log.debug("%s: %s, retry %d in %.2fs", url, reason, attempts, delay)
                self._sleep(delay)
        return None, attempts, reason

    def fetch_item(self, item: FetchItem) -> FetchResult:
        """Resume-aware fetch of one file: reuse a valid ``dest``, else download, check, write atomically."""
        if item.dest.exists():
            cached = item.check_cached(item.dest) if item.check_cached else Verdict(True)
            if cached.ok:
                return FetchResult(item.id, item.dest, "blank" if cached.blank else "cached", 0,
                                   "blank frame" if cached.blank else "")
            # Not ours to trust (edited, or from an older galclust): fetch it again.
            log.warning("%s: cached file is invalid (%s); fetching again", item.dest, cached.reason)
        try:
            verdict, attempts, reason = self.fetch(item.url, item.check)
        except Exception as exc:  # a bug in a hook must not fail the other galaxies
            log.exception("%s: unexpected error", item.id)
            return FetchResult(item.id, item.dest, "failed", 0, f"internal error ({exc!r})")
        if verdict is None:
            return FetchResult(item.id, item.dest, "failed", attempts, reason)
        try:
            write_bytes_atomic(item.dest, verdict.data if verdict.data is not None else b"")
        except OSError as exc:
            return FetchResult(item.id, item.dest, "failed", attempts, f"cannot write file ({exc})")
        if verdict.blank:
            return FetchResult(item.id, item.dest, "blank", attempts, "blank frame")
        return FetchResult(item.id, item.dest, "ok", attempts, "")

    # -- many items ----------------------------------------------------------------
    def fetch_all(
        self,
        items: Iterable[FetchItem],
        *,
        on_result: Callable[[FetchResult], None] | None = None,
    ) -> list[FetchResult]:
        """Fetch ``items`` with ``concurrency`` worker threads; results in input order."""
        items = list(items)
        results: list[FetchResult | None] = [None] * len(items)
        workers = max(1, min(self.settings.concurrency, len(items)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="galclust-dl") as pool:
            futures = {pool.submit(self.fetch_item, it): i for i, it in enumerate(items)}
            for fut in as_completed(futures):
                res = fut.result()
                results[futures[fut]] = res
                if on_result is not None:
                    on_result(res)
        return [r for r in results if r is not None]


@dataclass
class Progress:
    """Logs ``done/total, rate, failures`` at most every ``interval`` seconds, and once at the end."""

    label: str
    total: int
    interval: float = 10.0
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("galclust.acquire"))
    done: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._start = time.monotonic()
        self._last = self._start
        self._lock = threading.Lock()

    def update(self, result: FetchResult) -> None:
        with self._lock:
            self.done += 1
            self.counts[result.status] = self.counts.get(result.status, 0) + 1
            now = time.monotonic()
            if now - self._last >= self.interval and self.done < self.total:
                self._last = now
                self.logger.info(self.line())

    def line(self) -> str:
        elapsed = time.monotonic() - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        return (
            f"{self.label}: {self.done}/{self.total} done ({parts or 'nothing yet'}), "
            f"{rate:.1f}/s, {self.counts.get('failed', 0)} failed, {elapsed:.1f}s"
        )

    def finish(self) -> None:
        self.logger.info(self.line())
