"""The hazelbean suite's shape, without hazelbean: names, docstrings, defaults sized for
the 5-minute goal, and the metadata that says which hazelbean was measured."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from perfagent.measure.suite import load_suite

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "benchmarks" / "hazelbean"
# DEVELOPERS.md: importing hazelbean takes about 3.4 s, in every worker process.
HAZELBEAN_IMPORT_SECONDS = 3.4
SUITE_TIME_GOAL_SECONDS = 300


def load_suite_settings() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("hazelbean_suite_settings", SUITE / "_suite.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_repository(path: Path) -> None:
    path.mkdir(parents=True)
    git(path, "init", "-q")
    git(path, "config", "user.email", "bench@example.invalid")
    git(path, "config", "user.name", "bench")


def test_at_least_twelve_benchmarks_each_saying_what_it_stands_for() -> None:
    suite = load_suite(SUITE)
    assert len(suite.benchmarks) >= 12
    for bench in suite.benchmarks:
        # The first line names the user-facing operation and, in parentheses, the
        # hazelbean function behind it: "Load a GeoTIFF into a numpy array (hb.as_array)."
        assert bench.description, f"{bench.name} has no docstring"
        assert re.search(r"\((hb\.|ProjectFlow\.)?[A-Za-z_]+[a-z]\)", bench.description), (
            f"{bench.name}: the first docstring line names no hazelbean function in "
            f"parentheses: {bench.description!r}"
        )


def test_listing_the_suite_does_not_import_hazelbean() -> None:
    # The agent's parent process loads every benchmark module to list and select them.
    code = (
        "import sys; from perfagent.measure.suite import load_suite; "
        f"load_suite({str(SUITE)!r}); print('hazelbean' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_defaults_leave_room_for_measuring_within_the_time_goal() -> None:
    """Each worker process imports hazelbean once and measures every benchmark: the
    imports of a run take well under the goal (here: at most 20% of it), and there are
    at least as many processes as the old per-benchmark engine's 2."""
    suite = load_suite(SUITE)
    processes = suite.defaults.processes
    assert processes is not None and processes >= 2  # the decision needs a between-process spread
    import_seconds = processes * HAZELBEAN_IMPORT_SECONDS
    assert import_seconds <= 0.2 * SUITE_TIME_GOAL_SECONDS


def test_metadata_without_hazelbean_says_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_suite_settings()
    monkeypatch.setattr(settings, "_package_dir", lambda name: None)
    monkeypatch.setattr(settings, "_distribution_version", lambda name: None)
    monkeypatch.setattr(settings, "_installed_from_commit", lambda name: None)
    assert settings.metadata() == {"hazelbean_version": "unknown"}


def test_metadata_of_a_hazelbean_checkout_has_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "hazelbean_dev"
    make_repository(checkout)
    package = checkout / "hazelbean"
    package.mkdir()
    (package / "__init__.py").write_text("")
    git(checkout, "add", ".")
    git(checkout, "commit", "-q", "-m", "hazelbean")
    git(checkout, "tag", "v2.1.0")
    commit = git(checkout, "rev-parse", "HEAD")

    settings = load_suite_settings()
    monkeypatch.setattr(settings, "_package_dir", lambda name: package)
    monkeypatch.setattr(settings, "_distribution_version", lambda name: None)
    facts = settings.metadata()
    assert facts["hazelbean_commit"] == commit
    assert facts["hazelbean_dirty"] == "false"
    assert facts["hazelbean_version"] == "v2.1.0"  # from the tag: never installed
    assert facts["hazelbean_path"] == str(package)

    (package / "__init__.py").write_text("SLOWER = True\n")
    assert settings.metadata()["hazelbean_dirty"] == "true"


def test_metadata_of_an_installed_hazelbean_inside_another_repository_has_no_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As with this project's own .venv: site-packages sits inside a git work tree
    # without being tracked by it.
    project = tmp_path / "perf-runner"
    make_repository(project)
    (project / "README.md").write_text("perf-runner\n")
    git(project, "add", "README.md")
    git(project, "commit", "-q", "-m", "readme")
    package = project / ".venv" / "lib" / "site-packages" / "hazelbean"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")

    settings = load_suite_settings()
    monkeypatch.setattr(settings, "_package_dir", lambda name: package)
    monkeypatch.setattr(settings, "_distribution_version", lambda name: "2.1.0")
    monkeypatch.setattr(settings, "_installed_from_commit", lambda name: None)
    assert settings.metadata() == {"hazelbean_version": "2.1.0", "hazelbean_path": str(package)}


def test_metadata_of_a_hazelbean_pip_installed_from_git_has_that_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site_packages = tmp_path / "site-packages"
    package = site_packages / "hazelbean"
    package.mkdir(parents=True)
    dist_info = site_packages / "hazelbean-2.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: hazelbean\nVersion: 2.1.0\n")
    commit = "0123456789abcdef0123456789abcdef01234567"
    (dist_info / "direct_url.json").write_text(
        '{"url": "https://github.com/jandrewjohnson/hazelbean_dev", '
        f'"vcs_info": {{"vcs": "git", "commit_id": "{commit}"}}}}'
    )
    monkeypatch.syspath_prepend(str(site_packages))
    importlib.invalidate_caches()

    settings = load_suite_settings()
    monkeypatch.setattr(settings, "_package_dir", lambda name: package)
    facts = settings.metadata()
    assert facts["hazelbean_commit"] == commit
    assert "hazelbean_dirty" not in facts
