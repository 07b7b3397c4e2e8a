"""One registry type for methods, extractors, sources and reducers: name -> entry.

Each registry module (``galclust/methods/__init__.py``, ``extractors/__init__.py``,
``reducers/__init__.py``, ``acquire/sources.py``) holds one :class:`Registry`, fills it with
its built-in modules and then with plugins (:mod:`galclust.plugins`). Everything else asks an
entry what it needs (its schema block, its figures, its assigner ...), never tests its name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from importlib import import_module
from typing import Protocol, TypeVar

from .errors import ConfigError


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class UnknownName(KeyError, ConfigError):
    """A name no entry has; the message names it and the known ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Mapping[str, T]):
    """Entries by name, in registration order; ``what`` names the sort in messages ("method")."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def register(self, entry: T) -> T:
        """Add (or replace: a plugin may override a built-in) an entry; returns it."""
        self._entries[entry.name] = entry
        return entry

    def load(self, package: str, modules: Sequence[str], attribute: str) -> None:
        """Register ``<package>.<module>.<attribute>`` (an entry, or a tuple of entries) of every
        built-in module, then the plugins' (after the built-ins, so a plugin may replace one)."""
        from .plugins import load_plugins

        for module in modules:
            value = getattr(import_module(f"{package}.{module}"), attribute)
            for entry in value if isinstance(value, tuple) else (value,):
                self.register(entry)
        load_plugins()

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownName(f"unknown {self.what} '{name}' (known: {', '.join(self._entries)})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def where(self, **flags: object) -> list[str]:
        """Names of the entries whose attributes have these values (``where(builtin=True)``)."""
        return [n for n, e in self._entries.items() if all(getattr(e, k) == v for k, v in flags.items())]

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {', '.join(self._entries)})"


__all__ = ["Registry", "UnknownName"]
