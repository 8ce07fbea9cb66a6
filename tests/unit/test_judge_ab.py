"""judge/ab.py: a paired run becomes a check-shaped outcome (no measuring here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyperf
import pytest
from perfagent.config import load_settings
from perfagent.errors import ExitCode, UsageError
from perfagent.judge.ab import outcome_of, sides_from
from perfagent.measure.pairs import PairedRun, Sides
from perfagent.measure.reference import NAME as REFERENCE


def _suite(means: dict[str, list[float]]) -> pyperf.BenchmarkSuite:
    benchmarks = [
        pyperf.Benchmark(
            [
                pyperf.Run([m], metadata={"name": name, "unit": "second"}, collect_metadata=False)
                for m in values
            ]
        )
        for name, values in means.items()
    ]
    return pyperf.BenchmarkSuite(benchmarks)


def _run(base: dict[str, list[float]], head: dict[str, list[float]]) -> PairedRun:
    return PairedRun(
        base=_suite(base),
        head=_suite(head),
        means={name: (base[name], head[name]) for name in base},
        first=("base", "head") * (len(next(iter(base.values()))) // 2),
        seed=7,
        seconds=1.0,
    )


def test_a_slower_head_is_a_regression_and_the_reference_is_not_judged() -> None:
    base = {"a.x": [1.0, 1.02, 0.98, 1.01], REFERENCE: [1.0, 1.0, 1.0, 1.0]}
    head = {"a.x": [2.0, 2.05, 1.97, 2.02], REFERENCE: [3.0, 3.0, 3.1, 2.9]}
    outcome = outcome_of(_run(base, head), load_settings({}), Sides(), "demo")
    assert [d.name for d in outcome.comparison.decisions] == ["a.x"]
    assert outcome.exit_code == ExitCode.REGRESSION
    assert outcome.resolutions["a.x"].design == "ab"
    assert "ab: 4 pairs of worker processes" in outcome.notes[0]
    assert "A/A run" in outcome.notes[1]  # the same interpreter on both sides
    assert REFERENCE not in outcome.base_samples


def test_identical_sides_pass() -> None:
    same = {"a.x": [1.0, 1.02, 0.98, 1.01]}
    outcome = outcome_of(
        _run(same, {"a.x": [1.01, 0.99, 1.0, 1.0]}), load_settings({}), Sides(), "demo"
    )
    assert outcome.exit_code == ExitCode.OK


def test_sides_default_to_this_interpreter_and_reject_a_missing_one(tmp_path: Path) -> None:
    sides = sides_from(None, None)
    assert sides.base_python == sides.head_python == str(Path(sys.executable).absolute())
    with pytest.raises(UsageError, match="not an executable Python interpreter"):
        sides_from(str(tmp_path / "missing"), None)
