"""Suites: discovery, naming, selection by pattern, worker-side preparation, bad suites."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from perfagent.errors import SuiteError, UsageError
from perfagent.measure.suite import (
    SuiteDefaults,
    benchmark_name,
    load_defaults,
    load_suite,
    name_matches,
    prepare_benchmark,
)

TINY = Path(__file__).resolve().parents[1] / "suites" / "tiny"


def make_suite(root: Path, files: dict[str, str], name: str = "mysuite") -> Path:
    suite = root / name
    suite.mkdir(parents=True)
    for filename, source in files.items():
        (suite / filename).write_text(textwrap.dedent(source))
    return suite


# --- discovery and naming --------------------------------------------------------


def test_tiny_suite_is_discovered_in_file_order() -> None:
    suite = load_suite(TINY)
    assert suite.name == "tiny"
    assert suite.path == TINY
    assert suite.names == ["arith.sum_range", "arith.sort_list", "text.join_words"]
    descriptions = {b.name: b.description for b in suite.benchmarks}
    assert descriptions["arith.sum_range"] == "Sum a short range."
    assert descriptions["arith.sort_list"].startswith("Sort a prepared list")


def test_suite_defaults_and_metadata_come_from_suite_py() -> None:
    suite = load_suite(TINY)
    assert suite.defaults == SuiteDefaults(processes=2, values=2, warmups=1, min_time=0.005)
    assert load_defaults(TINY) == suite.defaults
    assert suite.metadata() == {"flavour": "tiny", "purpose": "tests"}


def test_a_suite_without_suite_py_has_pyperf_defaults(tmp_path: Path) -> None:
    path = make_suite(tmp_path, {"bench_a.py": "def bench_x():\n    pass\n"})
    suite = load_suite(path)
    assert suite.defaults == SuiteDefaults()
    assert suite.metadata() == {}


@pytest.mark.parametrize(
    ("module", "function", "name"),
    [
        ("bench_tiling.py", "bench_reclassify_by_array", "tiling.reclassify_by_array"),
        ("bench_io.py", "read_raster", "io.read_raster"),
        ("helpers.py", "bench_x", "helpers.x"),
    ],
)
def test_benchmark_names_drop_the_bench_prefixes(module: str, function: str, name: str) -> None:
    assert benchmark_name(Path(module), function) == name


def test_only_bench_functions_and_decorated_ones_are_benchmarks(tmp_path: Path) -> None:
    path = make_suite(
        tmp_path,
        {
            "bench_mixed.py": """
                import perfagent
                from helper_mod import make

                def bench_plain():
                    '''A plain benchmark.'''

                def helper():
                    pass

                def _data():
                    return make()

                @perfagent.benchmark(setup=_data)
                def summed(data):
                    '''Decorated, so no bench_ prefix needed.'''
                    return sum(data)
                """,
            "helper_mod.py": """
                def make():
                    return [1, 2, 3]

                def bench_not_a_benchmark_module():
                    pass
                """,
        },
    )
    assert load_suite(path).names == ["mixed.plain", "mixed.summed"]


def test_same_directory_name_in_two_places_does_not_mix_modules(tmp_path: Path) -> None:
    first = make_suite(tmp_path / "one", {"bench_a.py": "def bench_first():\n    pass\n"}, "s")
    second = make_suite(tmp_path / "two", {"bench_a.py": "def bench_second():\n    pass\n"}, "s")
    assert load_suite(first).names == ["a.first"]
    assert load_suite(second).names == ["a.second"]


# --- selection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (None, ["arith.sum_range", "arith.sort_list", "text.join_words"]),
        ([], ["arith.sum_range", "arith.sort_list", "text.join_words"]),
        (["sort"], ["arith.sort_list"]),
        (["arith.*"], ["arith.sum_range", "arith.sort_list"]),
        (["*_[rw]*"], ["arith.sum_range", "text.join_words"]),
        # Suite order, whatever the pattern order; no duplicates.
        (["join", "sum", "arith.su?_range"], ["arith.sum_range", "text.join_words"]),
    ],
)
def test_select(patterns: list[str] | None, expected: list[str]) -> None:
    assert [b.name for b in load_suite(TINY).select(patterns)] == expected


def test_wildcard_patterns_match_whole_names_substrings_match_anywhere() -> None:
    assert name_matches("arith.sort_list", "sort")
    assert not name_matches("arith.sort_list", "sort*")
    assert name_matches("arith.sort_list", "*sort*")


def test_unknown_pattern_names_the_pattern_the_suite_and_its_benchmarks() -> None:
    with pytest.raises(SuiteError) as caught:
        load_suite(TINY).select(["sum", "nosuchthing"])
    message = str(caught.value)
    assert "'nosuchthing'" in message
    assert "tiny" in message
    assert "arith.sum_range" in message
    assert isinstance(caught.value, UsageError)
    assert caught.value.exit_code == 2


# --- preparing a benchmark in a worker ------------------------------------------


def test_prepare_runs_setup_once_outside_the_call(tmp_path: Path) -> None:
    path = make_suite(
        tmp_path,
        {
            "bench_counted.py": """
                import perfagent

                CALLS = {"setup": 0, "teardown": []}

                def _setup():
                    CALLS["setup"] += 1
                    return [3, 1, 2]

                def _teardown(value):
                    CALLS["teardown"].append(value)

                @perfagent.benchmark(setup=_setup, teardown=_teardown)
                def bench_sorted(values):
                    return sorted(values)
                """
        },
    )
    prepared = prepare_benchmark(path, "counted.sorted")
    module = __import__("sys").modules[prepared.spec.function.__module__]
    assert module.CALLS["setup"] == 1
    assert prepared.call() == [1, 2, 3]
    assert prepared.timed_callable()() == [1, 2, 3]
    assert module.CALLS["setup"] == 1
    prepared.close()
    prepared.close()
    assert module.CALLS["teardown"] == [[3, 1, 2]]


def test_prepare_without_setup_times_the_function_itself() -> None:
    prepared = prepare_benchmark(TINY, "arith.sum_range")
    assert prepared.timed_callable() is prepared.spec.function
    assert prepared.call() == sum(range(200))


def test_prepare_unknown_benchmark(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match=re.escape("no benchmark named arith.nothing")):
        prepare_benchmark(TINY, "arith.nothing")
    with pytest.raises(SuiteError, match="no module for benchmark"):
        prepare_benchmark(TINY, "nomodule.x")


def test_failing_setup_names_the_file_and_line(tmp_path: Path) -> None:
    path = make_suite(
        tmp_path,
        {
            "bench_broken.py": """
                import perfagent

                def _setup():
                    raise FileNotFoundError("input.tif")

                @perfagent.benchmark(setup=_setup)
                def bench_uses_input(data):
                    return data
                """
        },
    )
    with pytest.raises(SuiteError) as caught:
        prepare_benchmark(path, "broken.uses_input")
    message = str(caught.value)
    assert "bench_broken.py" in message
    assert "FileNotFoundError: input.tif" in message
    assert "(line 5)" in message


# --- bad suites ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, "no bench_*.py files"),
        ({"bench_a.py": "x = 1\n"}, "no benchmark functions"),
        ({"bench_a.py": "def bench_x(:\n    pass\n"}, "bench_a.py: failed to import: SyntaxError"),
        ({"bench_a.py": "import not_a_module_anywhere\n"}, "ModuleNotFoundError"),
        ({"bench_a.py": "raise RuntimeError('boom')\n"}, "RuntimeError: boom (line 1)"),
        ({"bench_a.py": "def bench_x(n):\n    pass\n"}, "bench_x() takes arguments"),
        (
            {"bench_a.py": "def bench_x():\n    pass\n", "_suite.py": "PROCESSES = 'many'\n"},
            "_suite.py: PROCESSES must be a non-negative number",
        ),
        (
            {"bench_a.py": "def bench_x():\n    pass\n", "_suite.py": "VALUES = -1\n"},
            "_suite.py: VALUES must be a non-negative number",
        ),
        (
            {"bench_a.py": "def bench_x():\n    pass\n", "_suite.py": "metadata = {'a': 1}\n"},
            "_suite.py: metadata must be a function",
        ),
    ],
)
def test_bad_suites_raise_suite_error_naming_the_file(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    path = make_suite(tmp_path, files)
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    assert expected in str(caught.value)


def test_missing_suite_directory_says_how_to_choose_one(tmp_path: Path) -> None:
    with pytest.raises(SuiteError) as caught:
        load_suite(tmp_path / "absent")
    assert str(tmp_path / "absent") in str(caught.value)
    assert "--suite" in str(caught.value)
    assert "PERFAGENT_SUITE" in str(caught.value)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def metadata():\n    raise ValueError('no version')\n", "metadata() failed: ValueError"),
        ("def metadata():\n    return ['a']\n", "metadata() must return a dict"),
    ],
)
def test_bad_metadata_function(tmp_path: Path, source: str, expected: str) -> None:
    path = make_suite(tmp_path, {"bench_a.py": "def bench_x():\n    pass\n", "_suite.py": source})
    suite = load_suite(path)
    with pytest.raises(SuiteError, match=re.escape(expected)):
        suite.metadata()


def test_metadata_values_become_strings_and_none_is_dropped(tmp_path: Path) -> None:
    source = "def metadata():\n    return {'version': 2, 'commit': None, 'name': 'x'}\n"
    path = make_suite(tmp_path, {"bench_a.py": "def bench_x():\n    pass\n", "_suite.py": source})
    assert load_suite(path).metadata() == {"version": "2", "name": "x"}
