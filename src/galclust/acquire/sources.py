"""The source registry: one :class:`~galclust.acquire.base.Source` per ``source.kind``.

Adding a source: write a module with ``fetch`` and a ``Source`` entry, add one line below and
its block under ``source`` in the config schema (with its name in ``source.kind``'s enum).
"""

from __future__ import annotations

from .base import Source
from .demo_source import SOURCE as DEMO
from .local_source import SOURCE as LOCAL
from .survey import LEGACY, SDSS

SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    """Add a source (a plugin's, or a test's toy) to the registry; returns it."""
    SOURCES[source.name] = source
    return source


for _source in (DEMO, SDSS, LEGACY, LOCAL):
    register(_source)

from ..plugins import load_plugins  # noqa: E402  (after the built-ins: plugins may replace them)

load_plugins()

__all__ = ["SOURCES", "Source", "register"]
