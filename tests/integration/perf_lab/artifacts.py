"""What the doubles serve and the roles install in a lab: the runner-shaped
release tarball, the micromamba double, and a wheelhouse of the agent's
dependencies for hosts without PyPI."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

from perf_lab import debian_root

DOUBLES = Path(__file__).resolve().parent.parent / "doubles"
REPO = Path(__file__).resolve().parents[3]

RUNNER_VERSION = "2.329.0"
MICROMAMBA_VERSION = "2.0.5-0"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def runner_release(serve_dir: Path) -> tuple[str, str]:
    """Pack doubles/runner_release as the runner's release tarball.
    Returns its path below serve_dir and its sha256."""
    relative = (
        f"actions/runner/releases/download/v{RUNNER_VERSION}"
        f"/actions-runner-linux-x64-{RUNNER_VERSION}.tar.gz"
    )
    target = serve_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    source = DOUBLES / "runner_release"
    with tarfile.open(target, "w:gz") as tar:
        for path in sorted(source.rglob("*")):
            tar.add(path, arcname=f"./{path.relative_to(source)}", recursive=False)
    return relative, sha256(target)


def micromamba(serve_dir: Path) -> tuple[str, str]:
    """Serve the micromamba double where the release binary would be."""
    relative = (
        f"mamba-org/micromamba-releases/releases/download/{MICROMAMBA_VERSION}/micromamba-linux-64"
    )
    target = serve_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DOUBLES / "micromamba_double.py", target)
    digest = sha256(target)
    # The real release publishes a bare-hash .sha256 file beside the binary.
    target.with_name(target.name + ".sha256").write_text(digest + "\n")
    return relative, digest


def agent_dependencies() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return sorted(project["dependencies"])


def wheelhouse() -> Path:
    """Wheels of the agent's dependencies for the hosts' Python 3.11, downloaded
    once per dependency list into the cache directory."""
    requirements = agent_dependencies()
    key = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:16]
    target = debian_root.cache_dir() / f"wheelhouse-py311-{key}"
    if (target / ".complete").exists():
        return target
    partial = target.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--dest",
            str(partial),
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--platform",
            "manylinux_2_17_x86_64",
            "--platform",
            "manylinux2014_x86_64",
            "--platform",
            "manylinux_2_28_x86_64",
            "--platform",
            "linux_x86_64",
            *requirements,
        ],
        check=True,
    )
    (partial / ".complete").write_text("\n".join(requirements) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def source_snapshot(target: Path) -> Path:
    """A copy of what the agent's wheel is built from, so that a run measures one
    state of the tree (and leaves no build files in the working tree)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    shutil.copytree(REPO / "agent", target / "agent", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, target / name)
    return target
