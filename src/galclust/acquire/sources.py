"""The source registry: one :class:`~galclust.acquire.base.Source` per ``source.kind``.

Adding a source: write a module with ``fetch`` and a ``Source`` entry, add one line below and
its block under ``source`` in the config schema (a plugin gives it as ``Source.schema``; its
name joins ``source.kind``'s enum).
"""

from __future__ import annotations

from ..registry import Registry
from .base import Source

SOURCES: Registry[Source] = Registry("source")
register = SOURCES.register
SOURCES.load(__package__ or "galclust.acquire", ("demo_source", "survey", "local_source"), "SOURCE")

__all__ = ["SOURCES", "Source", "register"]
