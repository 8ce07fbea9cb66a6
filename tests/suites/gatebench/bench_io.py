"""I/O-bound work: files written, read back and listed (system calls, the page cache)."""

import os
import shutil
import tempfile

import perfagent
from slowdown import scaled

ROUNDTRIPS = scaled(20, "io.file_roundtrip")
LISTINGS = scaled(20, "io.list_and_stat")
PAYLOAD = bytes(range(256)) * 64  # 16 KiB


def _directory() -> str:
    return tempfile.mkdtemp(prefix="perfagent-gatebench-io-")


def _remove(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


@perfagent.benchmark(setup=_directory, teardown=_remove)
def bench_file_roundtrip(directory: str) -> int:
    """Write a 16 KiB file, read it back (open/write/close/read through the page cache)."""
    size = 0
    path = os.path.join(directory, "payload.bin")
    for _ in range(ROUNDTRIPS):
        with open(path, "wb") as handle:
            handle.write(PAYLOAD)
        with open(path, "rb") as handle:
            size += len(handle.read())
    return size


def _tree() -> str:
    directory = _directory()
    for i in range(50):
        with open(os.path.join(directory, f"f{i:03d}.txt"), "w") as handle:
            handle.write("x" * i)
    return directory


@perfagent.benchmark(setup=_tree, teardown=_remove)
def bench_list_and_stat(directory: str) -> int:
    """List a directory of 50 files and stat each (metadata system calls)."""
    total = 0
    for _ in range(LISTINGS):
        for entry in os.scandir(directory):
            total += entry.stat().st_size
    return total
