"""Do two runs give the same clusterings? Compare the labels of every clustering two workdirs share.

    .venv/bin/python bench/same_labels.py BEFORE_WORKDIR AFTER_WORKDIR

For each ``results/clustering/<feature set>/<clustering>/labels.ecsv`` present in both, the
``id`` and ``label`` columns must be identical (the tables' provenance metadata may differ).
Prints one line per clustering that differs, the clusterings only one side has, and a total;
exits 1 if any shared clustering differs. Used to check that a speed-up changed no result
(bench/results/demo_stages.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from astropy.table import Table


def labelings(workdir: Path) -> dict[str, Path]:
    root = workdir / "results" / "clustering"
    return {str(p.parent.relative_to(root)): p for p in sorted(root.glob("*/*/labels.ecsv"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    before, after = labelings(args.before), labelings(args.after)
    shared = sorted(before.keys() & after.keys())
    differ = []
    for name in shared:
        a, b = Table.read(before[name]), Table.read(after[name])
        same = (np.array_equal(np.asarray(a["id"], str), np.asarray(b["id"], str))
                and np.array_equal(np.asarray(a["label"]), np.asarray(b["label"])))
        if not same:
            differ.append(name)
            print(f"differs: {name}")
    for name in sorted(before.keys() - after.keys()):
        print(f"only in {args.before}: {name}")
    for name in sorted(after.keys() - before.keys()):
        print(f"only in {args.after}: {name}")
    print(f"{len(shared) - len(differ)} of {len(shared)} shared clusterings identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
