"""The hazelbean suite through the perfagent console script: it lists, and every
benchmark runs once and produces values (a smoke test: no timing is asserted).

Needs the hazelbean environment (`make hazelbean-env`). In CI (CI=true) a missing
hazelbean is a failure, since `make test` installs it first; on a developer machine
without it the test is skipped and says how to get it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest
from perfagent.measure.reference import NAME as REFERENCE
from prerequisites import missing

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "benchmarks" / "hazelbean"
PERFAGENT = Path(sys.executable).parent / "perfagent"
MIN_BENCHMARKS = 12

pytestmark = pytest.mark.hazelbean


def perfagent(
    *args: str, cwd: Path, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the console script with no PERFAGENT_* settings from the caller's environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PERFAGENT_", "GITHUB_"))}
    environ.update(env or {})
    return subprocess.run(
        [str(PERFAGENT), *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def require_hazelbean() -> None:
    if importlib.util.find_spec("hazelbean") is not None:
        return
    message = "hazelbean is not installed in this environment; run `make hazelbean-env`"
    missing(message)


def listed_benchmarks(cwd: Path) -> list[str]:
    done = perfagent("list", "--suite", str(SUITE), cwd=cwd, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_lists_at_least_twelve_benchmarks(tmp_path: Path) -> None:
    # Listing imports the benchmark modules but not hazelbean: it works without the env.
    names = listed_benchmarks(tmp_path)
    assert len(names) >= MIN_BENCHMARKS, names
    assert len(set(names)) == len(names)
    categories = {name.split(".", 1)[0] for name in names}
    assert categories >= {
        "path_resolution",
        "project_setup",
        "tiling",
        "raster_io",
        "raster_workflows",
        "arrays",
    }


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_every_benchmark_runs_once_and_produces_values(tmp_path: Path) -> None:
    require_hazelbean()
    names = listed_benchmarks(tmp_path)
    results = tmp_path / "smoke.json"
    # The benchmarks' temporary workspaces go here, where the test can see what is left.
    # Workers get TEMP and TMPDIR from the agent's environment; Python's tempfile reads both.
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    # The fewest worker processes the agent allows: one process, one value, no warmup.
    done = perfagent(
        "run",
        "--suite",
        str(SUITE),
        "--processes",
        "1",
        "--values",
        "1",
        "--warmups",
        "0",
        "--quiet",
        "-o",
        str(results),
        cwd=tmp_path,
        timeout=1700,
        env={"TMPDIR": str(temp_root), "TEMP": str(temp_root)},
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"

    suite = pyperf.BenchmarkSuite.load(str(results))
    # Every benchmark, and the machine's reference workload every time run measures.
    assert sorted(suite.get_benchmark_names()) == sorted([*names, REFERENCE])
    for bench in suite.get_benchmarks():
        values = bench.get_values()
        assert values, f"{bench.get_name()} produced no values"
        assert all(value > 0 for value in values), (bench.get_name(), values)

    # The suite's metadata() says which hazelbean was measured.
    metadata = suite.get_benchmarks()[0].get_metadata()
    assert metadata.get("perfagent_suite_hazelbean_version", "unknown") != "unknown"
    assert "perfagent_suite_hazelbean_path" in metadata

    # Every benchmark's workspace was removed by its teardown.
    leftovers = sorted(path.name for path in temp_root.glob("perfagent-hazelbean-*"))
    assert not leftovers, leftovers
