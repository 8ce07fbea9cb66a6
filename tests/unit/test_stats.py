"""stats.py: the decision on synthetic samples whose truth is known.

Every sample is drawn from a seeded generator, so each test sees the same numbers on
every run: the rates below are properties of the decision, not of luck.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from perfagent.config import Settings
from perfagent.judge.stats import (
    DRIFT_HISTORY,
    DRIFT_MEASURED,
    DRIFT_NONE,
    DriftPrior,
    Verdict,
    classify,
    compare,
    decide,
)
from perfagent.results import Samples

Groups = list[list[float]]


def draw(
    rng: np.random.Generator,
    *,
    runs: int,
    processes: int,
    process_cv: float,
    run_cv: float = 0.0,
    level: float = 1e-3,
) -> Groups:
    """Process means: log-normal process noise around a run level that drifts run to run."""
    groups = []
    for _ in range(runs):
        run_level = math.log(level) + rng.normal(0.0, run_cv)
        groups.append(list(np.exp(run_level + rng.normal(0.0, process_cv, processes))))
    return groups


def verdicts(
    ratio: float,
    *,
    trials: int = 300,
    threshold: float = 10.0,
    base_runs: int = 3,
    head_runs: int = 1,
    processes: int = 5,
    process_cv: float = 0.03,
    run_cv: float = 0.0,
    seed: int = 0,
) -> dict[Verdict, int]:
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(Verdict, 0)
    for _ in range(trials):
        base = draw(rng, runs=base_runs, processes=processes, process_cv=process_cv, run_cv=run_cv)
        head = draw(
            rng,
            runs=head_runs,
            processes=processes,
            process_cv=process_cv,
            run_cv=run_cv,
            level=1e-3 * ratio,
        )
        counts[decide("b", base, head, threshold).verdict] += 1
    return counts


def test_same_distribution_pairs_pass() -> None:
    counts = verdicts(1.0, process_cv=0.05)
    assert counts[Verdict.REGRESSION] == 0
    # An honest 95% interval: roughly 5% of same-code pairs read as slower or faster.
    assert counts[Verdict.SAME] >= 0.9 * 300


def test_same_distribution_pairs_pass_despite_run_to_run_drift() -> None:
    # 5% process noise and 5% drift between runs: the baseline's three runs show the
    # drift, so the head's single run is not over-trusted.
    counts = verdicts(1.0, process_cv=0.05, run_cv=0.05, seed=1)
    assert counts[Verdict.REGRESSION] <= 3  # at most 1%


def test_thirty_percent_slower_fails() -> None:
    counts = verdicts(1.30, process_cv=0.05, seed=2)
    assert counts[Verdict.REGRESSION] >= 0.97 * 300


def test_thirty_percent_faster_passes() -> None:
    counts = verdicts(1 / 1.30, process_cv=0.05, seed=3)
    assert counts[Verdict.REGRESSION] == 0
    assert counts[Verdict.FASTER] >= 0.97 * 300


def test_the_threshold_is_respected() -> None:
    # A real 5% slowdown, measured precisely: slower, but within a 10% threshold...
    counts = verdicts(1.05, process_cv=0.005, seed=4)
    assert counts[Verdict.REGRESSION] == 0
    assert counts[Verdict.SLOWER] >= 0.97 * 300
    # ...and a regression at a 3% threshold.
    counts = verdicts(1.05, process_cv=0.005, threshold=3.0, seed=4)
    assert counts[Verdict.REGRESSION] >= 0.97 * 300


def test_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(5)
    covered = 0
    trials = 400
    for _ in range(trials):
        base = draw(rng, runs=3, processes=4, process_cv=0.04, run_cv=0.03)
        head = draw(rng, runs=2, processes=4, process_cv=0.04, run_cv=0.03, level=1.2e-3)
        decision = decide("b", base, head, 10.0)
        covered += decision.low <= 1.2 <= decision.high
    assert 0.90 <= covered / trials <= 0.99


def test_process_means_not_values_are_the_unit() -> None:
    # Ten processes per side, each with its own offset (as worker processes have) and
    # many tightly clustered values: a values-level t-test calls this "significant"
    # far more often than 5%; the process-level interval stays honest.
    from scipy import stats as scipy_stats

    rng = np.random.default_rng(6)
    values_significant = 0
    ours_not_same = 0
    trials = 200
    for _ in range(trials):
        sides = []
        for _side in range(2):
            offsets = rng.normal(0.0, 0.05, 10)
            sides.append([np.exp(o + rng.normal(0.0, 0.005, 20)) for o in offsets])
        flat = [np.concatenate(side) for side in sides]
        values_significant += scipy_stats.ttest_ind(flat[0], flat[1]).pvalue < 0.05
        means = [[[float(v.mean()) for v in side]] for side in sides]
        ours_not_same += decide("b", means[0][0:1], means[1][0:1], 10.0).verdict != Verdict.SAME
    assert values_significant > 0.5 * trials
    assert ours_not_same < 0.10 * trials


def test_deterministic_counts_collapse_the_interval() -> None:
    base = [[1_000_000.0, 1_000_000.0], [1_000_000.0, 1_000_000.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero, no NaN warnings
        same = decide("b", base, [[1_000_000.0, 1_000_000.0]], 10.0)
        slower = decide("b", base, [[1_050_000.0, 1_050_000.0]], 10.0)
        regression = decide("b", base, [[1_200_000.0, 1_200_000.0]], 10.0)
        faster = decide("b", base, [[900_000.0, 900_000.0]], 10.0)
    assert same.verdict is Verdict.SAME
    assert same.low == same.high == same.ratio == 1.0
    assert math.isinf(same.df)
    assert slower.verdict is Verdict.SLOWER
    assert slower.low == pytest.approx(1.05)
    assert regression.verdict is Verdict.REGRESSION
    assert faster.verdict is Verdict.FASTER


def test_near_deterministic_counts_let_the_threshold_decide() -> None:
    base = [[1_000_000.0, 1_000_010.0, 999_990.0]]
    head = [[1_110_000.0, 1_110_012.0, 1_109_991.0]]
    decision = decide("b", base, head, 10.0)
    assert decision.verdict is Verdict.REGRESSION
    assert decision.high / decision.low < 1.0001


def test_one_process_per_side_is_inconclusive_never_a_regression() -> None:
    decision = decide("b", [[1.0]], [[1.5]], 10.0)
    assert decision.verdict is Verdict.INCONCLUSIVE
    assert decision.note == "one worker process on each side: no spread to judge by"
    assert decision.ratio == 1.5  # still reported


def test_one_process_on_one_side_is_inconclusive() -> None:
    decision = decide("b", [[1.0, 1.01, 0.99]], [[1.5]], 10.0)
    assert decision.verdict is Verdict.INCONCLUSIVE
    assert "the current side" in decision.note


def test_near_deterministic_counts_over_several_processes_keep_the_threshold_rule() -> None:
    # Instruction counts: no spread at all across 3 processes a side.
    decision = decide("b", [[1000.0, 1000.0, 1000.0]], [[1200.0, 1200.0, 1200.0]], 10.0)
    assert decision.verdict is Verdict.REGRESSION


def test_a_drift_prior_widens_a_one_run_comparison() -> None:
    base = [[1.0, 1.001, 0.999, 1.0]]
    head = [[1.06, 1.061, 1.059, 1.06]]
    alone = decide("b", base, head, 5.0)
    assert alone.verdict is Verdict.REGRESSION and alone.drift_source == DRIFT_NONE
    prior = DriftPrior(variance=0.035**2, df=3, baselines=4)
    helped = decide("b", base, head, 5.0, drift_prior=prior)
    assert helped.drift_source == DRIFT_HISTORY
    assert helped.verdict is Verdict.SAME
    assert helped.low < 1.0 < helped.high


def test_a_drift_prior_on_fewer_runs_than_the_comparison_is_not_used() -> None:
    base = [[1.0, 1.0], [1.02, 1.02]]
    head = [[1.01, 1.01], [1.03, 1.03]]  # two degrees of freedom between runs
    prior = DriftPrior(variance=0.5, df=2)
    decision = decide("b", base, head, 5.0, drift_prior=prior)
    assert decision.drift_source == DRIFT_MEASURED
    assert decision.high < 1.2


def test_a_drift_prior_on_more_runs_replaces_the_comparisons_estimate() -> None:
    base = [[1.0, 1.0], [1.02, 1.02]]
    head = [[1.01, 1.01], [1.03, 1.03]]
    measured = decide("b", base, head, 5.0)
    prior = DriftPrior(variance=0.0001, df=20)  # many runs: 1% run-to-run noise
    decision = decide("b", base, head, 5.0, drift_prior=prior)
    assert decision.drift_source == DRIFT_HISTORY
    assert decision.df > measured.df
    assert decision.high - decision.low < measured.high - measured.low


def test_single_run_sides_say_drift_was_not_estimated() -> None:
    decision = decide("b", [[1.0, 1.01, 0.99]], [[1.0, 1.02, 0.98]], 10.0)
    assert not decision.between_run_estimated
    assert "drift not estimated" in decision.note


def test_between_run_variance_from_the_head_side_alone() -> None:
    # One baseline run, three head runs (after confirmations) that disagree: the
    # drift seen between the head's runs widens the interval.
    base = [[1.0, 1.0, 1.0]]
    tight = decide("b", base, [[1.2, 1.2, 1.2]], 10.0)
    spread = decide("b", base, [[1.0, 1.0, 1.0], [1.45, 1.45, 1.45], [1.2, 1.2, 1.2]], 10.0)
    assert spread.between_run_estimated
    assert spread.low < 1.0 < spread.high
    assert spread.verdict is Verdict.SAME
    assert tight.verdict is Verdict.REGRESSION


def test_side_summaries_are_in_natural_units() -> None:
    decision = decide("b", [[2.0, 4.0]], [[3.0], [5.0]], 10.0, unit="second")
    assert decision.base.mean == pytest.approx(3.0)
    assert decision.base.n_processes == 2 and decision.base.n_runs == 1
    assert decision.head.n_runs == 2
    assert decision.unit == "second"


def test_empty_side_is_an_error() -> None:
    with pytest.raises(ValueError, match="baseline"):
        decide("b", [[]], [[1.0]], 10.0)
    with pytest.raises(ValueError, match="current"):
        decide("b", [[1.0]], [], 10.0)


@pytest.mark.parametrize(
    ("ratio", "low", "high", "expected"),
    [
        (1.20, 1.10, 1.30, Verdict.REGRESSION),
        (1.20, 0.99, 1.40, Verdict.SAME),  # beyond the threshold but not real
        (1.05, 1.01, 1.09, Verdict.SLOWER),
        (0.90, 0.85, 0.95, Verdict.FASTER),
        (1.00, 0.95, 1.05, Verdict.SAME),
        (1.10, 1.05, 1.15, Verdict.SLOWER),  # exactly at the threshold: not beyond it
    ],
)
def test_classify(ratio: float, low: float, high: float, expected: Verdict) -> None:
    assert classify(ratio, low, high, 10.0) is expected


def test_compare_uses_per_benchmark_thresholds_and_reports_one_sided_names() -> None:
    settings = Settings(threshold=10.0, thresholds={"noisy.*": 50.0})

    def samples(name: str, level: float) -> Samples:
        return Samples(name, "second", {"r": [level, level * 1.001, level * 0.999]})

    base = {"noisy.io": samples("noisy.io", 1.0), "calc": samples("calc", 1.0)}
    base["gone"] = samples("gone", 1.0)
    head = {"noisy.io": samples("noisy.io", 1.3), "calc": samples("calc", 1.3)}
    head["fresh"] = samples("fresh", 1.0)
    comparison = compare(base, head, settings.threshold_for)
    by_name = {d.name: d for d in comparison.decisions}
    assert by_name["noisy.io"].verdict is Verdict.SLOWER
    assert by_name["noisy.io"].threshold == 50.0
    assert by_name["calc"].verdict is Verdict.REGRESSION
    assert [d.name for d in comparison.regressions] == ["calc"]
    assert [d.name for d in comparison.suspects] == ["calc"]
    assert comparison.only_in_base == ["gone"]
    assert comparison.only_in_head == ["fresh"]


def test_replace_keeps_order_and_swaps_decisions() -> None:
    base = {n: Samples(n, "second", {"r": [1.0, 1.0]}) for n in ("a", "b")}
    head = {n: Samples(n, "second", {"r": [2.0, 2.0]}) for n in ("a", "b")}
    first = compare(base, head, lambda _name: 10.0)
    redo = compare(
        {"b": base["b"]}, {"b": Samples("b", "second", {"r": [1.0, 1.0]})}, lambda _n: 10
    )
    updated = first.replace(redo.decisions)
    assert [d.name for d in updated.decisions] == ["a", "b"]
    assert [d.verdict for d in updated.decisions] == [Verdict.REGRESSION, Verdict.SAME]
