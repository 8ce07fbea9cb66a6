"""One benchmarking job on this machine at a time, even with several runner services."""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def machine_lock(path: str | None, say: Callable[[str], None] = print) -> Iterator[None]:
    """Hold an exclusive lock on `path` ('' or None: no lock) for the block.

    A runner service runs one job at a time; this lock also keeps two runners registered
    on the same machine from measuring on the same cores at once.
    """
    if not path:
        yield
        return
    import fcntl

    handle = open(path, "a+")  # noqa: SIM115 - held for the whole block
    try:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o666)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            say(f"Another benchmark job holds {path}; waiting for it to finish...")
            started = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            say(f"Got the machine after {time.monotonic() - started:.0f} s.")
        yield
    finally:
        handle.close()
