"""The one rule for galaxy ids: they become file names, so they are checked first.

Used by the catalog check (every row, before any job) and by every source before an id
becomes part of a path.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from .errors import CatalogError

#: Longest id accepted as a file name (bytes, UTF-8); file systems allow 255 with the extension.
MAX_ID_BYTES = 200


def safe_id(value: Any) -> str:
    """Return ``value`` as a string that is safe to use as a file name, or raise CatalogError.

    Rejected: empty or blank ids, ``/`` and ``\\``, ``..``, a leading ``.`` (hidden
    files, ``.``), control and format characters (newlines, NUL, bidi overrides),
    whitespace and ids longer than ``MAX_ID_BYTES`` bytes. Ids come from
    catalogs and file names we do not control, so they are checked before they
    ever become part of a path.
    """
    text = str(value)
    problem = id_problem(text)
    if problem:
        raise CatalogError(f"galaxy id {text!r} cannot be used as a file name: {problem}")
    return text


def id_problem(text: str) -> str | None:
    """Why ``text`` cannot be a galaxy id (None when it can)."""
    problem = None
    if not text or not text.strip():
        problem = "empty"
    elif text != text.strip():
        problem = "leading or trailing whitespace"
    elif any(ch.isspace() for ch in text):
        problem = "contains whitespace"
    elif "/" in text or "\\" in text:
        problem = "contains a path separator"
    elif ".." in text:
        problem = "contains '..'"
    elif text.startswith("."):
        problem = "starts with '.'"
    elif any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in text):
        problem = "contains a control character"
    elif len(text.encode("utf-8")) > MAX_ID_BYTES:
        problem = f"longer than {MAX_ID_BYTES} bytes"
    return problem


def is_safe_id(value: object) -> bool:
    """True when ``value`` can be used as a galaxy id (a file name on every platform)."""
    return id_problem(str(value)) is None
