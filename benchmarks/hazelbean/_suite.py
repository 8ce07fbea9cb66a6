"""The hazelbean suite's defaults and the facts recorded with its results.

Sizing (README.md, "Settings", has the measurements): a run is PROCESSES worker
processes, each importing hazelbean once (about 3.4 s on the development VM) and then
measuring all 16 benchmarks, so a process costs about 5-6 s of start, import and
setups plus what it times. Measured on the development VM, the spread between
processes is 1.5-4 times the spread of values within a process: a process buys far more
precision than a value. PROCESSES = 4 gives twice the independent samples of the old
engine's 2; VALUES = 7 keeps the time spent in timed calls over two thirds of the wall
time (overhead factor 1.47 measured), at 0.14-0.27 of the old engine's wall time.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
from pathlib import Path

PROCESSES = 4
VALUES = 7
WARMUPS = 1
# Each value is at least this long (pyperf calibrates the inner loop count to reach it);
# pyperf's own default, which every benchmark here exceeds in a few calls at most.
MIN_TIME = 0.1

MEASURED_PACKAGE = "hazelbean"


def metadata() -> dict[str, str]:
    """Which hazelbean was measured: its version and, from a git checkout, its commit.

    Keys: hazelbean_version, hazelbean_path (the package directory), and for a git
    checkout hazelbean_commit and hazelbean_dirty (uncommitted changes in the package);
    for a hazelbean pip installed from a git URL, hazelbean_commit from pip's record.
    Reads package metadata and the package's location without importing hazelbean,
    because this runs in the agent's parent process, which imports no hazelbean.
    """
    facts: dict[str, str] = {}
    package_dir = _package_dir(MEASURED_PACKAGE)
    version = _distribution_version(MEASURED_PACKAGE)
    if package_dir is not None:
        facts["hazelbean_path"] = str(package_dir)
        facts.update(_git_facts(package_dir))
        if version is None and "hazelbean_commit" in facts:
            # A checkout on sys.path but never installed has no distribution metadata;
            # its tags say the version, as setuptools_scm would at build time.
            version = _git(package_dir, "describe", "--tags", "--always")
    if "hazelbean_commit" not in facts:
        commit = _installed_from_commit(MEASURED_PACKAGE)
        if commit:
            facts["hazelbean_commit"] = commit
    facts["hazelbean_version"] = version or "unknown"
    # numpy's, GDAL's and pygeoprocessing's versions are in the agent's own software
    # record (perfagent_software), beside the fingerprint.
    return facts


def _distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _installed_from_commit(name: str) -> str | None:
    """The commit pip installed from, for `pip install git+URL@REF` (PEP 610 direct_url.json)."""
    try:
        direct_url = importlib.metadata.distribution(name).read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return None
    if not direct_url:
        return None
    try:
        commit = json.loads(direct_url).get("vcs_info", {}).get("commit_id")
    except (ValueError, AttributeError):
        return None
    return commit if isinstance(commit, str) else None


def _package_dir(name: str) -> Path | None:
    """The directory a top-level package would be imported from (without running it)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).resolve().parent


def _git(package_dir: Path, *args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(package_dir), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def _git_facts(package_dir: Path) -> dict[str, str]:
    """hazelbean's commit when its files are tracked by a git checkout.

    A package installed into a virtualenv that happens to sit inside some other
    repository (this one's .venv, say) is not a checkout of hazelbean: its files are
    untracked there, so `ls-files` tells the two apart.
    """
    if _git(package_dir, "ls-files", "--error-unmatch", "__init__.py") is None:
        return {}
    commit = _git(package_dir, "rev-parse", "HEAD")
    if not commit:
        return {}
    facts = {"hazelbean_commit": commit}
    # Uncommitted changes under the package mean the commit alone does not say what ran.
    status = _git(package_dir, "status", "--porcelain", "--untracked-files=no", "--", ".")
    facts["hazelbean_dirty"] = "true" if status else "false"
    return facts
