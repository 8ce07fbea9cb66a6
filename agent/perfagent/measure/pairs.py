"""Measuring for `perfagent ab`: base and head in alternating worker processes.

Each pair is one worker process of each side, started one right after the other on
the same CPU, the order inside the pair drawn at random (seeded, recorded): the two
see the same machine state, so a drift of the machine over minutes hits both
(randomized multiple interleaved trials, Abedi & Brecht 2017; duet benchmarking,
Bulej et al. 2020). Each side runs its own interpreter (`python`), so the base can be
another checkout installed into another environment. Loop counts are calibrated once,
by the first process, and fixed for both sides.

With `duet`, the two processes of a pair run at the same time on two CPUs, measuring
the benchmarks in the same order (duet benchmarking proper): on a shared machine whose
load changes within seconds, simultaneous processes see the same load where
consecutive ones do not. The sides swap CPUs from pair to pair. The first pair runs
one after the other, to calibrate the loop counts both sides then share.

The instructions metric needs no pairing (counts do not drift): each side is one
ordinary instructions run of as many processes as there are pairs.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from perfagent.measure import runner
from perfagent.measure.reference import NAME as REFERENCE_NAME

if TYPE_CHECKING:
    import pyperf

    from perfagent.config import Settings
    from perfagent.machine.fingerprint import Fingerprint
    from perfagent.measure.progress import Progress
    from perfagent.measure.suite import BenchmarkSpec, Suite

BASE, HEAD = "base", "head"
KEY_SIDE = "perfagent_ab_side"
KEY_PAIR = "perfagent_ab_pair"
KEY_FIRST = "perfagent_ab_first"


@dataclass(frozen=True)
class Sides:
    """The interpreters and commits of the two sides."""

    base_python: str = sys.executable
    head_python: str = sys.executable
    base_commit: str | None = None
    head_commit: str | None = None


@dataclass(frozen=True)
class PairedRun:
    """What `ab` measured: each side's pyperf results and each benchmark's process means
    pair by pair (base[i] and head[i] ran side by side)."""

    base: pyperf.BenchmarkSuite
    head: pyperf.BenchmarkSuite
    means: dict[str, tuple[list[float], list[float]]]
    first: tuple[str, ...]  # which side ran first in each pair
    seed: int
    seconds: float
    unit: str = "second"
    loops: dict[str, int] = field(default_factory=dict)


def _side_metadata(common: Mapping[str, str], side: str, commit: str | None) -> dict[str, str]:
    from perfagent import results

    metadata = dict(common)
    metadata[KEY_SIDE] = side
    if commit:
        metadata[results.KEY_COMMIT] = commit
    else:
        metadata.pop(results.KEY_COMMIT, None)
    return metadata


def run_pairs(
    suite: Suite,
    specs: Sequence[BenchmarkSpec],
    settings: Settings,
    *,
    pairs: int,
    sides: Sides,
    fingerprint: Fingerprint,
    seed: int | None = None,
    say: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    duet: bool = False,
    reuse_loops: Mapping[str, int] | None = None,
) -> PairedRun:
    """Measure `pairs` pairs of worker processes (time), or each side's run (instructions).

    `duet`: the two processes of a pair at the same time, on two CPUs (see above).
    `reuse_loops`: loop counts of an earlier paired run to reuse (no calibration).
    """
    import time

    started = time.monotonic()
    seed = runner.new_seed() if seed is None else seed
    if settings.metric != "time":
        return _instruction_sides(
            suite, specs, settings, pairs, sides, fingerprint, seed, started, progress
        )
    plan = runner.plan_for(suite, settings)
    cpus = runner.benchmark_cpus(settings)
    names = [spec.name for spec in specs]
    measured = [*names, REFERENCE_NAME] if runner.reference_available() else names
    common = runner.run_metadata(suite, settings, fingerprint, commit=None)
    rng = random.Random(seed)
    loops = {name: n for name, n in (reuse_loops or {}).items() if name in measured}
    workers: dict[str, list[runner.WorkerResult]] = {BASE: [], HEAD: []}
    first: list[str] = []
    python = {BASE: sides.base_python, HEAD: sides.head_python}
    duet_cpus = _duet_cpus(cpus) if duet else []

    def request(side: str, seed: int, cpu: int | None, pair: int) -> runner.WorkerRequest:
        return runner.WorkerRequest(
            suite_path=suite.path,
            order=tuple(runner.shuffled(measured, seed)),
            loops=loops,
            values=plan.values,
            warmups=plan.warmups,
            min_time=plan.min_time,
            python=python[side],
            cpu=cpu,
            seed=seed,
            timeout=plan.timeout,
            timeout_source=plan.timeout_source,
            index=pair,
        )

    for pair in range(1, pairs + 1):
        order = [BASE, HEAD]
        rng.shuffle(order)
        together = bool(duet_cpus) and bool(loops)
        first.append("both" if together else order[0])
        if say is not None:
            how = "at the same time" if together else f"{order[0]} then {order[1]}"
            say(f"pair {pair} of {pairs}: {how}")
        if together:
            # Same seed, same order: both sides measure the same benchmark at once.
            seed_both = rng.randrange(2**31)
            placed = dict(zip(order, duet_cpus, strict=True))
            done = _at_once([request(side, seed_both, placed[side], pair) for side in order])
            for side, worker in zip(order, done, strict=True):
                workers[side].append(worker)
            continue
        # Both processes of a pair on the same CPU: the pair shares the machine's state.
        cpu = cpus[(pair - 1) % len(cpus)] if cpus else None
        for side in order:
            worker = runner.run_worker(request(side, rng.randrange(2**31), cpu, pair))
            workers[side].append(worker)
            # The first process calibrated; every later one, of either side, reuses it.
            loops = {name: m.loops for name, m in worker.benchmarks.items()} | loops
    suites = {
        side: runner.build_suite(
            workers[side],
            {
                **_side_metadata(common, side, getattr(sides, f"{side}_commit")),
                KEY_FIRST: ",".join(first),
            },
            measured,
        )
        for side in (BASE, HEAD)
    }
    means = {
        name: (
            [_mean(w.benchmarks[name].values) for w in workers[BASE]],
            [_mean(w.benchmarks[name].values) for w in workers[HEAD]],
        )
        for name in measured
    }
    return PairedRun(
        base=suites[BASE],
        head=suites[HEAD],
        means=means,
        first=tuple(first),
        seed=seed,
        seconds=time.monotonic() - started,
        loops=loops,
    )


def _duet_cpus(cpus: list[int] | None) -> list[int]:
    """Two CPUs for a duet (the benchmark CPUs, else this process's), [] with fewer."""
    import os

    usable = list(cpus) if cpus else sorted(os.sched_getaffinity(0))
    return usable[:2] if len(usable) >= 2 else []


def _at_once(requests: Sequence[runner.WorkerRequest]) -> list[runner.WorkerResult]:
    """Run worker processes at the same time; their results in request order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(runner.run_worker, requests))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _instruction_sides(
    suite: Suite,
    specs: Sequence[BenchmarkSpec],
    settings: Settings,
    pairs: int,
    sides: Sides,
    fingerprint: Fingerprint,
    seed: int,
    started: float,
    progress: Progress | None,
) -> PairedRun:
    """Instruction counts: one run per side; process i of each side make pair i."""
    import dataclasses
    import time

    from perfagent import results

    counted = dataclasses.replace(settings, processes=pairs)
    runs = {}
    for side, python, commit in (
        (BASE, sides.base_python, sides.base_commit),
        (HEAD, sides.head_python, sides.head_commit),
    ):
        runs[side] = runner.run_suite(
            suite,
            list(specs),
            counted,
            commit=commit,
            fingerprint=fingerprint,
            python=python,
            progress=progress,
        )
    base, head = (results.samples_by_name(runs[s]) for s in (BASE, HEAD))
    means = {
        name: (base[name].process_means, head[name].process_means) for name in base if name in head
    }
    return PairedRun(
        base=runs[BASE],
        head=runs[HEAD],
        means=means,
        first=(),
        seed=seed,
        seconds=time.monotonic() - started,
        unit="integer",
    )
