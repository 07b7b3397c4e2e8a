"""Jobs and parses import only what they use: scikit-learn without pandas (galclust.leanimports),
the workflow's parse without astropy, requests or scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO

SRC = str(REPO / "src")


def in_fresh_python(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {SRC!r})\n{code}"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_scikit_learn_runs_without_pandas_and_pandas_still_imports_afterwards():
    seen = in_fresh_python("""
import json
from galclust import leanimports
leanimports.install()
import numpy as np
from sklearn.cluster import KMeans
X = np.r_[np.zeros((5, 2)), np.ones((5, 2))]
labels = KMeans(2, n_init=1, random_state=0).fit_predict(X).tolist()
without = "pandas" in sys.modules
import pandas as pd
frame = KMeans(2, n_init=1, random_state=0).fit(pd.DataFrame(X, columns=["a", "b"]))
print(json.dumps({"labels": labels, "pandas_before": without, "names": frame.feature_names_in_.tolist()}))
""")
    assert seen["pandas_before"] is False
    assert len(set(seen["labels"][:5])) == 1 and seen["labels"][0] != seen["labels"][5]
    assert seen["names"] == ["a", "b"]  # scikit-learn still recognises DataFrames once pandas is imported


def test_the_hook_leaves_an_imported_pandas_alone():
    seen = in_fresh_python("""
import json
import pandas
from galclust import leanimports
leanimports.install()
import sklearn.utils.fixes as fixes
print(json.dumps({"pd": fixes.pd is pandas}))
""")
    assert seen["pd"] is True


def test_the_workflow_parse_imports_no_astropy_requests_or_scikit_learn():
    """What every snakemake call (SLURM jobs' own included) imports for the Snakefile: the plan
    and the registries, not the stages' libraries."""
    seen = in_fresh_python("""
import json
from galclust import paths
from galclust.workflow import Plan
from galclust.acquire.sources import SOURCES
heavy = ("astropy", "requests", "sklearn", "pandas", "zarr", "tensorflow", "matplotlib")
print(json.dumps(sorted(m for m in heavy if m in sys.modules) + sorted(SOURCES)))
""")
    assert seen == ["demo", "legacy", "local", "sdss"]
