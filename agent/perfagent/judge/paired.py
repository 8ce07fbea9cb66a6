"""The decision of `perfagent ab`: base and head measured in alternating worker processes.

Design
    `ab` runs base and head in the same job, one worker process of each per pair, the
    order inside each pair drawn at random (randomized multiple interleaved trials,
    Abedi & Brecht 2017; duet benchmarking, Bulej et al. 2020). The two processes of a
    pair run seconds apart, so whatever the machine does on a scale of minutes (another
    job, a frequency change, a noisy neighbour on a cloud host) hits both alike.

Model
    For one benchmark and pair i, d_i = log(head_i) - log(base_i), where head_i and
    base_i are the two processes' means. Drift shared by the pair cancels in d_i; what
    is left is process noise, independent between pairs. The d_i are taken as
    independent draws of N(delta, s^2); the ratio head/base is exp(mean d).

Interval
    Student's t interval on the mean of the d_i, n - 1 degrees of freedom. Chosen over a
    bootstrap because n is small (8 to 20 pairs): a percentile bootstrap of so few
    values is too short, while the t interval is exact for normal log-ratios and is
    known to hold up for the mild skew process means show. Random order inside a pair
    keeps a systematic "second process is slower" effect (cache warmth, page cache)
    from biasing delta: it lands in s instead.

Verdict
    As the stored-baseline decision (`stats.classify`): `regression` when the ratio
    exceeds 1 + threshold and the interval lies above 1, `slower`, `faster`, `same`.
    With fewer than MIN_PAIRS pairs nothing is known about the spread: `inconclusive`,
    never a regression. Instruction counts repeat exactly: the interval collapses onto
    the ratio and the threshold alone decides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from perfagent.judge.stats import CONFIDENCE, Comparison, Decision, SideSummary, Verdict, classify

# Fewer pairs than this give a spread estimate on 1 degree of freedom: no verdict.
MIN_PAIRS = 3
# Pairs `perfagent ab` measures unless told otherwise (make bench-gate chose it).
DEFAULT_PAIRS = 10


@dataclass(frozen=True)
class PairedSamples:
    """One benchmark's process means, pair by pair: base[i] and head[i] ran side by side."""

    name: str
    unit: str
    base: tuple[float, ...]
    head: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.base) != len(self.head):
            raise ValueError(
                f"benchmark {self.name}: {len(self.base)} base and {len(self.head)} head "
                "process means do not pair up"
            )

    @property
    def n_pairs(self) -> int:
        return len(self.base)

    def log_ratios(self) -> np.ndarray:
        base = np.asarray(self.base, dtype=float)
        head = np.asarray(self.head, dtype=float)
        if not (np.all(np.isfinite(base)) and np.all(base > 0)):
            raise ValueError(f"benchmark {self.name}: base process means must be positive")
        if not (np.all(np.isfinite(head)) and np.all(head > 0)):
            raise ValueError(f"benchmark {self.name}: head process means must be positive")
        ratios: np.ndarray = np.log(head) - np.log(base)
        return ratios


def _summary(values: Sequence[float]) -> SideSummary:
    array = np.asarray(values, dtype=float)
    return SideSummary(
        mean=float(array.mean()),
        std=float(array.std(ddof=1)) if array.size > 1 else 0.0,
        n_processes=int(array.size),
        n_runs=1,
    )


def decide_paired(
    samples: PairedSamples,
    threshold: float,
    *,
    confidence: float = CONFIDENCE,
    min_pairs: int = MIN_PAIRS,
) -> Decision:
    """Decide one benchmark from its pairs; `threshold` in percent.

    Raises ValueError when there is no pair at all.
    """
    if samples.n_pairs == 0:
        raise ValueError(f"benchmark {samples.name}: no pairs measured")
    d = samples.log_ratios()
    n = d.size
    mean = float(d.mean())
    ratio = math.exp(mean)
    base, head = _summary(samples.base), _summary(samples.head)
    spread = float(d.std(ddof=1)) if n > 1 else 0.0

    if spread == 0.0 and n > 1:
        # Exact repeats (instruction counts): the threshold alone decides.
        return Decision(
            name=samples.name,
            verdict=classify(ratio, ratio, ratio, threshold),
            ratio=ratio,
            low=ratio,
            high=ratio,
            threshold=threshold,
            base=base,
            head=head,
            df=math.inf,
            between_run_estimated=True,
            note=f"{n} pairs with identical ratios: the threshold alone decided",
            unit=samples.unit,
        )
    if n < min_pairs:
        return Decision(
            name=samples.name,
            verdict=Verdict.INCONCLUSIVE,
            ratio=ratio,
            low=0.0,
            high=math.inf,
            threshold=threshold,
            base=base,
            head=head,
            df=float(max(n - 1, 0)),
            between_run_estimated=False,
            note=f"{n} pair(s): at least {min_pairs} are needed to judge the spread",
            unit=samples.unit,
        )
    df = float(n - 1)
    half = float(special.stdtrit(df, 0.5 + confidence / 2.0)) * spread / math.sqrt(n)
    low, high = math.exp(mean - half), math.exp(mean + half)
    return Decision(
        name=samples.name,
        verdict=classify(ratio, low, high, threshold),
        ratio=ratio,
        low=low,
        high=high,
        threshold=threshold,
        base=base,
        head=head,
        df=df,
        between_run_estimated=True,
        note=f"{n} pairs of alternating processes",
        unit=samples.unit,
    )


def compare_paired(
    pairs: Mapping[str, PairedSamples],
    threshold_for: Callable[[str], float],
    *,
    confidence: float = CONFIDENCE,
    only_in_base: Sequence[str] = (),
    only_in_head: Sequence[str] = (),
) -> Comparison:
    """Decide every paired benchmark; `threshold_for(name)` is in percent."""
    return Comparison(
        decisions=[
            decide_paired(samples, threshold_for(name), confidence=confidence)
            for name, samples in pairs.items()
        ],
        only_in_base=list(only_in_base),
        only_in_head=list(only_in_head),
    )
