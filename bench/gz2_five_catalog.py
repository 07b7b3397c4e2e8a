"""The training catalog of the shipped encoder: ``gz2_five/labels.csv`` plus a column saying which
galaxies are also in ``gz2_spirals`` (left out of training, so the cross-set benchmark judges the
encoder on galaxies it never saw).

    python bench/gz2_five_catalog.py [--realdata ../shared/realdata] [--out resources/gz2_five_catalog.csv]
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", type=Path, default=Path("../shared/realdata"))
    parser.add_argument("--out", type=Path, default=Path("resources/gz2_five_catalog.csv"))
    args = parser.parse_args()
    with open(args.realdata / "gz2_spirals" / "labels.csv", newline="") as fh:
        spirals = {row["id"] for row in csv.DictReader(fh)}
    with open(args.realdata / "gz2_five" / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "label", "split", "in_gz2_spirals"])
        for row in rows:
            writer.writerow([row["id"], row["label"], row["split"], "yes" if row["id"] in spirals else "no"])
    os.replace(tmp, args.out)
    shared = sum(row["id"] in spirals for row in rows)
    print(f"{args.out}: {len(rows)} galaxies, {shared} also in gz2_spirals")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
