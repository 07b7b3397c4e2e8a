"""``python -m galclust <command>``: command-line tools on a finished run.

Commands: ``similar`` (:mod:`galclust.cli_similar`). User errors print one line,
``galclust <command>: <message naming the id or path>``, and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import cli_similar
from .errors import GalclustError


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m galclust")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_similar.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (GalclustError, FileNotFoundError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"galclust {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
