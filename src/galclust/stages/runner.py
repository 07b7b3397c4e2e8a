"""What every ``scripts/<rule>.py`` does, once: run a stage function inside the job's log.

A script is its stage's call with keyword arguments taken from ``snakemake.input``,
``output``, ``params``, ``wildcards``, ``log`` and ``threads``; :func:`run` imports the stage's
module only (no TensorFlow or matplotlib in a job whose stage does not import them) inside
:func:`galclust.logs.job_log`, so the import, the stage's logging and any error reach the
rule's log file. Outputs stay atomic: the stages write them through :mod:`galclust.atomic`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

from .. import leanimports
from ..logs import job_log

#: The niceness of a job that does not feed the network's training. A network keeps only about
#: 1.3 cores busy, so on a workstation it shares them with the jobs that need no network; at
#: equal priority they slowed its training by half (demo: 165 s alone, 243 s shared). Niced,
#: they take what it leaves. Under SLURM each job has its own cores and this changes nothing.
BACKGROUND_NICENESS = 10


def run(smk: Any, stage: str, *, foreground: bool = False, **kwargs: Any) -> Any:
    """Call ``galclust.stages.<module>.<function>`` (``stage`` as ``"module:function"``) with
    ``kwargs`` in the log of the Snakemake job ``smk`` (its first log file). ``foreground``: the
    job is on the way to the training (catalog, cutouts, preprocessing, training) and keeps
    normal priority; any other job yields the CPU to those (:data:`BACKGROUND_NICENESS`)."""
    module, _, function = stage.partition(":")
    if not foreground:
        os.nice(BACKGROUND_NICENESS)
    leanimports.install()  # no pandas where only scikit-learn would import it
    with job_log(smk.log[0], smk.output):
        func = getattr(importlib.import_module(f"galclust.{module}"), function or module.rpartition(".")[2])
        return func(**kwargs)


def first(files: Sequence[str]) -> str | None:
    """The one file of an optional input (an empty list where the job has none), else None."""
    return files[0] if files else None
