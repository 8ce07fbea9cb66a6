"""changepoints.py: e-divisive means on series of baseline means."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from perfagent.judge.changepoints import e_divisive, segment_means, split_statistics

# 8 baselines at one level, then a slowdown creeping in at 3% per baseline.
FLAT = [1.0] * 8
CREEP = FLAT + [1.03**step for step in range(1, 5)]


def _naive_statistic(series: list[float], k: int) -> float:
    """Q(k) straight from the definition, to check the prefix-sum computation."""
    left, right = series[:k], series[k:]
    n, m = len(series), len(right)
    between = np.mean([abs(a - b) for a in left for b in right])
    within_left = np.mean([abs(a - b) for a, b in itertools.combinations(left, 2)])
    within_right = np.mean([abs(a - b) for a, b in itertools.combinations(right, 2)])
    return k * m / n * (2 * between - within_left - within_right)


def test_split_statistics_match_the_definition() -> None:
    series = list(np.random.default_rng(3).normal(10.0, 1.0, 11))
    computed = split_statistics(np.asarray(series))
    expected = [_naive_statistic(series, k) for k in range(2, len(series) - 1)]
    assert computed == pytest.approx(expected)


def test_split_statistics_are_vectorised_over_leading_axes() -> None:
    batch = np.random.default_rng(4).normal(size=(5, 9))
    stacked = split_statistics(batch)
    assert stacked.shape == (5, 6)
    assert stacked[2] == pytest.approx(split_statistics(batch[2]))


def test_a_step_change_is_found_where_it_happens() -> None:
    noise = np.random.default_rng(0).normal(0.0, 0.01, 16)
    series = list(np.r_[np.ones(10), np.full(6, 1.2)] * (1 + noise))
    [change] = e_divisive(series)
    assert change.index == 10
    assert change.shift == pytest.approx(0.2, abs=0.02)
    assert change.p_value <= 0.05


def test_a_creep_under_every_single_gate_is_found() -> None:
    # No single step would fail a 10% gate...
    assert all(b / a - 1 < 0.10 for a, b in itertools.pairwise(CREEP))
    # ...yet the series has a change point inside the creep.
    [change] = e_divisive(CREEP)
    assert change.index in (8, 9)
    assert change.after > change.before
    assert change.shift > 0.05


def test_no_change_point_in_a_constant_or_short_series() -> None:
    assert e_divisive([1.0] * 12) == []
    assert e_divisive([1.0, 2.0, 3.0]) == []
    assert e_divisive([]) == []


def test_noise_alone_rarely_makes_a_change_point() -> None:
    # The permutation test holds false alarms near its 5% level: with 3% noise
    # (a fair guess at baseline-to-baseline noise) 30 flat series give few alarms.
    alarms = sum(
        bool(e_divisive(list(1 + np.random.default_rng(seed).normal(0.0, 0.03, 16))))
        for seed in range(30)
    )
    assert alarms <= 5


def test_the_answer_is_reproducible() -> None:
    series = list(1 + np.random.default_rng(7).normal(0.0, 0.03, 20))
    assert e_divisive(series) == e_divisive(series)


def test_min_size_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="min_size"):
        e_divisive(CREEP, min_size=1)


def test_segment_means() -> None:
    assert segment_means([1.0, 1.0, 3.0, 3.0, 3.0], [2]) == [(0, 2, 1.0), (2, 5, 3.0)]
    assert segment_means([2.0, 4.0], []) == [(0, 2, 3.0)]
