"""What every baseline store shares: the listing record, the protocol commands talk to,
and the facts read from a loaded baseline. See docs/design.md (store layout)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import pyperf

from perfagent import results

Difference = tuple[str, object, object]


@dataclass(frozen=True)
class StoredBaseline:
    """What a listing shows of one stored baseline (current or archived)."""

    fingerprint: str
    suite: str
    location: str
    archived: bool
    commit: str | None = None
    date: datetime | None = None  # when it was measured (UTC)
    benchmarks: int = 0
    runs: int = 0
    metric: str | None = None
    hardware: dict[str, Any] | None = None
    error: str | None = None  # set when the file cannot be read

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "suite": self.suite,
            "location": self.location,
            "archived": self.archived,
            "commit": self.commit,
            "date": self.date.isoformat() if self.date else None,
            "benchmarks": self.benchmarks,
            "runs": self.runs,
            "metric": self.metric,
            "error": self.error,
        }


class BaselineStore(Protocol):
    """What the commands need from a baseline store."""

    @property
    def location(self) -> str:
        """Where the store is, for messages."""
        ...

    def read(self, fingerprint: str, suite: str) -> pyperf.BenchmarkSuite | None:
        """The current baseline, or None when there is none."""
        ...

    def ensure_writable(self, fingerprint: str, suite: str) -> None:
        """Raise StoreError now if `write` would fail later (before a long run)."""
        ...

    def write(
        self, fingerprint: str, suite: str, baseline: pyperf.BenchmarkSuite
    ) -> StoredBaseline:
        """Make `baseline` the current one, archiving the previous."""
        ...

    def entries(self, *, archived: bool = False) -> list[StoredBaseline]:
        """Every current baseline (and the archived ones when asked)."""
        ...

    def prune(
        self, *, keep: int | None = None, before: datetime | None = None, dry_run: bool = False
    ) -> list[StoredBaseline]:
        """Delete archived baselines beyond the newest `keep` per fingerprint and suite,
        and those measured before `before`; return what was (or would be) deleted."""
        ...


def describe(
    baseline: pyperf.BenchmarkSuite,
    *,
    fingerprint: str,
    suite: str,
    location: str,
    archived: bool,
) -> StoredBaseline:
    """The listing facts of a loaded baseline."""
    return StoredBaseline(
        fingerprint=fingerprint,
        suite=suite,
        location=location,
        archived=archived,
        commit=results.commit(baseline),
        date=measured_at(baseline),
        benchmarks=len(baseline),
        runs=len(results.run_ids(baseline)),
        metric=results.metric(baseline),
        hardware=results.hardware(baseline),
    )


def measured_at(baseline: pyperf.BenchmarkSuite) -> datetime | None:
    text = results.measured_at(baseline)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    # pyperf records local time without a zone; astimezone reads a naive time as local.
    return when.astimezone(UTC)
