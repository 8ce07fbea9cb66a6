"""judge/drift.py: the between-run variance the store's earlier baselines show."""

from __future__ import annotations

import math

from perfagent import results
from perfagent.judge import drift
from real_data import own_file


def test_history_of_the_aa_machine_gives_each_benchmark_its_drift() -> None:
    history = [results.load(own_file(f"aa_history_{i}.json")) for i in range(1, 5)]
    priors = drift.from_history(history)
    assert set(priors) >= {"nbody", "logging_silent", "json_dumps"}
    nbody, quiet = priors["nbody"], priors["json_dumps"]
    assert (nbody.df, nbody.baselines) == (3, 4)
    # nbody's levels wander by about 3.5% (log sd), json_dumps' by well under 1%.
    assert 0.02 < math.sqrt(nbody.variance) < 0.05
    assert math.sqrt(quiet.variance) < 0.01


def test_one_run_teaches_nothing() -> None:
    assert drift.from_history([results.load(own_file("aa_history_1.json"))]) == {}
