"""Atomic output: write to a temporary sibling, then rename into place.

A job killed half-way never leaves a truncated file or store under the final
name, so Snakemake (and people) only ever see complete outputs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _owner_tag() -> str:
    # host and pid of the writer, in the temporary name: a later writer can tell a leftover
    # of a killed process (SIGKILL runs no cleanup) from a live sibling's work in progress.
    host = "".join(c if c.isalnum() or c == "-" else "_" for c in socket.gethostname())[:40]
    return f"{host}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(final: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary siblings of ``final`` left by dead writers on this host.

    A writer killed between creating its temporary and renaming it leaves
    ``.<stem>.<host>-<pid>.<random>.tmp<suffix>`` behind; nothing else would ever remove it.
    Temporaries of live processes, or of other hosts (a shared filesystem), are kept.
    """
    final = Path(final)
    host = _owner_tag().rsplit("-", 1)[0]
    removed = []
    for path in final.parent.glob(f".{final.stem}.{host}-*.tmp{final.suffix}"):
        tag = path.name[len(f".{final.stem}.{host}-"):].split(".", 1)[0]
        if tag.isdigit() and not _alive(int(tag)):
            with contextlib.suppress(FileNotFoundError):
                _remove(path)
            removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike[str], *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it to ``final`` on success.

    On an exception the temporary path is removed and ``final`` is untouched.
    ``directory=True`` is for directory outputs such as Zarr stores; the
    temporary directory is not created, so writers that create it may do so.
    The suffix is kept so that writers choosing a format by extension still work.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.stem}.{_owner_tag()}.", suffix=f".tmp{final.suffix}", dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"writer produced nothing at {tmp} for {final}")
        if directory and final.exists():
            _remove(final)
        os.replace(tmp, final)
    except BaseException:
        _discard(tmp)
        raise


def _discard(tmp: Path, attempts: int = 5) -> None:
    """Remove a failed writer's temporary without ever hiding the error that failed it.

    A writer's background threads (zarr's asynchronous chunk writes) may still be adding
    files while it is removed ("Directory not empty"): retry briefly; what is left then is
    removed by the next writer of the same output (:func:`remove_stale_temporaries`).
    """
    for attempt in range(attempts):
        try:
            _remove(tmp)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05 * (attempt + 1))


def write_bytes_atomic(final: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``final`` atomically, fsynced before the rename."""
    with atomic_path(final) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def write_text_atomic(final: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``final`` atomically."""
    write_bytes_atomic(final, text.encode("utf-8"))
