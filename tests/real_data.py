"""Where the tests find real pyperf files, and this project's own ones (tests/data/README.md).

The real files are never copied into the repository: they are read inside the
installed `pyperf` and `pyperformance` packages (both installed by `.[dev]`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from prerequisites import missing

OWN_DATA = Path(__file__).resolve().parent / "data"

# package -> folder of its real results files inside the installed package
_FOLDERS = {"pyperf": "tests", "pyperformance": "tests/data"}


def _package_dir(package: str) -> Path | None:
    # find_spec locates the package without importing it (pyperformance 1.0.2's
    # __init__ is harmless, but nothing of it is needed here).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def real_file(package: str, name: str) -> Path:
    """The real file `name` shipped by `package`; stops the test when it is absent."""
    root = _package_dir(package)
    if root is None:
        missing(f"{package} is not installed (pip install -e '.[dev]')")
    path = root / _FOLDERS[package] / name
    if not path.is_file():
        missing(f"{path} is not in the installed {package} (tests/data/README.md)")
    return path


def pyperf_file(name: str) -> Path:
    return real_file("pyperf", name)


def pyperformance_file(name: str) -> Path:
    return real_file("pyperformance", name)


def own_file(name: str) -> Path:
    return OWN_DATA / name
