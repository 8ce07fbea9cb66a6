"""judge/machine_drift.py and measure/reference.py: the machine drift guard."""

from __future__ import annotations

import math

import numpy as np
import pyperf
import pytest
from perfagent.judge.drift import from_history
from perfagent.judge.machine_drift import TOLERANCE, reference_drift, without_reference
from perfagent.judge.stats import DRIFT_HISTORY
from perfagent.measure import reference
from perfagent.results import Samples


def samples(
    rng: np.random.Generator, level: float, runs: int = 2, cv: float = 0.01
) -> dict[str, Samples]:
    groups = {f"run{i}": list(level * np.exp(rng.normal(0.0, cv, 4))) for i in range(runs)}
    return {
        reference.NAME: Samples(reference.NAME, "second", groups),
        "suite.bench": Samples("suite.bench", "second", groups),
    }


def test_a_slower_machine_is_named_with_its_change() -> None:
    rng = np.random.default_rng(0)
    drift = reference_drift(samples(rng, 1e-3), samples(rng, 1.3e-3))
    assert drift is not None and drift.moved
    assert 25 < drift.change_percent < 35
    text = drift.describe()
    assert "the machine changed" in text and "slower" in text and reference.NAME in text
    assert drift.to_dict()["moved"] is True


def test_the_same_machine_has_not_moved() -> None:
    rng = np.random.default_rng(1)
    drift = reference_drift(samples(rng, 1e-3), samples(rng, 1e-3))
    assert drift is not None and not drift.moved


def test_a_change_within_the_tolerance_is_not_drift() -> None:
    rng = np.random.default_rng(2)
    drift = reference_drift(samples(rng, 1e-3, cv=0.001), samples(rng, 1.02e-3, cv=0.001))
    assert drift is not None
    assert drift.low > 1.0  # real, but small
    assert drift.change_percent < TOLERANCE and not drift.moved


def _runs(rng: np.random.Generator, level: float, runs: int, drift: float) -> dict[str, Samples]:
    """Runs whose levels wander by `drift` (log sd), four processes each at 1% noise."""
    groups = {
        f"run{i}": list(level * math.exp(rng.normal(0.0, drift)) * np.exp(rng.normal(0, 0.01, 4)))
        for i in range(runs)
    }
    return {reference.NAME: Samples(reference.NAME, "second", groups)}


def test_the_store_history_lets_a_two_run_baseline_see_a_slower_machine() -> None:
    # A 2-run baseline and a 1-run check give one degree of freedom between runs: the
    # t quantile is 12.7 and a 1.6x slower machine hides in the interval. The store's
    # history (judge/drift.py) of 12 runs of the same machine bounds its run-to-run noise.
    rng = np.random.default_rng(3)
    then, now = _runs(rng, 1e-3, 2, 0.05), _runs(rng, 1.6e-3, 1, 0.05)
    alone = reference_drift(then, now)
    assert alone is not None and not alone.moved and alone.high / alone.low > 3
    stored = from_history([_suite(_runs(rng, 1e-3, 12, 0.05))])
    helped = reference_drift(then, now, history=stored[reference.NAME])
    assert helped is not None and helped.moved, helped
    assert helped.noise_source == DRIFT_HISTORY
    assert "store's history" in helped.describe()
    # and the same machine with the same history has not moved
    same = reference_drift(then, _runs(rng, 1e-3, 1, 0.05), history=stored[reference.NAME])
    assert same is not None and not same.moved


def _suite(samples: dict[str, Samples]) -> pyperf.BenchmarkSuite:
    """A pyperf suite of these samples, one pyperf run per process, grouped by run id."""
    benchmarks = []
    for name, found in samples.items():
        runs = [
            pyperf.Run(
                [value],
                metadata={"name": name, "perfagent_run_id": run_id, "unit": "second"},
                collect_metadata=False,
            )
            for run_id, values in found.groups.items()
            for value in values
        ]
        benchmarks.append(pyperf.Benchmark(runs))
    return pyperf.BenchmarkSuite(benchmarks)


def test_results_without_the_reference_give_no_verdict() -> None:
    rng = np.random.default_rng(3)
    then = samples(rng, 1e-3)
    assert reference_drift(without_reference(then), samples(rng, 2e-3)) is None
    assert list(without_reference(then)) == ["suite.bench"]


def test_the_reference_workload_runs_and_its_test_hook_scales_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert reference.reference_workload(steps=100) > 0
    monkeypatch.setenv(reference.SLOWDOWN_VARIABLE, "3")
    assert reference._steps() == 3 * reference._STEPS
    monkeypatch.setenv(reference.SLOWDOWN_VARIABLE, "not a number")
    assert reference._steps() == reference._STEPS


def _decision(name: str, ratio: float, low: float, threshold: float = 10.0):  # type: ignore[no-untyped-def]
    from perfagent.judge.stats import Decision, SideSummary, Verdict

    side = SideSummary(mean=1.0, std=0.0, n_processes=3, n_runs=1)
    verdict = Verdict.REGRESSION if low > 1 and ratio > 1 + threshold / 100 else Verdict.SAME
    return Decision(name, verdict, ratio, low, ratio * 1.1, threshold, side, side, 4.0, True)


def test_a_moved_machine_withholds_a_pass_and_a_small_regression() -> None:
    from perfagent.judge.machine_drift import Drift, explains, withholds
    from perfagent.judge.stats import Comparison

    drift = Drift(ratio=1.3, low=1.25, high=1.35, tolerance=5.0)
    assert drift.moved
    small = _decision("a", 1.32, 1.2)  # what the machine's change alone would give
    huge = _decision("b", 3.0, 2.6)  # a threefold slowdown: the code
    assert explains(drift, small) and not explains(drift, huge)
    assert withholds(drift, Comparison([_decision("c", 1.0, 0.9)]))  # a pass is withheld too
    assert withholds(drift, Comparison([small, huge]))
    assert not withholds(drift, Comparison([huge]))
    steady = Drift(ratio=1.01, low=0.99, high=1.03, tolerance=5.0)
    assert not withholds(steady, Comparison([small])) and not withholds(None, Comparison([]))


def test_the_tolerance_is_half_the_threshold_at_least_five_percent() -> None:
    from perfagent.judge.machine_drift import tolerance_for

    assert tolerance_for(10.0) == 5.0
    assert tolerance_for(50.0) == 25.0
    assert tolerance_for(2.0) == 5.0
