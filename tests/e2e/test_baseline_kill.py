"""A `baseline` run killed mid-way never touches the stored baseline.

The agent writes the baseline only after every suite run has succeeded, and then
atomically; this kills a real `perfagent baseline --runs 2` during its second run
(the first one's results are in memory by then) and checks the previous baseline is
byte for byte what it was, with nothing half-written beside it.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyperf
import pytest
from gate_helpers import clean_env, copy_suite, interruptible
from perfagent import results
from perfagent.machine.fingerprint import collect
from perfagent.store.directory import DirectoryStore

pytestmark = pytest.mark.slow

STARTUP_DEADLINE = 180.0


def previous_baseline(store: Path) -> Path:
    """A valid baseline for this machine and the slowable suite, as if stored earlier."""
    fingerprint = collect()
    runs = [
        pyperf.Run(
            [1e-3, 1.1e-3],
            metadata={
                "name": name,
                "unit": "second",
                results.KEY_FINGERPRINT: fingerprint.id,
                results.KEY_METRIC: "time",
                results.KEY_SUITE: "slowable",
                results.KEY_RUN_ID: "earlier",
            },
            collect_metadata=False,
        )
        for name in ("slowable.work", "slowable.steady")
    ]
    suite = pyperf.BenchmarkSuite([pyperf.Benchmark([run]) for run in runs])
    return Path(DirectoryStore(store).write(fingerprint.id, "slowable", suite).location)


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_baseline_leaves_the_previous_one_intact(
    tmp_path: Path, sig: signal.Signals
) -> None:
    suite = copy_suite(tmp_path)
    store = tmp_path / "store"
    current = previous_baseline(store)
    before = current.read_bytes()
    files_before = sorted(p.relative_to(store) for p in store.rglob("*"))

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perfagent",
            "baseline",
            "--suite",
            str(suite),
            "--store",
            str(store),
            "--runs",
            "2",
        ],
        cwd=tmp_path,
        # One worker process of one value per benchmark: the first run ends sooner.
        env=clean_env(PERFAGENT_PROCESSES="1", PERFAGENT_VALUES="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the workers go with it
        preexec_fn=interruptible,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    threading.Thread(target=_lines, args=(process.stderr, lines), daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + STARTUP_DEADLINE
    try:
        # Wait until the second suite run has started measuring: the first run's
        # results exist only in memory now.
        in_second_run = False
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "baseline never reached its second run:\n" + "".join(seen)
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            seen.append(line)
            in_second_run = in_second_run or "Baseline run 2 of 2" in line
            if in_second_run and "slowable.work ..." in line:
                break
            assert process.poll() is None, "baseline ended early:\n" + "".join(seen)
        os.killpg(process.pid, sig)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert code != 0
    if sig == signal.SIGINT:
        assert code == 130  # "perfagent: interrupted"
    elif sig == signal.SIGTERM:
        assert code == 143  # the workers stopped, "perfagent: terminated by SIGTERM"
    else:
        assert code == -sig
    assert current.read_bytes() == before
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == files_before
