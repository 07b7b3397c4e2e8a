"""The prologue every script shares: galclust from this checkout (also inside per-rule conda
environments), and its runner (galclust.stages.runner: the stage called inside the job's log).

Snakemake puts scripts/ on the path of the scripts it runs, so a script imports this first.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from galclust.stages.runner import first, run  # noqa: E402

__all__ = ["first", "run"]
