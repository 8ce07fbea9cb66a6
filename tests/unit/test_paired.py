"""judge/paired.py: the ab decision on synthetic pairs whose truth is known.

Pairs share a drift (both processes of a pair run seconds apart), so a decision that
uses the pairing must not see it; the rates below come from seeded generators.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from perfagent.judge.paired import MIN_PAIRS, PairedSamples, compare_paired, decide_paired
from perfagent.judge.stats import Verdict


def pairs(
    rng: np.random.Generator,
    ratio: float,
    *,
    n: int = 10,
    process_cv: float = 0.03,
    drift_cv: float = 0.0,
    name: str = "b",
) -> PairedSamples:
    """n pairs: a drift shared by the pair, independent process noise on each side."""
    drift = rng.normal(0.0, drift_cv, n)
    base = np.exp(math.log(1e-3) + drift + rng.normal(0.0, process_cv, n))
    head = np.exp(math.log(1e-3 * ratio) + drift + rng.normal(0.0, process_cv, n))
    return PairedSamples(name, "second", tuple(base), tuple(head))


def rates(ratio: float, trials: int = 400, **kwargs: float) -> dict[Verdict, float]:
    rng = np.random.default_rng(1)
    counts = dict.fromkeys(Verdict, 0)
    for _ in range(trials):
        counts[decide_paired(pairs(rng, ratio, **kwargs), 10.0).verdict] += 1
    return {v: c / trials for v, c in counts.items()}


def test_a_threefold_slowdown_is_a_regression() -> None:
    decision = decide_paired(pairs(np.random.default_rng(0), 3.0), 10.0)
    assert decision.verdict is Verdict.REGRESSION
    assert decision.low > 2.5
    assert 2.7 < decision.ratio < 3.3


def test_identical_sides_are_the_same() -> None:
    decision = decide_paired(pairs(np.random.default_rng(0), 1.0), 10.0)
    assert decision.verdict is Verdict.SAME
    assert decision.low < 1.0 < decision.high


def test_drift_shared_by_pairs_cancels() -> None:
    # Drift of 20% between pairs would swamp a 15% change; the pairing removes it.
    found = rates(1.15, drift_cv=0.20)
    assert found[Verdict.REGRESSION] > 0.9
    assert rates(1.0, drift_cv=0.20)[Verdict.REGRESSION] <= 0.02


def test_false_alarms_stay_rare_and_detection_high_on_process_noise() -> None:
    assert rates(1.0, process_cv=0.05)[Verdict.REGRESSION] <= 0.02
    assert rates(1.20, process_cv=0.05)[Verdict.REGRESSION] >= 0.9


def test_too_few_pairs_are_inconclusive_never_a_regression() -> None:
    few = PairedSamples("b", "second", (1.0, 1.0), (3.0, 3.1))
    decision = decide_paired(few, 10.0)
    assert MIN_PAIRS > 2
    assert decision.verdict is Verdict.INCONCLUSIVE
    assert not decision.regressed
    assert "at least" in decision.note


def test_exact_counts_let_the_threshold_decide() -> None:
    # Instruction counts repeat exactly: a 10.5% change is beyond a 10% threshold.
    counts = PairedSamples("b", "integer", (1000.0,) * 4, (1105.0,) * 4)
    decision = decide_paired(counts, 10.0)
    assert decision.verdict is Verdict.REGRESSION
    assert decision.low == decision.high == pytest.approx(1.105)
    below = decide_paired(PairedSamples("b", "integer", (1000.0,) * 4, (1095.0,) * 4), 10.0)
    assert below.verdict is Verdict.SLOWER


def test_unpaired_or_bad_values_are_errors() -> None:
    with pytest.raises(ValueError, match="do not pair up"):
        PairedSamples("b", "second", (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match="positive"):
        decide_paired(PairedSamples("b", "second", (1.0, 0.0, 1.0), (1.0, 1.0, 1.0)), 10.0)
    with pytest.raises(ValueError, match="no pairs"):
        decide_paired(PairedSamples("b", "second", (), ()), 10.0)


def test_compare_paired_uses_each_benchmarks_threshold() -> None:
    rng = np.random.default_rng(3)
    found = compare_paired(
        {"a": pairs(rng, 1.3, name="a"), "b": pairs(rng, 1.3, name="b")},
        lambda name: 50.0 if name == "b" else 10.0,
        only_in_head=["c"],
    )
    verdicts = {d.name: d.verdict for d in found.decisions}
    assert verdicts == {"a": Verdict.REGRESSION, "b": Verdict.SLOWER}
    assert found.only_in_head == ["c"]
