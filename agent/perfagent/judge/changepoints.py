"""Change-point detection on a series of baseline means: e-divisive means.

A regression can creep in a few percent at a time, each step under the gate's
threshold. Looking at the whole series of baselines finds such a creep: e-divisive
means (Matteson and James, "A nonparametric approach for multiple change point
analysis of multivariate data", JASA 2014) splits the series where the energy
distance between the two sides is largest, and keeps the split only when a
permutation test says a split that large is unlikely in a series without change.
It then looks for further splits inside the pieces, hierarchically, until the
best remaining one is not significant. MongoDB's performance CI uses the same method.

Why it is written here on top of SciPy rather than imported: the maintained
implementation (`signal-processing-algorithms`) pins numpy<2 and Python 3.11 only,
which would break the hazelbean environment (GDAL built against numpy 2), and
Apache Otava pulls in cloud-database clients. SciPy (already a dependency) provides
the permutation test; the energy statistic below is the paper's, for one dimension
with exponent 1, computed for every split at once from prefix sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# A change point needs at least this many baselines on each side: one odd baseline
# alone is the single gate's business (and the energy statistic's within-sample
# distance needs two points).
MIN_SEGMENT = 2
# Significance level of the permutation test, as in the e-divisive paper.
ALPHA = 0.05
# Permutations per test: p-values resolve to 1/200; series of up to 5 points are
# tested exactly (5! = 120 orderings).
PERMUTATIONS = 199
# Bound on the pairwise-distance arrays built per batch of permutations (elements),
# so a long archive does not need gigabytes.
_BATCH_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class ChangePoint:
    """A place in a series where its level changes.

    `index` is the first point of the new level; `before` and `after` are the means
    of the segments on either side (between the neighbouring change points).
    """

    index: int
    p_value: float
    before: float
    after: float

    @property
    def shift(self) -> float:
        """The relative step, after/before - 1 (0.05: 5% higher)."""
        return self.after / self.before - 1.0 if self.before else float("inf")


def split_statistics(series: FloatArray, min_size: int = MIN_SEGMENT) -> FloatArray:
    """The e-divisive statistic Q(k) for every split k in [min_size, n - min_size].

    `series` has shape (..., n); the leading axes are batches (permutations). With
    A = series[:k], B = series[k:], m = n - k:

        Q(k) = k m / n * (2 E|a - b| - E|a - a'| - E|b - b'|)

    the scaled energy distance between the two sides (within-side means over
    distinct pairs). Sums over the blocks of the pairwise-distance matrix come from
    its 2-D prefix sums, so all splits cost O(n^2) together.
    """
    n = series.shape[-1]
    distance = np.abs(series[..., :, None] - series[..., None, :])
    prefix = distance.cumsum(axis=-1).cumsum(axis=-2)
    k = np.arange(min_size, n - min_size + 1)
    m = n - k
    left = prefix[..., k - 1, k - 1]  # sum over A x A (each pair twice)
    cross = prefix[..., k - 1, n - 1] - left  # sum over A x B
    total = prefix[..., n - 1, n - 1][..., None]
    right = total - 2 * cross - left  # sum over B x B (each pair twice)
    energy = 2 * cross / (k * m) - left / (k * (k - 1)) - right / (m * (m - 1))
    result: FloatArray = (k * m / n) * energy
    return result


def _best_split_statistic(series: FloatArray, axis: int = -1) -> FloatArray:
    """The largest Q(k) of each series (SciPy's vectorised statistic signature)."""
    result: FloatArray = split_statistics(np.moveaxis(series, axis, -1)).max(axis=-1)
    return result


def _p_value(segment: FloatArray, rng: np.random.Generator, permutations: int) -> float:
    """How often a random reordering of `segment` has a best split at least as strong."""
    from scipy.stats import permutation_test

    n = segment.shape[-1]
    result = permutation_test(
        (segment,),
        _best_split_statistic,
        # One sample with 'pairings' permutes the order of its points: the null
        # hypothesis is that the order (time) does not matter.
        permutation_type="pairings",
        vectorized=True,
        n_resamples=permutations,
        alternative="greater",
        batch=max(1, _BATCH_ELEMENTS // (n * n)),
        random_state=rng,
    )
    return float(result.pvalue)


def e_divisive(
    values: Sequence[float],
    *,
    min_size: int = MIN_SEGMENT,
    alpha: float = ALPHA,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> list[ChangePoint]:
    """The significant change points of `values`, in series order.

    Hierarchical: the strongest split over all current segments is tested on its
    segment; if significant at `alpha` it is kept and the search goes on inside
    the two new segments, otherwise the search stops. The permutations are seeded,
    so the same series always gives the same answer.
    """
    if min_size < 2:
        raise ValueError("min_size must be at least 2")
    series = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    segments = [(0, len(series))]
    found: dict[int, float] = {}
    while True:
        best: tuple[float, int, int, int] | None = None
        for start, end in segments:
            if end - start < 2 * min_size:
                continue
            statistics = split_statistics(series[start:end], min_size)
            at = int(np.argmax(statistics))
            if best is None or statistics[at] > best[0]:
                best = (float(statistics[at]), start, end, start + min_size + at)
        if best is None or best[0] <= 0:
            break
        _, start, end, split = best
        p_value = _p_value(series[start:end], rng, permutations)
        if p_value > alpha:
            break
        found[split] = p_value
        segments.remove((start, end))
        segments += [(start, split), (split, end)]
    return _with_levels(series, found)


def _with_levels(series: FloatArray, found: dict[int, float]) -> list[ChangePoint]:
    """Change points with the means of the segments on either side."""
    indices = sorted(found)
    levels = segment_means(series, indices)
    return [
        ChangePoint(index=index, p_value=found[index], before=levels[i][2], after=levels[i + 1][2])
        for i, index in enumerate(indices)
    ]


def segment_means(
    values: Sequence[float] | FloatArray, indices: Sequence[int]
) -> list[tuple[int, int, float]]:
    """(start, end, mean) of each segment of `values` cut at `indices` (sorted)."""
    series = np.asarray(values, dtype=np.float64)
    edges = [0, *indices, len(series)]
    return [
        (start, end, float(series[start:end].mean()))
        for start, end in pairwise(edges)
        if end > start
    ]
