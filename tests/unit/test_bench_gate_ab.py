"""scripts/bench_gate_ab.py: the head interpreter carries the trial's slowdowns, and ab's
JSON verdicts are counted by the slowdown each benchmark had."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_gate_ab.py"


@pytest.fixture(scope="module")
def bench_gate_ab() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gate_ab", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_gate_ab"] = module
    spec.loader.exec_module(module)
    return module


def test_the_head_wrapper_runs_this_python_with_the_slowdowns(
    bench_gate_ab: types.ModuleType, tmp_path: Path
) -> None:
    factors = {"cpu.sort_records": 1.15, "io.write_read": 1.0, "memory.pointer_chase": 1.2}
    wrapper = bench_gate_ab.head_wrapper(tmp_path, factors)
    code = "import os, sys; print(sys.executable); print(os.environ['PERFAGENT_GATE_SLOWDOWN'])"
    done = subprocess.run([str(wrapper), "-c", code], capture_output=True, text=True, check=True)
    executable, slowed = done.stdout.splitlines()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
    # 1.00x benchmarks are left out: they run the code as written.
    assert slowed == "cpu.sort_records=1.15,memory.pointer_chase=1.2"


def test_verdicts_are_counted_by_each_benchmarks_slowdown(bench_gate_ab: types.ModuleType) -> None:
    table = {condition: bench_gate_ab.Tally() for condition in bench_gate_ab.CONDITIONS}
    factors = {"a": 1.0, "b": 1.15, "c": 1.15, "d": 1.0}
    report = {
        "benchmarks": [
            {"name": "a", "verdict": "regression", "ratio": 1.12, "confirmation_runs": 2},
            {"name": "b", "verdict": "regression", "ratio": 1.16, "confirmation_runs": 1},
            {"name": "c", "verdict": "slower", "ratio": 1.08, "confirmation_runs": 2},
            {"name": "d", "verdict": "same", "ratio": 0.99, "confirmation_runs": 0},
            # Not one of the stream's benchmarks: not counted.
            {"name": "perfagent.reference", "verdict": "same", "ratio": 1.0},
        ]
    }
    rows = bench_gate_ab.tally_trial(report, factors, table)
    assert [row["name"] for row in rows] == ["a", "b", "c", "d"]
    assert (table[1.0].regressions, table[1.0].verdicts) == (1, 2)
    assert (table[1.15].regressions, table[1.15].verdicts) == (1, 2)
    assert table[1.1].verdicts == 0
    assert table[1.0].rate() == "50.0% (1/2)"
    assert table[1.1].rate() == "-"


def test_an_unknown_stream_is_refused(bench_gate_ab: types.ModuleType) -> None:
    with pytest.raises(SystemExit) as exited:
        bench_gate_ab.main(["--streams", "duet"])
    assert exited.value.code == 2
