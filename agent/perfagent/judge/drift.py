"""Run-to-run drift learnt from the store's history, for comparisons that cannot see it.

With one suite run on each side, a comparison cannot estimate how much whole runs
drift on this machine (judge/stats.py): the processes of one run agree closely, and
a change of a few percent between two runs looks real. The store's archive of
earlier baselines of the same fingerprint and suite has seen that drift: each of
their runs is one more level of the same machine. The spread of those levels, less
the part that process noise explains, is the between-run variance used as a prior.
The code may differ from one baseline to the next; a real change between them only
widens the prior, which errs on the side of not failing a pull request on noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyperf

from perfagent import results
from perfagent.judge.stats import DriftPrior
from perfagent.store.base import BaselineStore


def from_history(history: Sequence[pyperf.BenchmarkSuite]) -> dict[str, DriftPrior]:
    """Per benchmark, the between-run variance the stored baselines show.

    Every suite run (a `perfagent_run_id` group, or a whole plain file) is one level;
    a benchmark needs at least two levels to have a prior.
    """
    levels: dict[str, list[np.ndarray]] = {}
    counts: dict[str, int] = {}
    for suite in history:
        for name, found in results.samples_by_name(suite).items():
            groups = [np.log(np.asarray(g, dtype=float)) for g in found.groups.values() if g]
            if groups:
                levels.setdefault(name, []).extend(groups)
                counts[name] = counts.get(name, 0) + 1
    priors: dict[str, DriftPrior] = {}
    for name, groups in levels.items():
        if len(groups) < 2:
            continue
        means = np.array([g.mean() for g in groups])
        df_within = sum(g.size - 1 for g in groups)
        ss_within = sum(float(((g - g.mean()) ** 2).sum()) for g in groups)
        within = ss_within / df_within if df_within > 0 else 0.0
        mean_inv_n = float(np.mean([1.0 / g.size for g in groups]))
        between = float(means.var(ddof=1)) - within * mean_inv_n
        priors[name] = DriftPrior(
            variance=max(0.0, between), df=len(groups) - 1, baselines=counts[name]
        )
    return priors


def store_priors(
    location: str, fingerprint: str | None, suite: str | None, *, one_run: bool
) -> tuple[dict[str, DriftPrior], str]:
    """`priors_for` the store at `location`, when both sides hold one run (`one_run`)
    and the files say which machine and suite they are; a store that does not exist
    yet has no history, which is no error."""
    if not one_run or fingerprint is None or suite is None:
        return {}, ""
    from perfagent.store import open_store
    from perfagent.store.git import is_git_spec

    if not is_git_spec(location) and not Path(location).is_dir():
        return {}, ""
    return priors_for(open_store(location), fingerprint, suite)


def priors_for(
    store: BaselineStore, fingerprint: str, suite: str
) -> tuple[dict[str, DriftPrior], str]:
    """Priors from the store's baselines (current and archived) of `fingerprint` and
    `suite`, and a label naming them ("" when there is no usable history)."""
    found = [
        entry
        for entry in store.entries(archived=True)
        if entry.fingerprint == fingerprint and entry.suite == suite and entry.error is None
    ]
    priors = from_history([results.load(entry.location) for entry in found])
    if not priors:
        return {}, ""
    label = f"{len(found)} stored baselines of {fingerprint}/{suite} in {store.location}"
    return priors, label
