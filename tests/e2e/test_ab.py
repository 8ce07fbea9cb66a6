"""`perfagent ab` end to end: two environments, one suite, alternating worker processes.

The two "environments" are two directories holding a module `ablib` of different
speed, each behind its own interpreter wrapper (a script that puts its directory on
PYTHONPATH and runs this venv's Python): what two virtualenvs with two commits of the
code under test look like to ab. Wall-clock verdicts use large changes (3x); the 10%
proof uses instruction counts, which repeat exactly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gate_helpers import last_line, perfagent
from prerequisites import missing

SUITE = """\
def bench_work() -> int:
    import ablib  # the code under test, from the side's environment

    return ablib.work()


def bench_steady() -> int:
    import ablib

    return ablib.steady()
"""
SUITE_SETTINGS = "PROCESSES = 3\nVALUES = 3\nWARMUPS = 1\nMIN_TIME = 0.01\n"
LIBRARY = """\
WORK = {work}


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def work() -> int:
    return _spin(WORK)


def steady() -> int:
    return _spin(2000)
"""


def environment(root: Path, name: str, work: int) -> Path:
    """A virtualenv whose `ablib` does `work` iterations; returns its python.

    As a project's two checkouts installed side by side: the agent's worker code
    reaches the venv through PYTHONPATH (the engine adds it), the code under test is
    the venv's own.
    """
    directory = root / name
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True)
    [site] = directory.glob("lib/python*/site-packages")
    (site / "ablib.py").write_text(LIBRARY.format(work=work))
    return directory / "bin" / "python"


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    directory = tmp_path / "absuite"
    directory.mkdir()
    (directory / "bench_lib.py").write_text(SUITE)
    (directory / "_suite.py").write_text(SUITE_SETTINGS)
    return directory


def ab(suite: Path, base: Path, head: Path, out: Path, *extra: str):  # type: ignore[no-untyped-def]
    return perfagent(
        "ab", "--suite", suite, "--base-python", base, "--head-python", head,
        "--output-dir", out, *extra, cwd=suite.parent, timeout=900,
    )  # fmt: skip


def verdicts(out: Path) -> dict[str, str]:
    [analysis] = (out / "analysis").glob("regression_check_*.json")
    return {b["name"]: b["verdict"] for b in json.loads(analysis.read_text())["benchmarks"]}


def test_a_threefold_slowdown_between_environments_is_a_regression(
    suite: Path, tmp_path: Path
) -> None:
    base = environment(tmp_path, "base", 2000)
    head = environment(tmp_path, "head", 6000)
    done = ab(suite, base, head, tmp_path / "out", "--pairs", "8", "--threshold", "25")
    assert done.returncode == 1, done.stdout + done.stderr
    assert last_line(done).startswith("Performance regression > 25% detected in")
    assert "lib.work" in last_line(done)
    assert verdicts(tmp_path / "out")["lib.work"] == "regression"
    # The same artifacts as a check, and the base side's raw results beside the head's.
    out = tmp_path / "out"
    for pattern in (
        "reports/*.txt",
        "exports/*.csv",
        "results/benchmarks_*.json",
        "results/ab_base_*.json",
    ):
        assert list(out.glob(pattern)), pattern
    assert (out / "summary.md").is_file()
    analysis = json.loads(next((out / "analysis").glob("*.json")).read_text())
    work = next(b for b in analysis["benchmarks"] if b["name"] == "lib.work")
    assert work["resolution"]["design"] == "ab"
    assert "perfagent.reference" not in verdicts(out)


def test_identical_environments_pass(suite: Path, tmp_path: Path) -> None:
    base = environment(tmp_path, "base", 2000)
    head = environment(tmp_path, "head", 2000)
    # Generous settings: this must pass on a loaded shared machine too.
    done = ab(suite, base, head, tmp_path / "out", "--pairs", "8", "--threshold", "50")
    assert done.returncode == 0, done.stdout + done.stderr
    assert last_line(done).startswith("Performance within acceptable limits")
    assert "regression" not in verdicts(tmp_path / "out").values()


def test_two_pairs_are_inconclusive_never_a_regression(suite: Path, tmp_path: Path) -> None:
    base = environment(tmp_path, "base", 2000)
    head = environment(tmp_path, "head", 6000)
    # Without confirmation pairs: by default the threefold suspect would get 2 more pairs.
    done = ab(suite, base, head, tmp_path / "out", "--pairs", "2", "--confirm-runs", "0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(verdicts(tmp_path / "out").values()) == {"inconclusive"}


def test_a_suspect_gets_more_pairs_before_it_fails(suite: Path, tmp_path: Path) -> None:
    base = environment(tmp_path, "base", 2000)
    head = environment(tmp_path, "head", 6000)
    # Two pairs cannot decide (inconclusive); the suspect's two more pairs can.
    done = ab(suite, base, head, tmp_path / "out", "--pairs", "2", "--confirm-runs", "1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "measuring 2 more pairs of them (1 of 1): lib.work" in done.stdout + done.stderr
    analysis = json.loads(next((tmp_path / "out" / "analysis").glob("*.json")).read_text())
    work = next(b for b in analysis["benchmarks"] if b["name"] == "lib.work")
    assert work["verdict"] == "regression"
    assert work["confirmation_runs"] == 1


def test_instruction_counts_prove_ten_percent(suite: Path, tmp_path: Path) -> None:
    from perfagent.measure.instructions import unavailable_reason

    reason = unavailable_reason()
    if reason:
        missing(reason)
    base = environment(tmp_path, "base", 2000)
    head = environment(tmp_path, "head", 2200)  # 10% more work in the code under test
    args = ("--metric", "instructions", "--pairs", "3", "--threshold", "5")
    done = ab(suite, base, head, tmp_path / "out", *args)
    assert done.returncode == 1, done.stdout + done.stderr
    found = verdicts(tmp_path / "out")
    # 10% more work is seen beyond a 5% threshold; the benchmark whose code did not
    # change, run by the same two environments, is not a regression: the A/A case.
    assert found["lib.work"] == "regression"
    assert found["lib.steady"] != "regression"


def test_a_missing_interpreter_is_a_usage_error(suite: Path, tmp_path: Path) -> None:
    done = ab(suite, tmp_path / "nope" / "python", Path(sys.executable), tmp_path / "out")
    assert done.returncode == 2
    assert "not an executable Python interpreter" in done.stderr


def test_the_gate_finds_the_entry_point() -> None:
    from perfagent.gate.relative import require_relative
    from perfagent.judge.ab import gate_entry

    assert require_relative().__name__ == gate_entry.__name__
