"""Batch names (``b0000``, ``b0001``...): the catalog's rows in fixed-size runs, in order.

Apart from :mod:`galclust.catalog`, which reads tables, because every parse of the workflow
names the batches, a SLURM job's own parse included, which reads the facts file instead.
"""

from __future__ import annotations

import re


def batch_names(n_rows: int, batch_size: int) -> list[str]:
    """Names of the batches covering ``n_rows`` rows: ``b0000``, ``b0001``..."""
    n_batches = max(1, -(-n_rows // batch_size))
    return [f"b{i:04d}" for i in range(n_batches)]


def batch_index(name: str) -> int:
    """The batch number of a batch name."""
    if not re.fullmatch(r"b\d{4,}", name):
        raise ValueError(f"not a batch name: {name!r}")
    return int(name[1:])
