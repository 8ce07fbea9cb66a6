"""Print a Markdown table: each real pair of pyperf files, perfagent's verdict beside
`python -m pyperf compare_to`'s (issue 11).

The real files come from the installed pyperf and pyperformance packages, the A/A
and cross-machine pairs from tests/data/ (tests/data/README.md). Run it from the
repository root with the dev environment: `.venv/bin/python scripts/compare_real_data_table.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from real_data import own_file, pyperf_file, pyperformance_file  # noqa: E402


def _aa_store(root: Path) -> Path:
    suite_dir = root / "0f1e2d3c4b5a" / "pyperformance"
    (suite_dir / "archive").mkdir(parents=True)
    for index in range(1, 4):
        shutil.copy(
            own_file(f"aa_history_{index}.json"),
            suite_dir / "archive" / f"2024040{index}T000000Z_00000{index - 1}a.json",
        )
    shutil.copy(own_file("aa_history_4.json"), suite_dir / "current.json")
    return root


def _timeit_one_process(path: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pyperf", "timeit", "-p", "1", "-n", "5", "-l", "1000", "-q",
         "-o", str(path), "sum(range(50))"],
        check=True, capture_output=True,
    )  # fmt: skip
    return path


def _perfagent(args: list[str], cwd: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFAGENT_")}
    env.update(COLUMNS="200", PERFAGENT_RUNNER_CONFIG=str(cwd / "none.toml"))
    done = subprocess.run(
        [sys.executable, "-m", "perfagent", "compare", *args],
        capture_output=True, text=True, env=env, cwd=cwd, check=False,
    )  # fmt: skip
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return done.returncode, last.replace(str(Path(sys.prefix)), "<venv>")


def _pyperf(base: Path, head: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", str(base), str(head)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    short = []
    for line in lines:
        # "name: Mean +- std dev: [a] x -> [b] y: 1.42x slower" -> "name: 1.42x slower"
        if "Mean +- std dev" in line or " -> " in line:
            name = line.split(": Mean", 1)[0] if ": Mean" in line else ""
            verdict = line.rsplit(": ", 1)[-1]
            short.append(f"{name}: {verdict}" if name else verdict)
        else:
            short.append(line)
    return "; ".join(short)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="perfagent-real-pairs-"))
    store = _aa_store(work / "store")
    timeit_a = _timeit_one_process(work / "timeit_p1_a.json")
    timeit_b = _timeit_one_process(work / "timeit_p1_b.json")
    pairs: list[tuple[str, Path, Path, list[str]]] = [
        ("pyperf mult_list py3.6 -> py3.7", pyperf_file("mult_list_py36.json"),
         pyperf_file("mult_list_py37.json"), []),
        ("pyperf mult_list py3.7 -> py3.8", pyperf_file("mult_list_py37.json"),
         pyperf_file("mult_list_py38.json"), []),
        ("pyperf mult_list py3.6 -> py3.6 tags (A/A)", pyperf_file("mult_list_py36.json"),
         pyperf_file("mult_list_py36_tags.json"), []),
        ("pyperformance telco py36 -> py38", pyperformance_file("py36.json"),
         pyperformance_file("py38.json"), []),
        ("pyperformance mem1 -> mem2 (bytes, 1 process)", pyperformance_file("mem1.json"),
         pyperformance_file("mem2.json"), []),
        ("pyperformance py3_performance03 (s) -> mem1 (B)",
         pyperformance_file("py3_performance03.json"), pyperformance_file("mem1.json"), []),
        ("pyperf track_memory (B) A/A", pyperf_file("track_memory.json"),
         pyperf_file("track_memory.json"), []),
        ("pyperf telco (s) -> track_memory (B)", pyperf_file("telco.json"),
         pyperf_file("track_memory.json"), []),
        ("pyperf telco (i7-3520M) -> pyperformance py36 (i7-6820HQ)", pyperf_file("telco.json"),
         pyperformance_file("py36.json"), []),
        ("same, --ignore-hardware", pyperf_file("telco.json"), pyperformance_file("py36.json"),
         ["--ignore-hardware"]),
        ("pyperf timeit -p 1 A/A (made here)", timeit_a, timeit_b, []),
        ("own: Linux Xeon -> macOS arm64", own_file("cross_linux_xeon.json"),
         own_file("cross_macos_arm64.json"), []),
        ("own: dedicated-machine A/A at 5%, empty store", own_file("aa_base.json"),
         own_file("aa_head.json"), ["--threshold", "5", "--store", str(work / "none")]),
        ("own: dedicated-machine A/A at 5%, store history", own_file("aa_base.json"),
         own_file("aa_head.json"), ["--threshold", "5", "--store", str(store)]),
    ]  # fmt: skip
    print("| Pair | perfagent exit | perfagent last line | pyperf compare_to |")
    print("|---|---|---|---|")
    for label, base, head, extra in pairs:
        code, last = _perfagent([str(base), str(head), *extra], work)
        theirs = _pyperf(base, head).replace(str(Path(sys.prefix)), "<venv>")
        cell = last.replace("|", "\\|")
        print(f"| {label} | {code} | {cell} | {theirs.replace('|', chr(92) + '|')} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
