"""Send a job's logging, warnings and stray output to its Snakemake log file."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence

from .errors import GalclustError

#: errors of the storage, not of the code: no space, file too large, quota, read-only, permission
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


@contextlib.contextmanager
def _fds_to(fh) -> Iterator[None]:  # type: ignore[no-untyped-def]
    # Native libraries (TensorFlow, BLAS) write to file descriptors 1 and 2
    # directly, so the descriptors are redirected, not just sys.stdout/stderr.
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def _storage_error(exc: BaseException) -> OSError | None:
    """The out-of-space, file-size or permission error behind ``exc`` (through its causes and
    contexts: writers in threads re-raise them wrapped), or None."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in _STORAGE_ERRNOS:
            return e
        todo += [e.__cause__, e.__context__, *getattr(e, "exceptions", ())]
    return None


@contextlib.contextmanager
def job_log(path: str | os.PathLike[str] | None, outputs: Sequence[str] = ()) -> Iterator[logging.Logger]:
    """Route logging, warnings and output to ``path`` for the duration of a job.

    A :class:`GalclustError` (bad input) ends the job with one clear line, in the
    log and on the terminal; so does a full disk, a file-size limit or a read-only
    folder (naming the job's first output); anything else with its traceback in the log.
    Either way the job exits non-zero.
    """
    logger = logging.getLogger("galclust")
    if path is None:
        logging.basicConfig(level=logging.INFO)
        yield logger
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a", buffering=1) as fh:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        message = None
        try:
            with _fds_to(fh):
                try:
                    yield logger
                except GalclustError as exc:
                    message = str(exc)
                    print(f"ERROR: {message}", file=sys.stderr)
                except Exception as exc:
                    storage = _storage_error(exc)
                    if storage is None:
                        traceback.print_exc()
                        raise
                    # the disk, not the code: one line naming the output and the cause
                    where = str(outputs[0]) if outputs else (storage.filename or "an output")
                    message = f"{where}: {storage.strerror or storage} (cannot write it; is the disk full?)"
                    traceback.print_exc()
        finally:
            root.removeHandler(handler)
        if message is not None:
            print(f"galclust: {message} (log: {path})", file=sys.stderr)
            raise SystemExit(1)
