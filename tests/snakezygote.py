"""A process that has imported Snakemake and forks one child per ``snakemake`` command line.

The suite runs Snakemake about two hundred times, mostly dry runs and small runs, and a fresh
interpreter spends more CPU importing Snakemake and galclust's workflow package than a dry run
spends on its own work. This server imports them once; each run is a fresh fork of it (a clean,
single-threaded process, never of the pytest process, which may hold TensorFlow's threads), so
runs share no state. The child calls the entry point of ``python -m snakemake`` with the given
arguments, environment and working directory, its standard output and error going to files.

Protocol, one JSON object per line: a request ``{"argv", "cwd", "env", "out", "err"}`` on
standard input is answered by ``{"pid": ...}`` when the child starts and ``{"status": ...}``
when it ends (the exit status; minus the signal number when a signal ended it). The server
ends at the end of its input. tests/conftest.py's ``snakemake`` is its client.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

#: what the server imports once: the command line and what the Snakefile's parse imports
PRELOAD = ("snakemake.cli", "galclust.workflow", "galclust.paths")


def _child(request: dict) -> int:
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, key in ((1, "out"), (2, "err")):
        target = os.open(request[key], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    argv = [str(a) for a in request["argv"]]
    sys.argv = [os.path.join(os.path.dirname(sys.executable), "snakemake"), *argv]
    from snakemake.cli import main

    try:
        main(argv)
    except SystemExit as done:
        code = done.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    except BaseException:  # noqa: BLE001  (what an uncaught error does to `python -m snakemake`)
        traceback.print_exc()
        return 1
    return 0


def serve() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    # the protocol gets its own descriptor; what anything prints goes to standard error
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _child(request)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        replies.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"status": os.waitstatus_to_exitcode(status)}) + "\n")


if __name__ == "__main__":
    serve()
