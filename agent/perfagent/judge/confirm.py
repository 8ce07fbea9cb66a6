"""The confirmation policy: benchmarks beyond the threshold are measured again before a
check fails, so that one noisy run does not block a pull request (docs/design.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from perfagent import results
from perfagent.judge import stats
from perfagent.judge.machine_drift import without_reference

if TYPE_CHECKING:
    import pyperf

    from perfagent.config import Settings
    from perfagent.judge.stats import Comparison, DriftPrior
    from perfagent.machine.fingerprint import Fingerprint
    from perfagent.measure.progress import Progress
    from perfagent.measure.suite import BenchmarkSpec, Suite
    from perfagent.results import Samples


def confirmation_runs(settings: Settings) -> int:
    """How many times suspects are measured again under these settings.

    Instruction counts repeat to about 0.01%: measuring suspects again cannot change
    their verdict, it would only cost more valgrind runs.
    """
    return 0 if settings.metric == "instructions" else settings.confirm_runs


def measure_and_confirm(
    loaded: Suite,
    selected: list[BenchmarkSpec],
    settings: Settings,
    base_samples: Mapping[str, Samples],
    *,
    commit: str | None,
    fingerprint: Fingerprint | None,
    progress: Progress | None,
    confirmations: dict[str, int],
    say: Callable[[str], None] | None = None,
    drift_priors: Mapping[str, DriftPrior] | None = None,
    loops: Mapping[str, int] | None = None,
) -> tuple[pyperf.BenchmarkSuite, Comparison]:
    """Run the suite, decide, and measure the suspects again up to `confirm_runs` times.

    Each confirmation run is a new suite run (its own run id) of the suspects alone;
    the decision is then made on all their runs together, so the head's between-run
    spread is estimated from its own runs too. `confirmations` counts, per benchmark,
    the extra runs it got. `loops` (the baseline's loop counts) makes head time the
    same loops as the baseline did, and spares the calibration.
    """
    from perfagent.measure.runner import run_suite

    head = run_suite(
        loaded,
        selected,
        settings,
        commit=commit,
        progress=progress,
        fingerprint=fingerprint,
        loops=loops,
    )
    comparison = stats.compare(
        base_samples,
        without_reference(results.samples_by_name(head)),
        settings.threshold_for,
        drift_priors=drift_priors,
    )

    def measure_again(suspects: list[str], _attempt: int) -> None:
        nonlocal head, comparison
        specs = [spec for spec in selected if spec.name in suspects]
        again = run_suite(
            loaded,
            specs,
            settings,
            commit=commit,
            progress=progress,
            fingerprint=fingerprint,
            loops=loops,
        )
        head = results.merge([head, again])
        pooled = results.samples_by_name(results.select(head, suspects))
        redecided = stats.compare(
            {n: base_samples[n] for n in suspects},
            pooled,
            settings.threshold_for,
            drift_priors=drift_priors,
        )
        comparison = comparison.replace(redecided.decisions)

    confirm_suspects(
        settings,
        lambda: [d.name for d in comparison.suspects],
        measure_again,
        how="measuring them again",
        say=say,
        confirmations=confirmations,
    )
    return head, comparison


def confirm_suspects(
    settings: Settings,
    suspects: Callable[[], list[str]],
    measure_again: Callable[[list[str], int], None],
    *,
    how: str,
    say: Callable[[str], None] | None,
    confirmations: dict[str, int],
) -> None:
    """The confirmation rounds of check and ab: while `suspects()` names benchmarks beyond
    the threshold, up to `confirmation_runs` times, say so and `measure_again(names,
    attempt)`; `confirmations` counts, per benchmark, the rounds it got."""
    total = confirmation_runs(settings)
    for attempt in range(1, total + 1):
        names = suspects()
        if not names:
            break
        if say is not None:
            say(
                f"{len(names)} benchmark(s) beyond the threshold, {how} "
                f"({attempt} of {total}): {', '.join(names)}"
            )
        measure_again(names, attempt)
        for name in names:
            confirmations[name] = confirmations.get(name, 0) + 1
