"""judge/resolution.py: the smallest slowdown a check would see, from known noise."""

from __future__ import annotations

import math

import numpy as np
from perfagent.judge.resolution import paired, stored_baseline, variance_components


def groups(
    rng: np.random.Generator, runs: int, processes: int, cv: float, drift: float
) -> list[list[float]]:
    return [
        list(np.exp(rng.normal(0.0, drift) + rng.normal(0.0, cv, processes))) for _ in range(runs)
    ]


def test_quiet_machine_sees_the_threshold() -> None:
    rng = np.random.default_rng(0)
    found = stored_baseline("b", groups(rng, 3, 6, 0.01, 0.0), groups(rng, 1, 6, 0.01, 0.0), 10.0)
    assert found.sees_threshold
    assert found.detectable < 5.0
    assert found.warning() is None
    assert found.to_dict()["sees_threshold"] is True


def test_noisy_processes_need_more_of_them() -> None:
    rng = np.random.default_rng(1)
    found = stored_baseline(
        "raster_io.as_array", groups(rng, 3, 4, 0.12, 0.0), groups(rng, 1, 4, 0.12, 0.0), 10.0
    )
    assert not found.sees_threshold
    assert found.needed is not None and found.needed > 2
    warning = found.warning()
    assert warning is not None
    assert warning.startswith("this machine cannot see 10% on raster_io.as_array; it can see ")
    assert f"give it {found.needed} processes or use ab/instructions" in warning
    # With the advised count, the same noise would see the threshold.
    more = stored_baseline(
        "raster_io.as_array",
        groups(rng, 3, found.needed, 0.12, 0.0),
        groups(rng, 1, found.needed, 0.12, 0.0),
        10.0,
    )
    assert more.detectable < found.detectable


def test_run_to_run_drift_no_process_count_can_beat() -> None:
    # Run levels 15% apart, processes inside a run within 1%.
    base = [[level * f for f in (0.99, 1.0, 1.01)] for level in (0.87, 1.0, 1.15, 1.0)]
    found = stored_baseline("b", base, [[1.0, 0.99, 1.01]], 10.0)
    assert found.between is not None and found.between > 0.05
    assert found.needed is None
    assert "run-to-run drift alone hides it" in (found.warning() or "")


def test_variance_components_of_one_run_do_not_estimate_drift() -> None:
    within, df, between, df_between = variance_components([[1.0, 1.1, 0.9]])
    assert within > 0 and df == 2
    assert between is None and df_between == 0


def test_paired_resolution_and_the_pairs_it_needs() -> None:
    rng = np.random.default_rng(3)
    noisy = paired("b", list(rng.normal(0.0, 0.15, 6)), 10.0)
    assert not noisy.sees_threshold
    assert noisy.needed is not None and noisy.needed > 6
    assert f"give it {noisy.needed} pairs" in (noisy.warning() or "")
    quiet = paired("b", list(rng.normal(0.0, 0.01, 6)), 10.0)
    assert quiet.sees_threshold


def test_exact_counts_see_any_change() -> None:
    found = paired("b", [0.0, 0.0, 0.0], 10.0)
    assert found.detectable == 0.0
    assert math.isfinite(found.detectable)
