"""Hostile suites through the CLI (issue 11): a module or `_suite.py` that exits at import,
a benchmark that raises or exits, a benchmark that hangs (timeout), and a run stopped by
SIGTERM or SIGINT. Each case asserts the exit code and the last line, and that no worker
process (nor anything a worker started) outlives the agent."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest
from gate_helpers import clean_env, interruptible, last_line, perfagent

# A benchmark that never ends on its own, and starts a grandchild that must die with it.
SLEEPY = """
    import subprocess
    import time

    import perfagent

    def _start_helper():
        return subprocess.Popen(["sleep", "300"])

    def _stop_helper(helper):
        helper.kill()

    @perfagent.benchmark(setup=_start_helper, teardown=_stop_helper)
    def bench_nap(helper):
        time.sleep(300)

    def bench_quick():
        return 1
"""


def make_suite(root: Path, name: str, files: dict[str, str]) -> Path:
    suite = root / name
    suite.mkdir(parents=True)
    files = {"_suite.py": "PROCESSES = 1\nVALUES = 1\nWARMUPS = 0\nMIN_TIME = 0.001\n", **files}
    for filename, source in files.items():
        (suite / filename).write_text(textwrap.dedent(source))
    return suite


def marked_processes(mark: str) -> list[psutil.Process]:
    """Live processes started for this test (workers inherit PERFAGENT_* variables)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get("PERFAGENT_TEST_MARK") == mark:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def assert_no_orphans(mark: str) -> None:
    # The agent reaps its worker before it exits; a grandchild killed with the group
    # may take a moment to be reaped by init.
    deadline = time.monotonic() + 10
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, [p.cmdline() for p in left]


def run(
    tmp_path: Path, suite: Path, *args: str, mark: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = clean_env(PERFAGENT_TEST_MARK=mark or uuid.uuid4().hex)
    return perfagent("run", "--suite", suite, *args, cwd=tmp_path, env=env, timeout=300)


@pytest.mark.parametrize("code", ["0", "3", "'bye'"])
def test_a_module_exiting_at_import_fails_and_never_passes(tmp_path: Path, code: str) -> None:
    suite = make_suite(
        tmp_path,
        "exiting",
        {"bench_exits.py": f"import sys\nsys.exit({code})\ndef bench_x():\n    pass\n"},
    )
    done = run(tmp_path, suite)
    assert done.returncode == 2, (done.stdout, done.stderr)
    line = last_line(done)
    assert line.startswith("perfagent: error: benchmark exits.* failed: ")
    assert "bench_exits.py called sys.exit(" in line


def test_suite_settings_exiting_at_import_fail(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, "exiting", {"bench_a.py": "def bench_x():\n    pass\n"})
    (suite / "_suite.py").write_text("import sys\nsys.exit(0)\n")
    done = run(tmp_path, suite)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert last_line(done).startswith("perfagent: error: benchmark suite 'exiting' failed: ")
    assert "_suite.py called sys.exit(0)" in last_line(done)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("def bench_boom():\n    raise KeyError('tile 7')\n", "KeyError: 'tile 7'"),
        ("import sys\ndef bench_boom():\n    sys.exit(0)\n", "it called sys.exit(0)"),
        ("import os\ndef bench_boom():\n    os._exit(0)\n", "exited (code 0) before finishing it"),
    ],
)
def test_a_failing_benchmark_exits_2_with_the_traceback_above_the_last_line(
    tmp_path: Path, source: str, reason: str
) -> None:
    suite = make_suite(
        tmp_path, "failing", {"bench_fail.py": source + "\ndef bench_fine():\n    return 1\n"}
    )
    done = run(tmp_path, suite)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert last_line(done).startswith("perfagent: error: benchmark fail.boom failed: ")
    assert reason in last_line(done)
    if "raise" in source:
        above = done.stderr[: done.stderr.rindex("perfagent: error:")]
        assert "Traceback (most recent call last)" in above
        assert "bench_fail.py" in above


@pytest.mark.parametrize("where", ["flag", "suite", "config"])
def test_a_hanging_benchmark_times_out_and_leaves_no_process_behind(
    tmp_path: Path, where: str
) -> None:
    suite = make_suite(tmp_path, "sleepy", {"bench_sleepy.py": SLEEPY})
    args: list[str] = []
    if where == "flag":
        args = ["--timeout", "2"]
    elif where == "suite":
        with (suite / "_suite.py").open("a") as handle:
            handle.write("TIMEOUT = 2\n")
    else:
        (tmp_path / "perfagent.toml").write_text("timeout = 2\n")
    mark = uuid.uuid4().hex
    started = time.monotonic()
    done = run(tmp_path, suite, *args, "-b", "nap", mark=mark)
    assert time.monotonic() - started < 200  # it did not wait for the 300 s sleep
    assert done.returncode == 2, (done.stdout, done.stderr)
    line = last_line(done)
    assert line.startswith("perfagent: error: benchmark sleepy.nap failed: timed out after 2 s")
    assert_no_orphans(mark)


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


@pytest.mark.parametrize(
    ("sig", "code", "last"),
    [
        (signal.SIGTERM, 143, "perfagent: terminated by SIGTERM"),
        (signal.SIGINT, 130, "perfagent: interrupted"),
    ],
)
def test_a_signal_stops_the_workers_and_says_so(
    tmp_path: Path, sig: signal.Signals, code: int, last: str
) -> None:
    suite = make_suite(tmp_path, "sleepy", {"bench_sleepy.py": SLEEPY})
    mark = uuid.uuid4().hex
    process = subprocess.Popen(
        [sys.executable, "-m", "perfagent", "run", "--suite", str(suite), "-b", "nap"],
        cwd=tmp_path,
        env=clean_env(PERFAGENT_TEST_MARK=mark),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=interruptible,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    threading.Thread(target=_lines, args=(process.stderr, lines), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while not any("sleepy.nap ..." in line for line in seen):
            assert time.monotonic() < deadline, "the run never started nap:\n" + "".join(seen)
            with_timeout = max(0.1, deadline - time.monotonic())
            try:
                seen.append(lines.get(timeout=with_timeout))
            except queue.Empty:
                continue
        # The worker and its helper are up; signal the agent alone, as systemd or a
        # runner cancelling a job would signal the main process first.
        time.sleep(1.0)
        assert len(marked_processes(mark)) >= 3  # the agent, its worker, the helper
        os.kill(process.pid, sig)
        assert process.wait(timeout=60) == code
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    time.sleep(0.5)
    while True:
        try:
            seen.append(lines.get(timeout=1))
        except queue.Empty:
            break
    text = [line.strip() for line in seen if line.strip()]
    assert text[-1].startswith(last), text[-5:]
    assert_no_orphans(mark)
