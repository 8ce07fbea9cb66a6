"""The decision: is a benchmark really slower than its baseline, and by how much?

Unit of independence
    The worker process. pyperf's values inside one process share its memory layout,
    hash seed and CPU placement, so they are not independent; treating them as such
    (as `pyperf compare_to` does) calls about half of same-code pairs "significant" on
    a shared machine. Each process contributes one number: the mean of its values.

Model
    For one benchmark, y = log(process mean) = mu_side + a_run + e_process, with a
    run effect a ~ N(0, sigma_b^2) shared by all processes of one suite run (the
    machine's state drifts between runs) and process noise e ~ N(0, sigma_w^2).
    Logs make the comparison a ratio and let one variance serve both sides even when
    the head is three times slower.

Estimate
    Each side's level is the mean of its run means (every run weighs the same,
    since a run's drift is shared by all its processes). The ratio head/base is
    exp(level_head - level_base): a geometric-mean ratio.

    sigma_w^2 is pooled from the spread of processes inside each run (both sides);
    sigma_b^2 from the spread of run means around their side's level, minus the part
    process noise explains (a method-of-moments ANOVA estimate, floored at 0). Both
    variances are shared by the sides: a baseline of N runs thereby gives the head,
    measured in one run, an honest between-run uncertainty, and the head's
    confirmation runs add to it. With a single run on each side nothing is known
    about drift, sigma_b^2 is taken as 0 and `between_run_estimated` says so, unless
    a prior from the store's history is given: of the two estimates of sigma_b^2, the
    one with more degrees of freedom is used (`drift_source` names it).

Interval
    Var(difference) = sigma_b^2 (1/R_b + 1/R_h) + sigma_w^2 (sum_b 1/n_r / R_b^2 +
    sum_h 1/n_r / R_h^2). The interval is a Welch-type t interval whose degrees of
    freedom come from Satterthwaite's approximation over the two variance
    components. We chose this over a bootstrap because the number of runs is tiny
    (1 to 5): a bootstrap over three run means cannot see their spread properly and
    gives intervals that are too short, while the t interval is exact for normal
    data and widens as it should when few runs estimate the drift.

Verdict
    `regression`: the ratio exceeds 1 + threshold and the interval lies above 1;
    `slower`: the interval lies above 1 (the change is real but within the threshold);
    `faster`: the interval lies below 1; `same`: otherwise.
    Near-deterministic data (instruction counts) has no spread, the interval
    collapses onto the ratio and the threshold alone decides; nothing divides by 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from scipy import special

from perfagent.results import Samples

CONFIDENCE = 0.95


class Verdict(StrEnum):
    REGRESSION = "regression"
    SLOWER = "slower"
    FASTER = "faster"
    SAME = "same"
    # Too little spread information to judge (one worker process on a side, ab with too
    # few pairs): never a regression unless the user asks for --strict.
    INCONCLUSIVE = "inconclusive"


# Fewer worker processes than this on a side leave nothing to estimate noise from.
MIN_PROCESSES = 2

# Where the between-run drift of a decision came from (said on the terminal).
DRIFT_MEASURED = "this comparison"
DRIFT_HISTORY = "the store's history"
DRIFT_NONE = "none"


@dataclass(frozen=True)
class DriftPrior:
    """A between-run variance (of log levels) learnt elsewhere, and its degrees of freedom."""

    variance: float
    df: int
    baselines: int = 0  # how many stored baselines it came from


@dataclass(frozen=True)
class SideSummary:
    """One side's process means in natural units: mean, standard deviation, counts."""

    mean: float
    std: float
    n_processes: int
    n_runs: int


@dataclass(frozen=True)
class Decision:
    """The verdict on one benchmark, with the numbers behind it."""

    name: str
    verdict: Verdict
    ratio: float  # head / base, geometric-mean ratio of run levels
    low: float  # confidence interval of the ratio
    high: float
    threshold: float  # percent
    base: SideSummary
    head: SideSummary
    df: float  # degrees of freedom of the interval (inf when it collapsed)
    between_run_estimated: bool
    note: str = ""
    unit: str = "second"  # pyperf's unit of the values, for display
    drift_source: str = DRIFT_MEASURED  # DRIFT_MEASURED, DRIFT_HISTORY or DRIFT_NONE

    @property
    def change_percent(self) -> float:
        return (self.ratio - 1.0) * 100.0

    @property
    def suspect(self) -> bool:
        """The estimate lies beyond the threshold: worth measuring again before failing."""
        return self.ratio > 1.0 + self.threshold / 100.0

    @property
    def regressed(self) -> bool:
        return self.verdict is Verdict.REGRESSION


def _log_groups(groups: Sequence[Sequence[float]], side: str) -> list[np.ndarray]:
    arrays = [np.log(np.asarray(g, dtype=float)) for g in groups if len(g) > 0]
    if not arrays:
        raise ValueError(f"no process means on the {side} side")
    for values in arrays:
        if not np.all(np.isfinite(values)):
            raise ValueError(f"process means on the {side} side must be finite and positive")
    return arrays


def _summary(groups: Sequence[Sequence[float]]) -> SideSummary:
    values = np.asarray([v for g in groups for v in g], dtype=float)
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return SideSummary(
        mean=float(values.mean()),
        std=std,
        n_processes=int(values.size),
        n_runs=sum(1 for g in groups if len(g) > 0),
    )


def decide(
    name: str,
    base_groups: Sequence[Sequence[float]],
    head_groups: Sequence[Sequence[float]],
    threshold: float,
    *,
    confidence: float = CONFIDENCE,
    unit: str = "second",
    drift_prior: DriftPrior | None = None,
) -> Decision:
    """Decide one benchmark from its process means, grouped by suite run.

    `threshold` is in percent. `drift_prior` is the between-run variance to assume
    when this comparison cannot estimate it as well (one run per side, or fewer runs
    than the prior rests on). Raises ValueError
    when a side has no process means.
    """
    base = _log_groups(base_groups, "baseline")
    head = _log_groups(head_groups, "current")
    runs = base + head
    r_base, r_head = len(base), len(head)

    base_means = np.array([g.mean() for g in base])
    head_means = np.array([g.mean() for g in head])
    level_base, level_head = float(base_means.mean()), float(head_means.mean())
    diff = level_head - level_base

    # Within-run (process) variance, pooled over every run of both sides.
    df_within = sum(g.size - 1 for g in runs)
    ss_within = sum(float(((g - g.mean()) ** 2).sum()) for g in runs)
    var_within = ss_within / df_within if df_within > 0 else 0.0

    # Between-run variance: run means around their own side's level.
    df_between = (r_base - 1) + (r_head - 1)
    mean_inv_n = float(np.mean([1.0 / g.size for g in runs]))
    if df_between > 0:
        spread = float(
            ((base_means - level_base) ** 2).sum() + ((head_means - level_head) ** 2).sum()
        )
        ms_between = spread / df_between
        var_between = max(0.0, ms_between - var_within * mean_inv_n)
    else:
        ms_between = 0.0
        var_between = 0.0
    drift_source = DRIFT_MEASURED if df_between > 0 else DRIFT_NONE
    if drift_prior is not None and drift_prior.df > df_between:
        # The better-informed estimate wins: the prior stands in for this comparison's
        # own between-run mean square when it rests on more runs (always with one run
        # per side). A store's history holds the baseline's runs and more, so it is the
        # better estimate of the machine's run-to-run drift whenever it has more levels.
        var_between = drift_prior.variance
        ms_between = var_between + var_within * mean_inv_n
        df_between = drift_prior.df
        drift_source = DRIFT_HISTORY

    run_weight = 1.0 / r_base + 1.0 / r_head
    process_weight = (
        sum(1.0 / g.size for g in base) / r_base**2 + sum(1.0 / g.size for g in head) / r_head**2
    )
    variance = var_between * run_weight + var_within * process_weight
    df = _satterthwaite(
        variance,
        var_between > 0.0,
        between_term=(run_weight * ms_between, df_between),
        within_term=((process_weight - run_weight * mean_inv_n) * var_within, df_within),
        within_only=(process_weight * var_within, df_within),
    )

    note = ""
    few = _too_few_processes(base_groups, head_groups)
    if few:
        note = few
    elif drift_source == DRIFT_NONE and r_base == 1 and r_head == 1:
        note = "one run per side: run-to-run drift not estimated"

    ratio = math.exp(diff)
    # stdtrit is Student's t quantile (scipy.stats.t.ppf without its per-call
    # overhead, which matters in the bench-gate simulation); df = inf gives the normal.
    half = float(special.stdtrit(df, 0.5 + confidence / 2.0)) * math.sqrt(variance)
    low, high = math.exp(diff - half), math.exp(diff + half)

    return Decision(
        name=name,
        verdict=Verdict.INCONCLUSIVE if few else classify(ratio, low, high, threshold),
        ratio=ratio,
        low=low,
        high=high,
        threshold=threshold,
        base=_summary(base_groups),
        head=_summary(head_groups),
        df=df,
        between_run_estimated=df_between > 0,
        note=note,
        unit=unit,
        drift_source=drift_source,
    )


def _too_few_processes(
    base_groups: Sequence[Sequence[float]], head_groups: Sequence[Sequence[float]]
) -> str:
    """Why a decision is inconclusive ("" when it is not): a side with one process.

    The values inside one process are not independent (stats.py's module docstring),
    so one process gives one observation and no spread; the interval would collapse
    onto the ratio and any difference would look real.
    """
    sides = []
    for label, groups in (("baseline", base_groups), ("current", head_groups)):
        count = sum(len(g) for g in groups)
        if count < MIN_PROCESSES:
            sides.append(label)
    if not sides:
        return ""
    where = "each side" if len(sides) == 2 else f"the {sides[0]} side"
    return f"one worker process on {where}: no spread to judge by"


def _satterthwaite(
    variance: float,
    has_between: bool,
    *,
    between_term: tuple[float, int],
    within_term: tuple[float, int],
    within_only: tuple[float, int],
) -> float:
    """Degrees of freedom of a sum of independent mean squares (Satterthwaite, 1946)."""
    if variance <= 0.0:
        return math.inf
    terms = [between_term, within_term] if has_between else [within_only]
    denominator = sum(value**2 / df for value, df in terms if df > 0 and value != 0.0)
    if denominator <= 0.0:
        return math.inf
    # At least one degree of freedom: fewer would come only from rounding.
    return max(1.0, variance**2 / denominator)


def classify(ratio: float, low: float, high: float, threshold: float) -> Verdict:
    """The verdict for a ratio and its interval at a threshold in percent."""
    if low > 1.0 and ratio > 1.0 + threshold / 100.0:
        return Verdict.REGRESSION
    if low > 1.0:
        return Verdict.SLOWER
    if high < 1.0:
        return Verdict.FASTER
    return Verdict.SAME


@dataclass(frozen=True)
class Comparison:
    """Decisions for every benchmark present on both sides, and those on one side only."""

    decisions: list[Decision]
    only_in_base: list[str] = field(default_factory=list)
    only_in_head: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Decision]:
        return [d for d in self.decisions if d.regressed]

    @property
    def inconclusive(self) -> list[Decision]:
        return [d for d in self.decisions if d.verdict is Verdict.INCONCLUSIVE]

    @property
    def suspects(self) -> list[Decision]:
        return [d for d in self.decisions if d.suspect]

    def replace(self, updated: Sequence[Decision]) -> Comparison:
        """This comparison with some decisions re-made (after confirmation runs)."""
        by_name = {d.name: d for d in updated}
        return Comparison(
            decisions=[by_name.get(d.name, d) for d in self.decisions],
            only_in_base=self.only_in_base,
            only_in_head=self.only_in_head,
        )


def compare(
    base: Mapping[str, Samples],
    head: Mapping[str, Samples],
    threshold_for: Callable[[str], float],
    *,
    confidence: float = CONFIDENCE,
    drift_priors: Mapping[str, DriftPrior] | None = None,
) -> Comparison:
    """Decide every benchmark the two sides share; `threshold_for(name)` is in percent.

    `drift_priors` (by benchmark) stand in for the between-run drift where a side has
    one run only (`judge.drift.from_history`)."""
    decisions = [
        decide(
            name,
            list(base[name].groups.values()),
            list(head[name].groups.values()),
            threshold_for(name),
            confidence=confidence,
            unit=head[name].unit,
            drift_prior=(drift_priors or {}).get(name),
        )
        for name in head
        if name in base
    ]
    return Comparison(
        decisions=decisions,
        only_in_base=[n for n in base if n not in head],
        only_in_head=[n for n in head if n not in base],
    )
