"""Seeded row samples: which rows a bounded-cost step (a knee, a spectrum, a map fit, a
threshold, a page's thumbnails) looks at when a set is too large to use whole."""

from __future__ import annotations

import numpy as np


def seeded_rows(n: int, size: int, seed: int) -> np.ndarray:
    """``min(n, size)`` distinct row numbers of ``range(n)``, drawn from ``seed``, in order."""
    return np.sort(np.random.default_rng(seed).choice(n, size=min(n, size), replace=False))
