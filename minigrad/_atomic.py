"""Atomic file writes: readers of the path see the old file or the complete new one, never a
torn write, even if the process dies mid-write.

The new contents go to a temporary file beside the path, named ``.<name>.<pid>.minigrad-tmp``
(``<pid>`` is the writing process), which is synced and then renamed over the path. A process
killed mid-write leaves its temporary behind; the next write or read of the same path
(``remove_stale_temporaries``) deletes the temporaries of processes that no longer run. The new
file keeps the mode of the file it replaces, or gets the umask's default for a new file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

_SUFFIX = ".minigrad-tmp"


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success sync it and rename it over ``path``."""
    path = Path(path)
    remove_stale_temporaries(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, _mode_for(path))  # (mkstemp creates the file owner-only)
        with os.fdopen(fd, mode, **open_kwargs) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The permission bits of the file being replaced, else 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0o022)  # (reading the umask means setting it: put it straight back)
        os.umask(umask)
        return 0o666 & ~umask


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporaries that writers of ``path`` killed mid-write left behind (those of
    processes still running are in use and kept); returns the paths removed."""
    path = Path(path)
    removed = []
    try:
        candidates = list(path.parent.glob(f".{_glob_escape(path.name)}.*{_SUFFIX}"))
    except OSError:
        return removed
    for candidate in candidates:
        pid = candidate.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
