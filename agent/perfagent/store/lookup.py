"""Finding the baseline a check compares with, and explaining its absence (exit 3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyperf

from perfagent.errors import NoComparableBaseline
from perfagent.store.base import BaselineStore, Difference, StoredBaseline


@dataclass(frozen=True)
class NearestBaseline:
    """The stored baseline closest to this machine, and how its hardware differs."""

    baseline: StoredBaseline
    differences: list[Difference]


def nearest_baseline(
    store: BaselineStore,
    suite: str,
    hardware: dict[str, Any],
    differences: Callable[[dict[str, Any], dict[str, Any]], list[Difference]] | None = None,
) -> NearestBaseline | None:
    """The current baseline of `suite` whose hardware differs least from `hardware`.

    Used to explain an exit 3: which stored machine is closest and in what it differs.
    Ties go to the most recently measured. Differences are (field, stored, this).
    """
    if differences is None:
        from perfagent.machine.fingerprint import differences as hardware_differences

        differences = hardware_differences
    best: NearestBaseline | None = None
    for entry in store.entries():
        if entry.suite != suite or entry.hardware is None:
            continue
        diff = differences(entry.hardware, hardware)
        candidate = NearestBaseline(baseline=entry, differences=diff)
        if best is None or _closer(candidate, best):
            best = candidate
    return best


def _closer(a: NearestBaseline, b: NearestBaseline) -> bool:
    if len(a.differences) != len(b.differences):
        return len(a.differences) < len(b.differences)
    a_date = a.baseline.date or datetime.min.replace(tzinfo=UTC)
    b_date = b.baseline.date or datetime.min.replace(tzinfo=UTC)
    return a_date > b_date


def find_baseline(
    store: BaselineStore, fingerprint_id: str, hardware: dict[str, Any], suite: str
) -> pyperf.BenchmarkSuite:
    """The stored baseline for this fingerprint and suite, else NoComparableBaseline (exit 3)."""
    baseline = store.read(fingerprint_id, suite)
    if baseline is not None:
        return baseline
    message = (
        f"no baseline for fingerprint {fingerprint_id} and suite '{suite}' in store "
        f"{store.location}"
    )
    nearest = nearest_baseline(store, suite, hardware)
    if nearest is None:
        message += f"; the store holds no baseline of suite '{suite}' on any machine"
    else:
        stored = nearest.baseline
        when = f", measured {stored.date:%Y-%m-%d}" if stored.date else ""
        diffs = "; ".join(
            f"{key}: {old} (stored) vs {new} (here)" for key, old, new in nearest.differences
        )
        message += (
            f"; nearest stored baseline: fingerprint {stored.fingerprint}{when}, "
            f"differs in {diffs or 'no hardware field (its fingerprint id is of another version)'}"
        )
    message += "; run `perfagent baseline` on this machine to create one"
    raise NoComparableBaseline(message)


def require_metric(
    baseline: pyperf.BenchmarkSuite,
    metric: str,
    *,
    fingerprint_id: str,
    suite: str,
    location: str,
) -> None:
    """NoComparableBaseline (exit 3) when the baseline measures another metric than `metric`."""
    from perfagent import results

    base_metric = results.metric(baseline)
    if base_metric != metric:
        raise NoComparableBaseline(
            f"the baseline for fingerprint {fingerprint_id} and suite '{suite}' "
            f"in {location} measures '{base_metric}', this check '{metric}'; "
            f"check with --metric {base_metric} or store a new baseline with "
            f"`perfagent baseline --metric {metric}`"
        )
