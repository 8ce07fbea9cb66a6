#!/usr/bin/env python3
"""How well does the regression gate decide? A seeded simulation (run by `make bench-gate`).

For each noise profile and true slowdown it simulates many checks exactly as
`perfagent check` makes them and counts how often the gate fails:

* the baseline pools `--baseline-runs` suite runs of `--processes` worker processes;
* the head is one suite run; a benchmark whose estimate lies beyond the threshold is
  measured again, up to `--confirm-runs` more runs, and decided on all its runs;
* a log process mean = log(true level) + run drift ~ N(0, drift) + process noise
  ~ N(0, process CV), the model `perfagent.judge.stats` assumes (and what the machine shows:
  single pyperf values vary 12-25% here, whole runs 5-19%).

Rows: "gate" is the decision as shipped; "no confirm" is the same without the
re-measurement; "naive" is what pyperf's compare_to-style reasoning gives: every value
independent, a t-test on the values, and a failure when the test is significant and
the mean ratio is beyond the threshold. Columns: false alarms on unchanged code
(1.00x), alarms on a 5% slowdown that is within the threshold (1.05x), and detection
of 15% and 20% slowdowns.

This is a benchmark, not a test: it prints figures and always exits 0.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent"))

from perfagent.judge.stats import decide
from scipy import stats as scipy_stats

RATIOS = (1.00, 1.05, 1.15, 1.20)
COLUMNS = ("false alarms 1.00x", "alarms 1.05x", "detected 1.15x", "detected 1.20x")


@dataclass(frozen=True)
class Profile:
    name: str
    process_cv: float
    drift: float  # standard deviation of a whole run's level, log scale
    value_cv: float  # spread of values inside one process (only the naive rule sees it)


PROFILES = (
    Profile("quiet (process CV 1%)", 0.01, 0.0, 0.01),
    Profile("noisy (process CV 5%, run drift 3%)", 0.05, 0.03, 0.03),
)


@dataclass(frozen=True)
class Design:
    processes: int
    values: int
    baseline_runs: int
    confirm_runs: int
    threshold: float  # percent


def simulate_run(
    rng: np.random.Generator, profile: Profile, design: Design, ratio: float
) -> np.ndarray:
    """One suite run of one benchmark: its values, shape (processes, values)."""
    run_level = math.log(ratio) + rng.normal(0.0, profile.drift)
    process_levels = run_level + rng.normal(0.0, profile.process_cv, design.processes)
    noise = rng.normal(0.0, profile.value_cv, (design.processes, design.values))
    return np.exp(process_levels[:, None] + noise)


def means(run: np.ndarray) -> list[float]:
    return [float(v) for v in run.mean(axis=1)]


def gate_fails(
    rng: np.random.Generator, profile: Profile, design: Design, ratio: float, confirm: int
) -> bool:
    base = [means(simulate_run(rng, profile, design, 1.0)) for _ in range(design.baseline_runs)]
    head = [means(simulate_run(rng, profile, design, ratio))]
    decision = decide("b", base, head, design.threshold)
    for _ in range(confirm):
        if not decision.suspect:
            break
        head.append(means(simulate_run(rng, profile, design, ratio)))
        decision = decide("b", base, head, design.threshold)
    return decision.regressed


def naive_test(
    rng: np.random.Generator, profile: Profile, design: Design, ratio: float
) -> tuple[bool, float]:
    """A t-test over all values as if independent: (significant?, mean ratio)."""
    base = np.concatenate(
        [simulate_run(rng, profile, design, 1.0).ravel() for _ in range(design.baseline_runs)]
    )
    head = simulate_run(rng, profile, design, ratio).ravel()
    significant = bool(scipy_stats.ttest_ind(base, head).pvalue < 0.05)
    return significant, float(head.mean() / base.mean())


def naive_fails(rng: np.random.Generator, profile: Profile, design: Design, ratio: float) -> bool:
    significant, mean_ratio = naive_test(rng, profile, design, ratio)
    return significant and mean_ratio > 1.0 + design.threshold / 100.0


def fails(
    rule: str, rng: np.random.Generator, profile: Profile, design: Design, ratio: float
) -> bool:
    """Whether one simulated check fails under `rule` (see the module docstring)."""
    if rule == "naive":
        return naive_fails(rng, profile, design, ratio)
    confirm = design.confirm_runs if rule == "gate" else 0
    return gate_fails(rng, profile, design, ratio, confirm)


def rate(count: int, trials: int) -> str:
    return f"{100.0 * count / trials:5.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000, help="checks per cell (default 1000)")
    parser.add_argument("--threshold", type=float, default=10.0, help="percent (default 10)")
    parser.add_argument(
        "--processes", type=int, default=2, help="worker processes per run (default 2, hazelbean's)"
    )
    parser.add_argument("--values", type=int, default=5, help="values per process (default 5)")
    parser.add_argument(
        "--baseline-runs", type=int, default=3, help="default 3 (the seed's --runs)"
    )
    parser.add_argument("--confirm-runs", type=int, default=2, help="default 2 (perfagent's)")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    design = Design(
        args.processes, args.values, args.baseline_runs, args.confirm_runs, args.threshold
    )

    started = time.perf_counter()
    print(
        f"Regression gate at threshold {design.threshold:g}%: {args.trials} simulated checks per "
        f"cell; baseline {design.baseline_runs} runs x {design.processes} processes x "
        f"{design.values} values; head 1 run, suspects re-measured up to "
        f"{design.confirm_runs} times.\n"
    )
    name_width = max(len(p.name) for p in PROFILES) + 14
    header = f"{'profile / rule':<{name_width}}" + "".join(f"{c:>20}" for c in COLUMNS)
    print(header)
    print("-" * len(header))
    for index, profile in enumerate(PROFILES):
        for rule_index, rule in enumerate(("gate", "no confirm", "naive")):
            rng = np.random.default_rng([args.seed, index, rule_index])
            cells = []
            for ratio in RATIOS:
                count = sum(fails(rule, rng, profile, design, ratio) for _ in range(args.trials))
                cells.append(rate(count, args.trials))
            label = f"{profile.name} {rule}"
            print(f"{label:<{name_width}}" + "".join(f"{c:>20}" for c in cells))
    noisy = PROFILES[-1]
    rng = np.random.default_rng([args.seed, 99])
    flagged = sum(naive_test(rng, noisy, design, 1.0)[0] for _ in range(args.trials))
    print(
        f"\nThe naive t-test alone (no threshold) calls {rate(flagged, args.trials).strip()} of "
        f"unchanged pairs 'significant' in the {noisy.name.split(' (')[0]} profile: values of one "
        "worker process are not independent."
    )
    worst = 196.0 * math.sqrt(0.25 / args.trials)
    print(
        f"\nRates are per benchmark, each from {args.trials} checks: within +-{worst:.1f} points "
        "(95%) near 50%, much closer near 0% and 100%.\nA suite of k benchmarks raises a "
        "false alarm with probability 1 - (1 - rate)^k."
    )
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
