"""Resolution, said out loud: the smallest slowdown a check would detect, per benchmark.

A gate at 10% is only a promise when the machine can see 10%. For one benchmark the
estimate of log(head/base) has a standard error `se` that follows from the variance
the data show and from the design (runs and processes per side, or pairs in `ab`):

    stored baseline: se^2 = sb^2 (1/R_b + 1/R_h) + sw^2 (1/(n_b R_b) + 1/(n_h R_h))
    ab:              se^2 = s_d^2 / n_pairs

with sw^2 the process (within-run) variance, sb^2 the run-to-run variance (the one
ANOVA of `stats.decide`), s_d the spread of the paired log-ratios. The smallest true
slowdown the interval tells from 1 with 90% power (two-sided 95% interval) is the
classic minimum detectable effect, exp((t_0.975 + z_0.90) se) - 1. When it exceeds the
threshold, a regression of the threshold's size goes unseen most of the time; the
advice then says how many processes per run would bring it under the threshold, or
that no process count can (run-to-run drift alone is too large: use `ab` or the
instructions metric).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

if TYPE_CHECKING:
    from perfagent.judge.stats import Comparison
    from perfagent.results import Samples

POWER = 0.90
CONFIDENCE = 0.95
# Beyond this many processes per run the advice is "use ab or instructions" instead.
MAX_PROCESSES = 60


@dataclass(frozen=True)
class Resolution:
    """What one benchmark's check can see."""

    name: str
    detectable: float  # percent: smallest slowdown detected with 90% power
    threshold: float  # percent
    standard_error: float  # of log(head/base)
    within: float  # process standard deviation, log scale
    between: float | None  # run-to-run standard deviation, log scale (None: not estimated)
    design: str  # "stored baseline" or "ab"
    needed: int | None  # processes per run (or pairs) that would see the threshold

    @property
    def sees_threshold(self) -> bool:
        return self.detectable <= self.threshold

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sees_threshold"] = self.sees_threshold
        for key in ("detectable", "standard_error", "within", "between"):
            if isinstance(data[key], float) and not math.isfinite(data[key]):
                data[key] = None
        return data

    def warning(self) -> str | None:
        """The sentence a command prints when the threshold is out of sight, else None."""
        if self.sees_threshold:
            return None
        seen = "no slowdown" if not math.isfinite(self.detectable) else f"{self.detectable:.0f}%"
        text = f"this machine cannot see {self.threshold:g}% on {self.name}; it can see {seen}"
        if self.design == "ab":
            if self.needed is not None:
                return text + f", give it {self.needed} pairs or use --metric instructions"
            return text + ", use --metric instructions"
        if self.needed is not None:
            return text + f", give it {self.needed} processes or use ab/instructions"
        return text + " (run-to-run drift alone hides it), use ab/instructions"


def _quantile_sum(df: float) -> float:
    """t_{0.975, df} + z_{0.90}: the standard errors between no change and a detectable one."""
    t = float(special.stdtrit(df, 0.5 + CONFIDENCE / 2.0)) if df > 0 else math.inf
    return t + float(special.ndtri(POWER))


def _detectable(se: float, df: float) -> float:
    if se == 0.0:
        return 0.0
    factor = _quantile_sum(df) * se
    return math.expm1(factor) * 100.0 if factor < 700 else math.inf


def variance_components(
    groups: Sequence[Sequence[float]],
) -> tuple[float, int, float | None, int]:
    """(within variance, its df, between variance or None, its df) of log process means.

    `groups` are the runs of one side; as in `stats.decide`, between-run variance is the
    spread of run means minus what process noise explains, floored at 0.
    """
    runs = [np.log(np.asarray(g, dtype=float)) for g in groups if len(g) > 0]
    df_within = sum(r.size - 1 for r in runs)
    ss_within = sum(float(((r - r.mean()) ** 2).sum()) for r in runs)
    var_within = ss_within / df_within if df_within > 0 else 0.0
    if len(runs) < 2:
        return var_within, df_within, None, 0
    means = np.array([r.mean() for r in runs])
    ms_between = float(means.var(ddof=1))
    mean_inv_n = float(np.mean([1.0 / r.size for r in runs]))
    return var_within, df_within, max(0.0, ms_between - var_within * mean_inv_n), len(runs) - 1


def stored_baseline(
    name: str,
    base_groups: Sequence[Sequence[float]],
    head_groups: Sequence[Sequence[float]],
    threshold: float,
    *,
    head_runs: int = 1,
    head_processes: int | None = None,
) -> Resolution:
    """What a check against this stored baseline sees, with a head of `head_runs` runs of
    `head_processes` processes (default: as many as the head's first run had)."""
    base = [list(g) for g in base_groups if len(g) > 0]
    head = [list(g) for g in head_groups if len(g) > 0]
    if not base:
        raise ValueError(f"benchmark {name}: no baseline process means")
    var_w_b, df_w_b, var_b_b, df_b_b = variance_components(base)
    var_w_h, df_w_h, var_b_h, df_b_h = variance_components(head) if head else (0.0, 0, None, 0)
    df_within = df_w_b + df_w_h
    var_within = (var_w_b * df_w_b + var_w_h * df_w_h) / df_within if df_within > 0 else 0.0
    betweens = [(v, d) for v, d in ((var_b_b, df_b_b), (var_b_h, df_b_h)) if v is not None]
    df_between = sum(d for _, d in betweens)
    var_between = (
        sum(v * d for v, d in betweens) / df_between if betweens and df_between > 0 else None
    )

    n_b = float(np.mean([len(g) for g in base]))
    n_h = float(head_processes or (len(head[0]) if head else n_b))
    return for_design(
        name,
        threshold,
        within=var_within,
        between=var_between,
        df=float(df_within + df_between),
        base_runs=len(base),
        base_processes=n_b,
        head_runs=head_runs,
        head_processes=n_h,
    )


def for_design(
    name: str,
    threshold: float,
    *,
    within: float,
    between: float | None,
    df: float,
    base_runs: int,
    base_processes: float,
    head_runs: int = 1,
    head_processes: float | None = None,
) -> Resolution:
    """What a stored-baseline check of this design sees, given the variances (log scale).

    `between` None: run-to-run drift not estimated, taken as 0 (the figure is then a
    lower bound). Used for a stored baseline and for `doctor --measure`'s probe.
    """
    n_h = head_processes or base_processes
    drift = between or 0.0
    run_weight = 1.0 / base_runs + 1.0 / head_runs
    se = math.sqrt(
        drift * run_weight + within * (1.0 / (base_processes * base_runs) + 1.0 / (n_h * head_runs))
    )
    df = df if df > 0 else 1.0
    detectable = _detectable(se, df)
    needed: int | None = None
    if detectable > threshold:
        target = math.log1p(threshold / 100.0) / _quantile_sum(df)
        room = target**2 - drift * run_weight
        if room > 0 and within > 0:
            # The same process count on both sides: n = sw^2 (1/R_b + 1/R_h) / room.
            n = math.ceil(within * run_weight / room)
            needed = n if n <= MAX_PROCESSES else None
    return Resolution(
        name=name,
        detectable=detectable,
        threshold=threshold,
        standard_error=se,
        within=math.sqrt(within),
        between=None if between is None else math.sqrt(between),
        design="stored baseline",
        needed=needed,
    )


def summary_lines(found: Sequence[Resolution], warnings: int = 5) -> list[str]:
    """What the commands print: the range seen, then a warning per blind spot (bounded)."""
    if not found:
        return []
    seen = sorted(r.detectable for r in found if math.isfinite(r.detectable))
    lines = []
    if seen:
        span = f"{seen[0]:.0f}%" if len(seen) == 1 else f"{seen[0]:.0f}-{seen[-1]:.0f}%"
        count = f"{len(found)} benchmark" + ("s" if len(found) != 1 else "")
        lines.append(
            f"resolution ({found[0].design}): detects slowdowns of {span} with 90% power ({count})"
        )
    blind = sorted((r for r in found if not r.sees_threshold), key=lambda r: -r.detectable)
    lines += [f"warning: {r.warning()}" for r in blind[:warnings]]
    if len(blind) > warnings:
        lines.append(
            f"warning: and {len(blind) - warnings} more benchmarks cannot see "
            f"{blind[0].threshold:g}%"
        )
    return lines


def for_comparison(
    comparison: Comparison, base: Mapping[str, Samples], head: Mapping[str, Samples]
) -> dict[str, Resolution]:
    """What a check of this design sees, per decided benchmark (head: one run, as its first)."""
    found: dict[str, Resolution] = {}
    for decision in comparison.decisions:
        if decision.name not in base or decision.name not in head:
            continue
        base_groups = [g for g in base[decision.name].groups.values() if g]
        head_groups = [g for g in head[decision.name].groups.values() if g]
        if not base_groups or not head_groups or sum(map(len, base_groups + head_groups)) < 3:
            continue
        found[decision.name] = stored_baseline(
            decision.name,
            base_groups,
            head_groups,
            decision.threshold,
            head_processes=len(head_groups[0]),
        )
    return found


def paired(name: str, log_ratios: Sequence[float], threshold: float) -> Resolution:
    """What `ab` sees with these pairs (and how many pairs would see the threshold)."""
    d = np.asarray(log_ratios, dtype=float)
    spread = float(d.std(ddof=1)) if d.size > 1 else math.inf
    return paired_design(name, spread, int(d.size), threshold)


def paired_design(name: str, spread: float, pairs: int, threshold: float) -> Resolution:
    """What `ab` with `pairs` pairs sees when its log-ratios spread by `spread`."""
    se = spread / math.sqrt(pairs) if pairs > 0 else math.inf
    detectable = _detectable(se, float(pairs - 1)) if math.isfinite(se) else math.inf
    needed: int | None = None
    if detectable > threshold and math.isfinite(spread) and spread > 0:
        # Normal quantiles for the planning figure; a t with the needed df is close.
        k = _quantile_sum(math.inf) * spread / math.log1p(threshold / 100.0)
        needed = max(pairs + 1, math.ceil(k * k))
    return Resolution(
        name=name,
        detectable=detectable,
        threshold=threshold,
        standard_error=se,
        within=spread / math.sqrt(2.0) if math.isfinite(spread) else math.inf,
        between=None,
        design="ab",
        needed=needed,
    )
