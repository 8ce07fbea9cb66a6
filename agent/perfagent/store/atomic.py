"""Atomic file writes: the one place the agent replaces a file on disk.

Every results file, baseline and report is written through `atomic_write_bytes`, so a
reader (or a later run) sees either the old file or the complete new one, never a
half-written file, even when the writer is killed or the disk fills up.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

# Files are created 0600 by mkstemp; give them the usual mode (0666 minus the umask).
_DEFAULT_MODE = 0o666


def _umask() -> int:
    # os.umask can only be read by setting it; put it straight back.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace `path` with `data` atomically.

    The bytes go to a temporary file in the same directory (same file system, so the
    rename is atomic), are flushed and fsynced, then `os.replace` puts the file in
    place and the directory is fsynced so the rename itself survives a crash. On any
    failure the temporary file is removed and the old file is untouched.
    Raises OSError (the caller names the file in its own error).
    """
    target = Path(path)
    directory = target.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, _DEFAULT_MODE & ~_umask())
        os.replace(tmp_name, target)
    except BaseException:
        # BaseException: a KeyboardInterrupt mid-write must not leave the temp file behind.
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(directory)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - some file systems refuse to open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - e.g. some network file systems
        pass
    finally:
        os.close(fd)
