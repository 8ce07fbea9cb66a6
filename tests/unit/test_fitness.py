"""machine/fitness.py: why `baseline` refuses, from injected load and fake process tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from perfagent.machine import doctor, fitness


def test_injected_load_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fitness.BUSY_VARIABLE, "0.8")
    [reason] = fitness.unfit_reasons([0])
    assert reason.startswith("load: CPU 0 80% busy with other work")


def test_a_quiet_reading_is_no_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fitness.BUSY_VARIABLE, "0.01")
    probe = doctor.Probe(cpus=[0], sample_seconds=0)
    assert fitness.load_reason(probe) is None


def test_a_process_on_an_isolated_benchmark_cpu_is_a_reason(tmp_path: Path) -> None:
    sys_root, proc_root = tmp_path / "sys", tmp_path / "proc"
    cpu = sys_root / "devices/system/cpu"
    cpu.mkdir(parents=True)
    (cpu / "online").write_text("0-3\n")
    (cpu / "isolated").write_text("2-3\n")
    (proc_root / "700").mkdir(parents=True)
    (proc_root / "700/comm").write_text("cron\n")
    fields = ["S", "1", "700", "0", "0", "-1", "0"] + ["0"] * 29 + ["2", "0", "0", "0"]
    (proc_root / "700/stat").write_text("700 (cron) " + " ".join(fields) + "\n")
    probe = doctor.Probe(sys_root=sys_root, proc_root=proc_root, cpus=[2, 3], sample_seconds=0)
    reason = fitness.placement_reason(probe)
    assert reason is not None and "cron[700]" in reason
