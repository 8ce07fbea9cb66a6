"""The verdict of `perfagent ab` (and of the gate's relative mode), as objects.

`ab` measures base and head in one job, in alternating worker processes
(`measure.pairs`), decides each benchmark on its paired log-ratios (`judge.paired`)
and returns the same `Outcome` as a check: same verdicts, same exit codes, same
artifacts. No stored baseline is involved, so a stale baseline, a machine that
drifts over minutes, a GitHub-hosted runner or a laptop do not decide the verdict:
only what differs between the two sides does.

Nothing here prints the verdict or writes artifacts: the command and the gate do
(`reports.publish.publish_check`).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from perfagent import results
from perfagent.judge.confirm import confirm_suspects
from perfagent.judge.paired import DEFAULT_PAIRS, PairedSamples, compare_paired
from perfagent.judge.resolution import Resolution, paired
from perfagent.measure.pairs import Sides
from perfagent.measure.reference import NAME as REFERENCE_NAME
from perfagent.reports import report

if TYPE_CHECKING:
    import pyperf

    from perfagent.config import Settings
    from perfagent.judge.stats import Comparison
    from perfagent.measure.pairs import PairedRun
    from perfagent.measure.progress import Progress

# Where the gate (or a user) names the base side's interpreter when no argument does.
BASE_PYTHON_VARIABLE = "PERFAGENT_BASE_PYTHON"
HEAD_PYTHON_VARIABLE = "PERFAGENT_HEAD_PYTHON"


@dataclass
class AbResult:
    """A finished ab: the outcome (verdict, reasons), the head's results and the base's."""

    outcome: report.Outcome
    head: pyperf.BenchmarkSuite
    base: pyperf.BenchmarkSuite

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code


def _interpreter(given: str | None, variable: str, fallback: str) -> str:
    """The interpreter of a side: the argument, else the variable, else `fallback`."""
    from perfagent.errors import UsageError

    chosen = given or os.environ.get(variable) or fallback
    path = Path(chosen)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise UsageError(f"{chosen}: not an executable Python interpreter (for ab's {variable})")
    # Absolute, so that the report says which one ran (no resolve(): a venv's python is
    # a symlink whose own path is what selects the venv).
    return str(path.absolute())


def sides_from(
    base_python: str | None,
    head_python: str | None,
    *,
    base_commit: str | None = None,
    head_commit: str | None = None,
) -> Sides:
    """The two sides: head defaults to this interpreter, base to the head's (an A/A run)."""
    head = _interpreter(head_python, HEAD_PYTHON_VARIABLE, sys.executable)
    base = _interpreter(base_python, BASE_PYTHON_VARIABLE, head)
    return Sides(
        base_python=base, head_python=head, base_commit=base_commit, head_commit=head_commit
    )


def ab(
    settings: Settings,
    sides: Sides,
    *,
    pairs: int = DEFAULT_PAIRS,
    patterns: list[str] | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
    duet: bool = False,
) -> AbResult:
    """Measure `pairs` pairs of base and head and judge each benchmark on them.

    UsageError (exit 2) on a bad suite, pattern or interpreter; BenchmarkRunError
    (exit 2) when a side fails to run a benchmark (a base without it, say).
    """
    from perfagent.machine.fingerprint import collect
    from perfagent.measure.pairs import run_pairs
    from perfagent.measure.suite import load_suite

    if pairs < 1:
        from perfagent.errors import UsageError

        raise UsageError(f"--pairs must be at least 1 (got {pairs})")
    loaded = load_suite(settings.suite)
    selected = loaded.select(patterns)
    report.ensure_output_dir(settings.output_dir)
    fingerprint = collect()
    measured = run_pairs(
        loaded,
        selected,
        settings,
        pairs=pairs,
        sides=sides,
        fingerprint=fingerprint,
        seed=seed,
        say=say,
        progress=progress,
        duet=duet,
    )

    # As check measures its suspects again, ab gives them `pairs` more pairs, up to
    # confirm_runs times, and decides on all their pairs: measured on this machine's
    # recorded pairs (make bench-gate), 10 pairs and up to 20 more catch 90% of 1.15x
    # slowdowns where 10 alone catch 70%, and unchanged code mostly stops at 10.
    def measure_again(suspects: list[str], attempt: int) -> None:
        nonlocal measured
        more = run_pairs(
            loaded,
            [spec for spec in selected if spec.name in suspects],
            settings,
            pairs=pairs,
            sides=sides,
            fingerprint=fingerprint,
            seed=measured.seed + attempt,
            say=say,
            progress=progress,
            duet=duet,
            reuse_loops=measured.loops,
        )
        measured = _extended(measured, more)

    confirmations: dict[str, int] = {}
    confirm_suspects(
        settings,
        lambda: [d.name for d in _comparison(measured, settings).suspects],
        measure_again,
        how=f"measuring {pairs} more pairs of them",
        say=say,
        confirmations=confirmations,
    )
    return AbResult(
        outcome=outcome_of(
            measured,
            settings,
            sides,
            loaded.name,
            fingerprint.id,
            fingerprint.hardware,
            confirmations=confirmations,
        ),
        head=measured.head,
        base=measured.base,
    )


def _samples(measured: PairedRun) -> dict[str, PairedSamples]:
    """Each benchmark's pairs (the reference workload measures the machine, not code)."""
    return {
        name: PairedSamples(name, measured.unit, tuple(base), tuple(head))
        for name, (base, head) in measured.means.items()
        if name != REFERENCE_NAME and base and len(base) == len(head)
    }


def _comparison(measured: PairedRun, settings: Settings) -> Comparison:
    return compare_paired(_samples(measured), settings.threshold_for)


def _extended(measured: PairedRun, more: PairedRun) -> PairedRun:
    """`measured` with the pairs of `more` (some of its benchmarks, measured again)."""
    means = dict(measured.means)
    for name, (base, head) in more.means.items():
        old_base, old_head = means.get(name, ([], []))
        means[name] = ([*old_base, *base], [*old_head, *head])
    return dataclasses.replace(
        measured,
        base=results.merge([measured.base, more.base]),
        head=results.merge([measured.head, more.head]),
        means=means,
        first=(*measured.first, *more.first),
        seconds=measured.seconds + more.seconds,
    )


def outcome_of(
    measured: PairedRun,
    settings: Settings,
    sides: Sides,
    suite: str,
    fingerprint: str | None = None,
    hardware: dict[str, object] | None = None,
    confirmations: dict[str, int] | None = None,
) -> report.Outcome:
    """The check-shaped outcome of a paired run; `confirmations` counts, per benchmark,
    the times it got more pairs."""
    samples = _samples(measured)
    comparison = compare_paired(samples, settings.threshold_for)
    # Instruction counts barely move: their resolution is not the machine's to limit.
    resolutions: dict[str, Resolution] = {
        name: paired(name, list(s.log_ratios()), settings.threshold_for(name))
        for name, s in samples.items()
        if s.n_pairs >= 2 and settings.metric == "time"
    }
    same_python = sides.base_python == sides.head_python
    # Every round of more pairs has as many as the first round.
    rounds = 1 + max((confirmations or {}).values(), default=0)
    first_round = len(measured.first) // rounds
    if measured.first and "both" in measured.first:
        how = (
            f"{first_round} pairs of worker processes, each pair's two at the same "
            f"time on two CPUs (duet; seed {measured.seed})"
        )
    elif measured.first:
        how = (
            f"{first_round} pairs of worker processes, alternating, the order inside "
            f"each pair at random (seed {measured.seed})"
        )
    else:
        how = "one instructions run per side, process i of each side paired"
    if rounds > 1:
        how += (
            f"; benchmarks beyond the threshold got {first_round} more pairs, up to "
            f"{rounds - 1} time(s)"
        )
    notes = [f"ab: {how}; base {sides.base_python}, head {sides.head_python}"]
    if same_python:
        notes.append("base and head ran the same interpreter: an A/A run, which measures the noise")
    base_samples = results.samples_by_name(measured.base)
    head_samples = results.samples_by_name(measured.head)
    return report.Outcome(
        comparison=comparison,
        threshold=settings.threshold,
        metric=settings.metric,
        suite=suite,
        fingerprint=fingerprint,
        base=report.Side("base", sides.base_python, sides.base_commit, 1),
        head=report.Side("head", sides.head_python, sides.head_commit, 1),
        software_changes=report.software_changes(
            results.software(measured.base), results.software(measured.head)
        ),
        notes=[*notes, *settings.loosening_refused()],
        base_samples={n: s for n, s in base_samples.items() if n != REFERENCE_NAME},
        head_samples={n: s for n, s in head_samples.items() if n != REFERENCE_NAME},
        hardware=hardware,
        thresholds=settings.thresholds_in_effect(),
        confirmation_runs=dict(confirmations or {}),
        resolutions=resolutions,
    )


def gate_entry(settings: Settings, *, base: str | None = None, head: str | None = None) -> AbResult:
    """The gate's relative mode: ab of `base` against `head` (interpreters; default:
    $PERFAGENT_BASE_PYTHON and $PERFAGENT_HEAD_PYTHON, else this interpreter)."""
    return ab(settings, sides_from(base, head), pairs=DEFAULT_PAIRS)
