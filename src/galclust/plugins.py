"""Plugins: modules named in the ``galclust.plugins`` entry-point group, imported once.

A plugin module registers what it adds when imported, e.g.::

    from galclust.methods import Method, register
    register(Method("mymethod", "k", "k", fit, memory_bytes, route, needs_k=True, schema={...}))

and its distribution declares ``[project.entry-points."galclust.plugins"] mine = "mypackage.module"``.
Entry points are found in every process (Snakemake and each job), so a plugin's method,
extractor or source is known to the schema, the workflow and the job scripts alike.
"""

from __future__ import annotations

import logging
from importlib import import_module
from importlib.metadata import entry_points

log = logging.getLogger(__name__)

GROUP = "galclust.plugins"
_loaded: set[str] = set()


def load_plugins() -> list[str]:
    """Import every plugin module not imported yet; returns the modules imported now.

    Re-entrant: a plugin importing a registry that loads plugins again finds itself marked.
    """
    new: list[str] = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.value in _loaded:
            continue
        _loaded.add(ep.value)
        import_module(ep.value)
        log.debug("plugin %s (%s) loaded", ep.name, ep.value)
        new.append(ep.value)
    return new
