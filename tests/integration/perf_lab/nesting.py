"""Whether this process runs inside a systemd-nspawn container, where the lab cannot
boot machines of its own.

The fresh-machine test runs ``make test`` inside such a container: there the lab's
tests skip (under CI=true too) instead of failing, and the fresh-machine test does not
start another container. Docker, which this project's CI machines may run in, is not
nspawn: the lab works there, so only nspawn counts.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# systemd writes the container manager's name here at boot (systemd/src/core/main.c)
CONTAINER_FILE = Path("/run/systemd/container")
NSPAWN = "systemd-nspawn"


def container_manager() -> str:
    """The container manager this process runs under ('' when none or unknown)."""
    try:
        name = CONTAINER_FILE.read_text().strip()
    except OSError:
        name = ""
    if name:
        return name
    if shutil.which("systemd-detect-virt") is None:
        return ""
    result = subprocess.run(
        ["systemd-detect-virt", "--container"], capture_output=True, text=True, check=False
    )
    # exit 1 and "none" when not in a container
    return result.stdout.strip() if result.returncode == 0 else ""


def inside_nspawn() -> bool:
    return container_manager() == NSPAWN


def nested_lab_reason() -> str | None:
    """Why the lab cannot boot machines here, or None when it can."""
    if inside_nspawn():
        return (
            "inside a systemd-nspawn container (the fresh-machine test's make test): "
            "the lab cannot boot nspawn machines inside one; the outer CI runs these tests"
        )
    return None
