"""Reading a stage's settings with messages that name the config key: one helper for every
registry's modules (reducers today; clustering methods leave their checks to the schema)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import ConfigError

#: Config key prefix the messages name; the workflow puts reducers under ``features.<name>.reduce``.
KEY = "features.<name>.reduce"
#: Optional entry of ``params`` (not a user setting) where the workflow passes the real
#: prefix, e.g. ``"features.cnn.reduce"``, so that messages name the exact key.
KEY_PARAM = "_key"


def key_of(params: Mapping[str, Any]) -> str:
    """The config key prefix for messages: ``params['_key']`` or ``features.<name>.reduce``."""
    return str(params.get(KEY_PARAM) or KEY)


def int_param(params: Mapping[str, Any], key: str, default: int, *, minimum: int = 1) -> int:
    """An integer parameter ≥ ``minimum``; ConfigError naming ``features.<name>.reduce.<key>``."""
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"config key '{key_of(params)}.{key}': expected an integer >= {minimum}, got {value!r}")
    return int(value)


def float_param(params: Mapping[str, Any], key: str, default: float, *, minimum: float = 0.0) -> float:
    """A number ≥ ``minimum``; ConfigError naming ``features.<name>.reduce.<key>``."""
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value < minimum:
        raise ConfigError(f"config key '{key_of(params)}.{key}': expected a number >= {minimum}, got {value!r}")
    return float(value)
