"""Catalogs from a SkyServer SQL search, cached so that a rerun never queries again.

``{base_url}/{release}/SkyServerWS/SearchTools/SqlSearch?cmd=<query>&format=csv``
answers a CSV table preceded by a ``#Table1`` line; that line is stripped and
the rest written atomically to the cache file, after it parsed as a table.

The request goes through the same :class:`~galclust.acquire.http.Downloader`
as the cutouts (host allow-list, retries, size cap) with a politeness limit of
at most one query per second per process: SkyServer asks for no more than 60
SQL queries a minute.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..atomic import write_text_atomic
from ..errors import GalclustError
from .http import Downloader, DownloadSettings, RateLimiter
from .services import sql_search_url
from .validate import Verdict, sniff

#: Shared by every query of this process, whatever Downloader makes it.
SQL_LIMITER = RateLimiter(1.0)


def _clean_csv(body: bytes) -> str:
    text = body.decode("utf-8-sig")
    lines = text.splitlines()
    if lines and lines[0].strip().startswith("#Table"):
        lines = lines[1:]
    return "\n".join(lines).strip("\n") + "\n"


def _check_csv(body: bytes, content_type: str | None) -> Verdict:
    from astropy.io import ascii as astropy_ascii

    kind = sniff(body)
    ctype = (content_type or "").split(";")[0].strip().lower()
    if kind == "html" or ctype == "text/html":
        return Verdict(False, "HTML body with status 200", retry=True)
    try:
        text = _clean_csv(body)
    except UnicodeDecodeError:
        return Verdict(False, "SQL result is not UTF-8 text", retry=True)
    first = text.splitlines()[0] if text.strip() else ""
    if not first or first.lower().startswith(("error", "exception")):
        # SkyServer reports SQL errors as text; asking again gives the same error.
        return Verdict(False, f"SQL search failed: {first[:200] or 'empty result'}", retry=False)
    if "#Table" in text:
        return Verdict(False, "SQL result holds several tables; send one SELECT", retry=False)
    try:
        table = astropy_ascii.read(text, format="csv", guess=False)
    except Exception as exc:  # astropy raises many types on a malformed table
        return Verdict(False, f"SQL result is not a CSV table ({exc})", retry=False)
    if len(table) == 0:
        return Verdict(False, "SQL query returned no rows", retry=False)
    return Verdict(True, data=text.encode("utf-8"))


def fetch_sql_catalog(
    query: str, source: Mapping[str, Any], cache_path: str | os.PathLike[str]
) -> Path:
    """Run ``query`` on SkyServer (``source.sdss`` base_url/release) unless ``cache_path`` exists.

    Returns ``cache_path``. Raises :class:`~galclust.errors.GalclustError` naming the
    URL's host and the reason when the query cannot be answered; nothing is cached then.
    """
    cache_path = Path(cache_path)
    if cache_path.is_file() and cache_path.stat().st_size > 0:
        return cache_path
    url = sql_search_url(query, source["sdss"])  # the validated block: defaults filled in the parse
    settings = DownloadSettings.from_config(source.get("download"))
    settings = replace(
        settings, concurrency=1, requests_per_second=min(settings.requests_per_second, 1.0)
    )
    with Downloader(settings, limiter=SQL_LIMITER) as dl:
        verdict, attempts, reason = dl.fetch(url, _check_csv)
    if verdict is None:
        raise GalclustError(
            f"SkyServer SQL search at {url.split('?')[0]} failed after {attempts} "
            f"attempt(s): {reason}; nothing was cached at {cache_path}"
        )
    assert verdict.data is not None
    write_text_atomic(cache_path, verdict.data.decode("utf-8"))
    return cache_path
