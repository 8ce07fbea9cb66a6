"""`perfagent baseline` as objects: measure the suite N times, pool the runs, store them.

Nothing is written until every run has succeeded, and the store's write is atomic, so
a failed, interrupted or killed run leaves the previous baseline as it was. The
command and the gate's baseline mode both call `record_baseline`; they print what it
returns, nobody parses printed text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perfagent import results

if TYPE_CHECKING:
    import pyperf

    from perfagent.config import Settings
    from perfagent.measure.progress import Progress
    from perfagent.store.base import StoredBaseline


@dataclass(frozen=True)
class RecordedBaseline:
    """A baseline just stored: where, for which machine and suite, from how many runs."""

    stored: StoredBaseline
    baseline: pyperf.BenchmarkSuite
    fingerprint: str
    suite: str
    runs: int
    commit: str | None
    store_location: str

    def describe(self) -> str:
        """The line `perfagent baseline` prints last."""
        return (
            f"Baseline stored: {self.stored.location} (fingerprint {self.fingerprint}, suite "
            f"{self.suite}, {self.stored.benchmarks} benchmarks, {self.runs} run(s), "
            f"commit {(self.commit or 'unknown')[:12]})"
        )


def record_baseline(
    settings: Settings,
    *,
    commit: str | None = None,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
) -> RecordedBaseline:
    """Measure `settings.baseline_runs` runs of the suite and store them as this
    machine's baseline in `settings.store`; StoreError before measuring when the store
    cannot be written."""
    from perfagent.machine.fingerprint import collect
    from perfagent.measure.runner import detect_commit, run_suite
    from perfagent.measure.suite import load_suite
    from perfagent.store import open_store

    loaded = load_suite(settings.suite)
    fingerprint = collect()
    baseline_store = open_store(settings.store)
    # Fail on an unwritable store now, not after an hour of measuring.
    baseline_store.ensure_writable(fingerprint.id, loaded.name)
    commit = commit or detect_commit()

    total = settings.baseline_runs
    suite_runs = []
    for index in range(1, total + 1):
        if say is not None and total > 1:
            say(f"Baseline run {index} of {total}")
        suite_runs.append(
            run_suite(
                loaded,
                list(loaded.benchmarks),
                settings,
                commit=commit,
                progress=progress,
                fingerprint=fingerprint,
            )
        )
    pooled = results.merge(suite_runs)
    stored = baseline_store.write(fingerprint.id, loaded.name, pooled)
    return RecordedBaseline(
        stored=stored,
        baseline=pooled,
        fingerprint=fingerprint.id,
        suite=loaded.name,
        runs=total,
        commit=commit,
        store_location=baseline_store.location,
    )
