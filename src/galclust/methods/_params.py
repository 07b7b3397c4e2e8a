"""Reading a clustering job's params with messages that name the config key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..arrays import as_rows  # noqa: F401  (re-exported for the modules here)
from ..errors import ConfigError


def int_param(params: Mapping[str, Any], method: str, key: str, default: int | None, *, minimum: int = 1) -> int:
    """``params[key]`` (or ``default``) as an int ≥ minimum; ConfigError naming ``clustering.<method>.<key>``."""
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"config key 'clustering.{method}.{key}': expected an integer >= {minimum}, got {value!r}")
    return int(value)


def float_param(params: Mapping[str, Any], method: str, key: str, default: float, *, minimum: float = 0.0) -> float:
    """``params[key]`` (or ``default``) as a float > minimum; ConfigError naming the key."""
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value > minimum:
        raise ConfigError(f"config key 'clustering.{method}.{key}': expected a number > {minimum}, got {value!r}")
    return float(value)
