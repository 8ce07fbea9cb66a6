#!/usr/bin/env python3
"""Decision rules side by side on real workloads on this machine (`make bench-gate`).

The question: with the time metric and a 10% threshold, how often does each rule a
project could use raise a false alarm on unchanged code, and how often does it catch
a slowdown of 1.10x, 1.15x, 1.20x, and at what cost in machine time?

Recording (the expensive part, done once)
    A stream of worker processes of `perfagent.measure.runner.run_worker`, each
    measuring every benchmark of a suite (and the reference workload) in its own
    shuffled order, with loop counts calibrated once. The stream is cut into trials;
    a trial is PAIRS pairs of one "base" process (the code as written) and one "head"
    process (the code with slowdowns injected), the order inside each pair drawn at
    random. In trial t benchmark j is made CONDITIONS[(j + t) % 4] times slower
    (1.00, 1.10, 1.15, 1.20): like a pull request that slows some functions and not
    others. Slowdowns are real extra work in the workload (PERFAGENT_GATE_SLOWDOWN,
    tests/suites/gatebench/slowdown.py), so every rule sees the same kind of change.
    Raw measurements go to a JSON-lines file as they come.

Judging (cheap, from the same raw runs)
    For benchmark j in trial t each rule gives one verdict from the same processes:

    * check (stored baseline, today's rule): the baseline is 3 runs of N base
      processes taken from trials t-1, t-2, t-3 (minutes earlier; cyclically for the
      first trials), the head run is the first N head processes of trial t; a suspect
      (estimate beyond the threshold) is measured again with the next N head
      processes, up to 2 times, as `perfagent check` does (`stats.decide`).
    * check + history prior: the same, with the between-run variance prior the store's
      history gives (judge/stats.py; shown when that function exists).
    * ab: `judge.paired.decide_paired` on the trial's pairs (all of them, and half).
    * pyperf compare_to: every value independent, Student's t-test (pyperf's own
      `is_significant`, which counts as significant whatever it cannot test, such as
      samples of unequal size) between the baseline file and the head run, and a
      regression when significant and the mean ratio exceeds the threshold.
    * pytest-benchmark --benchmark-compare-fail=mean:10%: the head run's mean against
      the mean of the one saved run (trial t-1), fail beyond 10%.

    Wall time per verdict: the summed wall time of the worker processes a rule's
    verdict needed (head processes for stored-baseline rules, whose baseline was paid
    for once; both sides for ab, the slower of each pair for a duet), as recorded.

Honest limits: the stored baseline here is minutes old, not days; a real one has seen
more drift, which favours the stored-baseline rows. Cells of one column share base
processes (that correlates the cells, it does not bias them).

A benchmark, not a test: it prints the table (with `uptime` before and after) and
exits 0 unless recording fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "agent"))

SUITE = ROOT / "tests" / "suites" / "gatebench"
SLOWDOWN_VARIABLE = "PERFAGENT_GATE_SLOWDOWN"
CONDITIONS = (1.00, 1.10, 1.15, 1.20)
THRESHOLD = 10.0
CONFIRM_RUNS = 2
BASELINE_RUNS = 3
# Earlier 1-run baselines the history prior learns from (as the store's archive).
HISTORY = 5


@dataclass(frozen=True)
class Stream:
    """One recorded stream: a set of benchmarks, its design, its repeats."""

    name: str
    pattern: str  # benchmark name prefix(es), comma-separated
    trials: int
    pairs: int
    processes: int  # N: processes of one stored-baseline run
    # Duet: the two processes of a pair run at the same time on two CPUs, the same
    # benchmark order in both (Bulej et al. 2020), instead of one after the other.
    concurrent: bool = False


STREAMS = {
    "mixed": Stream("mixed", "cpu.,memory.,io.,numeric.", trials=20, pairs=10, processes=3),
    "duet": Stream(
        "duet", "cpu.,memory.,io.,numeric.", trials=20, pairs=10, processes=3, concurrent=True
    ),
    "hazelbean": Stream("hazelbean", "hazelbean.", trials=20, pairs=6, processes=2),
}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def uptime() -> str:
    try:
        return subprocess.run(
            ["uptime"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return open("/proc/loadavg", encoding="ascii").read().strip()


# --- recording --------------------------------------------------------------------


def _selected(names: Sequence[str], stream: Stream) -> list[str]:
    prefixes = tuple(p for p in stream.pattern.split(",") if p)
    return [n for n in names if n.startswith(prefixes)]


def assignment(names: Sequence[str], trial: int) -> dict[str, float]:
    """The slowdown of each benchmark in one trial: the conditions rotate over trials."""
    return {name: CONDITIONS[(j + trial) % len(CONDITIONS)] for j, name in enumerate(names)}


def record(stream: Stream, raw: Path, seed: int) -> None:
    """Measure the stream's trials, appending one JSON line per worker process to `raw`."""
    from perfagent.measure import runner
    from perfagent.measure.reference import NAME as REFERENCE
    from perfagent.measure.suite import load_suite

    suite = load_suite(SUITE)
    names = _selected(suite.names, stream)
    if not names:
        raise SystemExit(f"stream {stream.name}: no benchmark of {SUITE} matches {stream.pattern}")
    defaults = suite.defaults
    rng = random.Random(seed)

    def one(
        env: dict[str, str],
        loops: dict[str, int],
        label: str,
        seed: int | None = None,
        cpu: int | None = None,
    ) -> dict[str, Any]:
        seed = rng.randrange(2**31) if seed is None else seed
        request = runner.WorkerRequest(
            suite_path=SUITE,
            # The reference workload rides along, as in every time run.
            order=tuple(runner.shuffled([*names, REFERENCE], seed)),
            loops=loops,
            values=defaults.values or 3,
            warmups=defaults.warmups if defaults.warmups is not None else 1,
            min_time=defaults.min_time or 0.02,
            seed=seed,
            env=env,
            cpu=cpu,
        )
        started = time.time()
        result = runner.run_worker(request)
        entry: dict[str, Any] = {
            "label": label,
            "started": started,
            "duration": result.duration,
            "means": {},
            "values": {},
            "loops": {},
        }
        for name, bench in result.benchmarks.items():
            values = list(bench.values)
            entry["values"][name] = values
            entry["means"][name] = sum(values) / len(values)
            entry["loops"][name] = bench.loops
        return entry

    # Loop counts: calibrated once, in one unslowed process, then fixed for every process
    # (as a check takes them from its baseline).
    calibration = one({}, {}, "calibration")
    loops = {n: int(v) for n, v in calibration["loops"].items() if n in names or n == REFERENCE}
    say(f"[{stream.name}] loops calibrated: {loops}")
    with raw.open("a", encoding="utf-8") as out:
        out.write(
            json.dumps(
                {
                    "stream": stream.name,
                    "kind": "header",
                    "names": names,
                    "loops": loops,
                    "design": stream.__dict__,
                    "seed": seed,
                }
            )
            + "\n"
        )
        started = time.monotonic()
        for trial in range(stream.trials):
            factors = assignment(names, trial)
            head_env = {
                SLOWDOWN_VARIABLE: ",".join(f"{n}={f:g}" for n, f in factors.items() if f != 1.0)
            }
            for pair in range(stream.pairs):
                sides = ["base", "head"]
                rng.shuffle(sides)
                if stream.concurrent:
                    entries = _duet(one, head_env, loops, rng.randrange(2**31))
                else:
                    entries = {
                        side: one(head_env if side == "head" else {}, loops, side) for side in sides
                    }
                for slot, side in enumerate(sides):
                    entry = entries[side]
                    entry.update(
                        stream=stream.name,
                        kind="process",
                        trial=trial,
                        pair=pair,
                        slot=slot,
                        side=side,
                        factors=factors if side == "head" else {},
                    )
                    out.write(json.dumps(entry) + "\n")
                    out.flush()
            elapsed = time.monotonic() - started
            left = elapsed / (trial + 1) * (stream.trials - trial - 1)
            say(
                f"[{stream.name}] trial {trial + 1}/{stream.trials} done, {elapsed / 60:.1f} min, "
                f"about {left / 60:.1f} min left; load {os.getloadavg()[0]:.2f}"
            )


def _duet(
    one: Callable[..., dict[str, Any]], head_env: dict[str, str], loops: dict[str, int], seed: int
) -> dict[str, dict[str, Any]]:
    """Both sides of a pair at once, pinned to two CPUs, in the same benchmark order."""
    from concurrent.futures import ThreadPoolExecutor

    cpus = sorted(os.sched_getaffinity(0))[:2] if hasattr(os, "sched_getaffinity") else []
    pinned = {"base": cpus[0] if cpus else None, "head": cpus[-1] if len(cpus) > 1 else None}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            side: pool.submit(
                one, head_env if side == "head" else {}, loops, side, seed, pinned[side]
            )
            for side in ("base", "head")
        }
        return {side: future.result() for side, future in futures.items()}


def synthesize(stream: Stream, raw: Path, seed: int, noise: tuple[float, float, float]) -> None:
    """A control stream with known noise, written in the recorded format: each trial (a
    minute of machine time) drifts by N(0, drift), each process by N(0, process CV),
    each value by N(0, value CV), all on the log scale; the head's slowdown is exact.
    The rules are then judged on it exactly as on recorded streams."""
    import numpy as np

    process_cv, drift, value_cv = noise
    rng = np.random.default_rng(seed)
    names = [f"synthetic.b{j}" for j in range(8)]
    with raw.open("a", encoding="utf-8") as out:
        header = {"stream": stream.name, "kind": "header", "names": names, "noise": noise}
        out.write(json.dumps(header) + "\n")
        for trial in range(stream.trials):
            factors = assignment(names, trial)
            level = rng.normal(0.0, drift)
            for pair in range(stream.pairs):
                for slot, side in enumerate(("base", "head")):
                    entry: dict[str, Any] = {"means": {}, "values": {}, "duration": 1.0}
                    for name in names:
                        factor = factors[name] if side == "head" else 1.0
                        centre = math.log(1e-3 * factor) + level + rng.normal(0.0, process_cv)
                        values = list(np.exp(centre + rng.normal(0.0, value_cv, 3)))
                        entry["values"][name] = values
                        entry["means"][name] = float(np.mean(values))
                    entry.update(
                        stream=stream.name, kind="process", trial=trial, pair=pair, slot=slot,
                        side=side, factors=factors if side == "head" else {},
                    )  # fmt: skip
                    out.write(json.dumps(entry) + "\n")


# --- judging ----------------------------------------------------------------------


@dataclass
class Trial:
    base: list[dict[str, Any]] = field(default_factory=list)  # by pair
    head: list[dict[str, Any]] = field(default_factory=list)
    factors: dict[str, float] = field(default_factory=dict)


def load_trials(raw: Path, stream: str) -> tuple[list[str], dict[int, Trial]]:
    names: list[str] = []
    trials: dict[int, Trial] = {}
    for line in raw.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("stream") != stream:
            continue
        if entry["kind"] == "header":
            names = entry["names"]
            continue
        trial = trials.setdefault(entry["trial"], Trial())
        getattr(trial, entry["side"]).append(entry)
        if entry["side"] == "head":
            trial.factors = {k: float(v) for k, v in entry["factors"].items()}
    complete = {t: tr for t, tr in trials.items() if len(tr.base) == len(tr.head) and tr.base}
    return names, dict(sorted(complete.items()))


@dataclass
class Verdict:
    regressed: bool
    seconds: float  # wall time of the processes this verdict needed


Rule = Callable[[str, int, dict[int, Trial], Stream], Verdict]


def _means(entries: Sequence[dict[str, Any]], name: str) -> list[float]:
    return [e["means"][name] for e in entries]


def _values(entries: Sequence[dict[str, Any]], name: str) -> list[float]:
    return [v for e in entries for v in e["values"][name]]


def _cost(entries: Sequence[dict[str, Any]]) -> float:
    return float(sum(e["duration"] for e in entries))


def _baseline_runs(
    t: int, trials: dict[int, Trial], n: int, runs: int = BASELINE_RUNS, skip: int = 0
) -> list[list[dict[str, Any]]]:
    """Runs of n base processes from the trials before t (cyclically), newest first."""
    keys = sorted(trials)
    at = keys.index(t)
    return [trials[keys[(at - k) % len(keys)]].base[:n] for k in range(1 + skip, runs + 1 + skip)]


def _history_priors(
    t: int, trials: dict[int, Trial], n: int, levels: int = HISTORY, skip: int = 1
) -> dict[str, Any]:
    """The drift prior `judge.drift.from_history` learns from `levels` earlier 1-run
    baselines (by default the trials before the current baseline's), as a store would
    hold them."""
    import pyperf
    from perfagent import results
    from perfagent.judge.drift import from_history

    suites = []
    for index, run in enumerate(_baseline_runs(t, trials, n, runs=levels, skip=skip)):
        benchmarks = []
        for name in run[0]["means"]:
            runs = [
                pyperf.Run(
                    e["values"][name],
                    metadata={"name": name, "unit": "second", results.KEY_RUN_ID: f"h{index}"},
                    collect_metadata=False,
                )
                for e in run
            ]
            benchmarks.append(pyperf.Benchmark(runs))
        suites.append(pyperf.BenchmarkSuite(benchmarks))
    return from_history(suites)


def _stored_check(baseline_runs: int = BASELINE_RUNS, prior: bool = False) -> Rule:
    from perfagent.judge import stats

    cache: dict[tuple[int, int], dict[str, Any]] = {}

    def rule(name: str, t: int, trials: dict[int, Trial], stream: Stream) -> Verdict:
        n = stream.processes
        base = [_means(run, name) for run in _baseline_runs(t, trials, n, baseline_runs)]
        head_runs = [trials[t].head[i * n : (i + 1) * n] for i in range(1 + CONFIRM_RUNS)]
        decide = stats.decide
        kwargs: dict[str, Any] = {}
        if prior:
            if (t, n) not in cache:
                # A store's history holds the current baseline's runs and earlier ones:
                # for a 1-run baseline HISTORY earlier runs, for a longer one its own
                # runs and HISTORY more (priors_for reads current and archived entries).
                cache[(t, n)] = (
                    _history_priors(t, trials, n)
                    if baseline_runs == 1
                    else _history_priors(t, trials, n, levels=baseline_runs + HISTORY, skip=0)
                )
            kwargs = {"drift_prior": cache[(t, n)].get(name)}
        used = 1
        decision = decide(name, base, [_means(head_runs[0], name)], THRESHOLD, **kwargs)
        while decision.suspect and used <= CONFIRM_RUNS and len(head_runs[used]) == n:
            used += 1
            groups = [_means(run, name) for run in head_runs[:used]]
            decision = decide(name, base, groups, THRESHOLD, **kwargs)
        spent = [e for run in head_runs[:used] for e in run]
        return Verdict(decision.verdict == stats.Verdict.REGRESSION, _cost(spent))

    return rule


def _ab(pairs: int | None) -> Rule:
    from perfagent.judge.paired import PairedSamples, decide_paired
    from perfagent.judge.stats import Verdict as V

    def rule(name: str, t: int, trials: dict[int, Trial], stream: Stream) -> Verdict:
        k = pairs or len(trials[t].base)
        base, head = trials[t].base[:k], trials[t].head[:k]
        samples = PairedSamples(
            name, "second", tuple(_means(base, name)), tuple(_means(head, name))
        )
        decision = decide_paired(samples, THRESHOLD)
        if stream.concurrent:
            # A duet pair takes as long as its slower process, not the sum of both.
            seconds = float(
                sum(max(b["duration"], h["duration"]) for b, h in zip(base, head, strict=True))
            )
        else:
            seconds = _cost(base) + _cost(head)
        return Verdict(decision.verdict == V.REGRESSION, seconds)

    return rule


def _ab_pooled(trials_pooled: int, confirm: bool = False) -> Rule:
    """ab on the pairs of up to `trials_pooled` trials in which this benchmark had the
    same slowdown (the conditions rotate with period 4): more pairs than one trial
    records, from the same stream. With `confirm`, as `perfagent ab` does, the next
    trial's pairs are added only while the estimate lies beyond the threshold (one trial
    and up to CONFIRM_RUNS more). Windows overlap (each trial starts one), which
    correlates the cells of a column; each pair is still measured close in time."""
    from perfagent.judge.paired import PairedSamples, decide_paired
    from perfagent.judge.stats import Verdict as V

    def rule(name: str, t: int, trials: dict[int, Trial], stream: Stream) -> Verdict:
        keys = sorted(trials)
        at = keys.index(t)
        period = len(CONDITIONS)
        chosen: list[Trial] = []
        while len(chosen) < trials_pooled:
            chosen.append(trials[keys[(at + period * len(chosen)) % len(keys)]])
            base = [e for trial in chosen for e in trial.base]
            head = [e for trial in chosen for e in trial.head]
            samples = PairedSamples(
                name, "second", tuple(_means(base, name)), tuple(_means(head, name))
            )
            decision = decide_paired(samples, THRESHOLD)
            if confirm and not decision.suspect:
                break
        return Verdict(decision.verdict == V.REGRESSION, _cost(base) + _cost(head))

    return rule


def _pyperf_compare_to(name: str, t: int, trials: dict[int, Trial], stream: Stream) -> Verdict:
    from pyperf._utils import is_significant

    n = stream.processes
    base = _values([e for run in _baseline_runs(t, trials, n) for e in run], name)
    head_run = trials[t].head[:n]
    head = _values(head_run, name)
    # pyperf/_compare.py is_significant_benchs: one value each, or a t-test that cannot
    # run (its tscore wants samples of equal size, a 3-run baseline against a 1-run
    # head has not), counts as significant.
    try:
        significant = (len(base) == 1 and len(head) == 1) or is_significant(base, head)[0]
    except Exception:
        significant = True
    ratio = (sum(head) / len(head)) / (sum(base) / len(base))
    return Verdict(bool(significant) and ratio > 1 + THRESHOLD / 100, _cost(head_run))


def _pytest_benchmark(name: str, t: int, trials: dict[int, Trial], stream: Stream) -> Verdict:
    n = stream.processes
    saved = _values(_baseline_runs(t, trials, n)[0], name)
    head_run = trials[t].head[:n]
    head = _values(head_run, name)
    # pytest-benchmark's PercentageRegressionCheck: current / compared * 100 - 100 > 10.
    change = (sum(head) / len(head)) / (sum(saved) / len(saved)) * 100 - 100
    return Verdict(change > THRESHOLD, _cost(head_run))


def _has_prior() -> bool:
    import inspect

    from perfagent.judge import stats

    return "drift_prior" in inspect.signature(stats.decide).parameters


def rules(stream: Stream) -> list[tuple[str, Rule]]:
    found: list[tuple[str, Rule]] = [
        (f"check, {BASELINE_RUNS}-run baseline (today)", _stored_check()),
        ("check, 1-run baseline", _stored_check(1)),
    ]
    if _has_prior():
        found.append((f"check, 1-run + history prior ({HISTORY})", _stored_check(1, True)))
        found.append(
            (
                f"check, {BASELINE_RUNS}-run + history prior ({BASELINE_RUNS}+{HISTORY})",
                _stored_check(BASELINE_RUNS, True),
            )
        )
    found += [
        (f"ab, {stream.pairs} pairs", _ab(None)),
        (f"ab, {stream.pairs // 2} pairs", _ab(stream.pairs // 2)),
        (f"ab, {3 * stream.pairs} pairs (3 trials pooled)", _ab_pooled(3)),
        (
            f"ab, {stream.pairs} + {stream.pairs} per confirmation (ab's rule)",
            _ab_pooled(1 + CONFIRM_RUNS, confirm=True),
        ),
        ("pyperf compare_to + 10%", _pyperf_compare_to),
        ("pytest-benchmark mean:10%", _pytest_benchmark),
    ]
    return found


@dataclass
class Cell:
    hits: int = 0
    trials: int = 0
    seconds: list[float] = field(default_factory=list)

    def rate(self) -> str:
        if not self.trials:
            return "-"
        return f"{100.0 * self.hits / self.trials:5.1f}% ({self.hits}/{self.trials})"


def judge(raw: Path, stream: Stream) -> tuple[dict[str, dict[float, Cell]], int]:
    names, trials = load_trials(raw, stream.name)
    table: dict[str, dict[float, Cell]] = {}
    for label, rule in rules(stream):
        row = table.setdefault(label, {c: Cell() for c in CONDITIONS})
        for t, trial in trials.items():
            for name in names:
                verdict = rule(name, t, trials, stream)
                cell = row[trial.factors.get(name, 1.0)]
                cell.trials += 1
                cell.hits += verdict.regressed
                cell.seconds.append(verdict.seconds)
    return table, len(trials)


def print_table(stream: Stream, table: dict[str, dict[float, Cell]], n_trials: int) -> None:
    width = max(len(label) for label in table)
    header = (
        f"{'rule':<{width}}  {'false alarms 1.00x':>18}  "
        + "  ".join(f"{'detected ' + format(c, '.2f') + 'x':>18}" for c in CONDITIONS[1:])
        + f"  {'s per verdict':>13}"
    )
    print()
    print(
        f"stream {stream.name} ({stream.pattern}): {n_trials} trials of {stream.pairs} pairs; "
        f"stored baseline {BASELINE_RUNS} runs x {stream.processes} processes, head runs of "
        f"{stream.processes}, up to {CONFIRM_RUNS} confirmations; threshold {THRESHOLD:g}%, time"
    )
    print(header)
    print("-" * len(header))
    for label, row in table.items():
        seconds = [s for cell in row.values() for s in cell.seconds]
        mean_seconds = sum(seconds) / len(seconds) if seconds else math.nan
        print(
            f"{label:<{width}}  {row[1.00].rate():>18}  "
            + "  ".join(f"{row[c].rate():>18}" for c in CONDITIONS[1:])
            + f"  {mean_seconds:>13.2f}"
        )
    print(
        "s per verdict: wall time of the worker processes a verdict needed (each process "
        "measures the whole suite, so this is the cost of one check of the suite)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="mixed,hazelbean", help="comma-separated")
    parser.add_argument("--raw", type=Path, help="JSON-lines file of raw measurements")
    parser.add_argument("--judge-only", action="store_true", help="judge an existing --raw file")
    parser.add_argument("--trials", type=int, help="override every stream's trial count")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument(
        "--synthetic",
        metavar="CV,DRIFT,VALUE_CV",
        help="instead of measuring, judge a control stream of modelled noise (log-scale "
        "standard deviations), e.g. 0.05,0.03,0.03 (DEVELOPERS.md's shared VM)",
    )
    args = parser.parse_args(argv)
    chosen = [STREAMS[s.strip()] for s in args.streams.split(",") if s.strip()]
    if args.trials:
        chosen = [Stream(s.name, s.pattern, args.trials, s.pairs, s.processes) for s in chosen]
    raw = (
        args.raw or ROOT / "metrics" / "bench-gate" / f"raw-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
    )
    raw.parent.mkdir(parents=True, exist_ok=True)
    before = uptime()
    started = time.monotonic()
    if args.synthetic:
        noise = tuple(float(x) for x in args.synthetic.split(","))
        if len(noise) != 3:
            parser.error("--synthetic wants CV,DRIFT,VALUE_CV")
        control = Stream("synthetic", "synthetic.", args.trials or 100, 10, 3)
        synthesize(control, raw, args.seed, (noise[0], noise[1], noise[2]))
        table, n_trials = judge(raw, control)
        print(f"control stream of modelled noise (process CV, trial drift, value CV) = {noise}")
        print_table(control, table, n_trials)
        return 0
    if not args.judge_only:
        for stream in chosen:
            if stream.name == "hazelbean":
                import importlib.util

                if importlib.util.find_spec("hazelbean") is None:
                    say("skipping the hazelbean stream: hazelbean is not installed here")
                    continue
            record(stream, raw, args.seed)
    after = uptime()
    print(f"raw measurements: {raw}")
    print(f"load before: {before}")
    print(f"load after:  {after}")
    if not args.judge_only:
        print(f"recording took {(time.monotonic() - started) / 60:.1f} min")
    for stream in chosen:
        table, n_trials = judge(raw, stream)
        if n_trials:
            print_table(stream, table, n_trials)
    return 0


if __name__ == "__main__":
    sys.exit(main())
