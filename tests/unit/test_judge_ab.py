"""judge/ab.py: a paired run becomes a check-shaped outcome (no measuring here)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pyperf
import pytest
from perfagent.config import load_settings
from perfagent.errors import ExitCode, UsageError
from perfagent.judge.ab import outcome_of, sides_from
from perfagent.measure.pairs import PairedRun, Sides
from perfagent.measure.reference import NAME as REFERENCE


def _suite(means: dict[str, list[float]]) -> pyperf.BenchmarkSuite:
    benchmarks = [
        pyperf.Benchmark(
            [
                pyperf.Run([m], metadata={"name": name, "unit": "second"}, collect_metadata=False)
                for m in values
            ]
        )
        for name, values in means.items()
    ]
    return pyperf.BenchmarkSuite(benchmarks)


def _run(base: dict[str, list[float]], head: dict[str, list[float]]) -> PairedRun:
    return PairedRun(
        base=_suite(base),
        head=_suite(head),
        means={name: (base[name], head[name]) for name in base},
        first=("base", "head") * (len(next(iter(base.values()))) // 2),
        seed=7,
        seconds=1.0,
    )


def test_a_slower_head_is_a_regression_and_the_reference_is_not_judged() -> None:
    base = {"a.x": [1.0, 1.02, 0.98, 1.01], REFERENCE: [1.0, 1.0, 1.0, 1.0]}
    head = {"a.x": [2.0, 2.05, 1.97, 2.02], REFERENCE: [3.0, 3.0, 3.1, 2.9]}
    outcome = outcome_of(_run(base, head), load_settings({}), Sides(), "demo")
    assert [d.name for d in outcome.comparison.decisions] == ["a.x"]
    assert outcome.exit_code == ExitCode.REGRESSION
    assert outcome.resolutions["a.x"].design == "ab"
    assert "ab: 4 pairs of worker processes" in outcome.notes[0]
    assert "A/A run" in outcome.notes[1]  # the same interpreter on both sides
    assert REFERENCE not in outcome.base_samples


def test_identical_sides_pass() -> None:
    same = {"a.x": [1.0, 1.02, 0.98, 1.01]}
    outcome = outcome_of(
        _run(same, {"a.x": [1.01, 0.99, 1.0, 1.0]}), load_settings({}), Sides(), "demo"
    )
    assert outcome.exit_code == ExitCode.OK


def test_sides_default_to_this_interpreter_and_reject_a_missing_one(tmp_path: Path) -> None:
    sides = sides_from(None, None)
    assert sides.base_python == sides.head_python == str(Path(sys.executable).absolute())
    with pytest.raises(UsageError, match="not an executable Python interpreter"):
        sides_from(str(tmp_path / "missing"), None)


def test_suspects_get_as_many_pairs_again_and_the_rest_keep_theirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ab measures its suspects again, as check does: `pairs` more pairs each time."""
    import types

    import numpy as np
    from perfagent.judge import ab as ab_module
    from perfagent.machine import fingerprint
    from perfagent.measure import pairs as pairs_module
    from perfagent.measure import suite as suite_module

    rng = np.random.default_rng(5)
    calls: list[tuple[list[str], int | None, dict[str, int] | None]] = []
    ratios = {"a.slower": 1.3, "b.same": 1.0}

    def fake_run_pairs(_suite, specs, _settings, *, pairs, seed, reuse_loops=None, **_):  # type: ignore[no-untyped-def]
        names = [spec.name for spec in specs]
        calls.append((names, seed, reuse_loops))
        base = {n: list(np.exp(rng.normal(0, 0.3, pairs))) for n in names}
        head = {n: [b * ratios[n] * np.exp(rng.normal(0, 0.3)) for b in base[n]] for n in names}
        run = _run(base, head)
        return dataclasses.replace(run, seed=seed or 7, loops={n: 4 for n in names})

    specs = [types.SimpleNamespace(name=n) for n in ratios]
    loaded = types.SimpleNamespace(name="demo", select=lambda _patterns: specs)
    monkeypatch.setattr(pairs_module, "run_pairs", fake_run_pairs)
    monkeypatch.setattr(suite_module, "load_suite", lambda _path: loaded)
    monkeypatch.setattr(fingerprint, "collect", lambda: types.SimpleNamespace(id="fp", hardware={}))
    said: list[str] = []
    settings = load_settings({"output_dir": str(tmp_path)})
    done = ab_module.ab(settings, Sides(), pairs=10, seed=11, say=said.append)

    # the first call measured both; each later one only what was still beyond 10%
    assert calls[0][0] == ["a.slower", "b.same"]
    assert all(names == ["a.slower"] for names, _seed, _loops in calls[1:])
    assert 1 < len(calls) <= 1 + settings.confirm_runs
    assert [seed for _names, seed, _loops in calls] == list(range(11, 11 + len(calls)))
    assert all(loops == {"a.slower": 4, "b.same": 4} for _n, _s, loops in calls[1:])
    outcome = done.outcome
    by_name = {d.name: d for d in outcome.comparison.decisions}
    assert by_name["a.slower"].base.n_processes == 10 * len(calls)
    assert by_name["b.same"].base.n_processes == 10
    assert outcome.confirmation_runs == {"a.slower": len(calls) - 1}
    assert any("measuring 10 more pairs of them (1 of 2): a.slower" in s for s in said)
    assert "ab: 10 pairs of worker processes" in outcome.notes[0]
    assert "got 10 more pairs" in outcome.notes[0]
    assert outcome.exit_code == ExitCode.REGRESSION
