"""`perfagent baseline` refuses to store a time baseline taken on an unfit machine.

The load reading is injected (PERFAGENT_TEST_BUSY, machine/fitness.py), and "the
machine got slower" is the reference workload's own test hook
(PERFAGENT_TEST_REFERENCE_SLOWDOWN): the code under test never changes.
"""

from __future__ import annotations

from pathlib import Path

from gate_helpers import clean_env, copy_suite, perfagent


def baseline(suite: Path, store: Path, *extra: str, **env: str):  # type: ignore[no-untyped-def]
    return perfagent(
        "baseline",
        "--suite",
        suite,
        "--store",
        store,
        *extra,
        cwd=suite.parent,
        env=clean_env(**env),
    )


def test_a_loaded_machine_is_refused_and_force_stores_anyway(tmp_path: Path) -> None:
    suite, store = copy_suite(tmp_path), tmp_path / "store"
    refused = baseline(suite, store, PERFAGENT_TEST_BUSY="0.9")
    assert refused.returncode == 5, refused.stderr
    assert "not storing a baseline" in refused.stderr
    assert "load: CPU" in refused.stderr and "90% busy" in refused.stderr
    assert "--force" in refused.stderr
    assert not list(store.glob("*/*/current.json"))

    forced = baseline(suite, store, "--force", PERFAGENT_TEST_BUSY="0.9")
    assert forced.returncode == 0, forced.stderr
    assert "storing the baseline anyway (--force)" in forced.stderr
    assert "Baseline stored" in forced.stdout
    assert len(list(store.glob("*/*/current.json"))) == 1


def test_a_quiet_machine_is_accepted(tmp_path: Path) -> None:
    suite, store = copy_suite(tmp_path), tmp_path / "store"
    done = baseline(suite, store, PERFAGENT_TEST_BUSY="0.01")
    assert done.returncode == 0, done.stderr
    assert "Baseline stored" in done.stdout


def test_a_reference_far_off_the_stored_baseline_is_refused(tmp_path: Path) -> None:
    suite, store = copy_suite(tmp_path), tmp_path / "store"
    first = baseline(suite, store, "--runs", "2")
    assert first.returncode == 0, first.stderr
    # The machine is now 10x slower at the reference workload; the code is the same.
    slower = baseline(suite, store, "--runs", "2", PERFAGENT_TEST_REFERENCE_SLOWDOWN="10")
    assert slower.returncode == 5, slower.stderr
    assert "the machine changed between the stored baselines and this one" in slower.stderr
    assert "perfagent.reference" in slower.stderr


def test_instruction_baselines_do_not_care_about_load(tmp_path: Path) -> None:
    from perfagent.measure.instructions import unavailable_reason
    from prerequisites import missing

    reason = unavailable_reason()
    if reason:
        missing(reason)
    suite, store = copy_suite(tmp_path), tmp_path / "store"
    done = baseline(suite, store, "--metric", "instructions", PERFAGENT_TEST_BUSY="0.9")
    assert done.returncode == 0, done.stderr
