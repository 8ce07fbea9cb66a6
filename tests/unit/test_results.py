"""results.py: loading and validating pyperf JSON, metadata, process means, merging."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyperf
import pytest
from perfagent import results
from perfagent.errors import ResultsFileError, UsageError
from synthetic_results import FINGERPRINT, HARDWARE, SOFTWARE, make_suite, write_suite


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    suite = make_suite({"a.one": [[1.0, 1.1], [1.2]], "a.two": [[2.0, 2.0]]})
    return write_suite(tmp_path / "good.json", suite)


def test_load_agent_results_and_metadata(good_file: Path) -> None:
    suite = results.load(good_file)
    assert suite.get_benchmark_names() == ["a.one", "a.two"]
    assert results.fingerprint_id(suite) == FINGERPRINT
    assert results.hardware(suite) == HARDWARE
    assert results.software(suite) == SOFTWARE
    assert results.metric(suite) == "time"
    assert results.suite_name(suite) == "demo"
    assert results.commit(suite) == "0123456789abcdef"
    assert results.agent_version(suite) == "0.1.0"
    assert results.run_ids(suite) == ["run-1", "run-2"]
    assert results.suite_metadata(suite) == {"flavour": "synthetic"}
    assert results.describe_source(suite) == str(good_file)


def test_plain_pyperf_output_is_read_too(tmp_path: Path) -> None:
    path = write_suite(tmp_path / "plain.json", make_suite({"x": [[1.0, 1.0]]}, agent=False))
    suite = results.load(path)
    assert results.fingerprint_id(suite) is None
    assert results.hardware(suite) is None
    assert results.metric(suite) == "time"
    assert results.run_ids(suite) == [results.UNLABELLED_RUN]
    assert results.samples(suite.get_benchmark("x")).n_runs == 1


def test_instructions_metric_is_read_from_the_unit_of_plain_output(tmp_path: Path) -> None:
    suite = make_suite({"x": [[1000.0, 1000.0]]}, agent=False, metric="instructions")
    assert results.metric(suite) == "instructions"


def test_gzipped_results(tmp_path: Path) -> None:
    path = tmp_path / "r.json.gz"
    results.write(make_suite({"x": [[1.0]]}), path)
    assert gzip.decompress(path.read_bytes()).startswith(b"{")
    assert results.load(path).get_benchmark_names() == ["x"]


def test_written_file_is_read_by_pyperf_itself(tmp_path: Path) -> None:
    path = write_suite(tmp_path / "r.json", make_suite({"x": [[1.0, 2.0]]}))
    suite = pyperf.BenchmarkSuite.load(str(path))
    assert suite.get_benchmark("x").get_nrun() == 2


BAD_CONTENT = {
    "empty": (b"", "empty"),
    "blank": (b"  \n\n", "empty"),
    "truncated": (b'{"version": "1.0", "benchmarks": [{"runs": [', "truncated"),
    "corrupt": (b'{"version": "1.0", "benchmarks": ]]}', "corrupt JSON at line 1"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\xff", "binary"),
    "list": (b"[1, 2, 3]", "not a pyperf results file (the JSON is a list"),
    "foreign": (b'{"hello": "world"}', "not a pyperf results file (no 'version'"),
    "pytest_benchmark": (
        json.dumps({"machine_info": {}, "benchmarks": [], "datetime": "x"}).encode(),
        "pytest-benchmark",
    ),
    "no_benchmarks": (b'{"version": "1.0", "benchmarks": []}', "empty or not a list"),
    "no_runs": (b'{"version": "1.0", "benchmarks": [{"runs": []}]}', "has no runs"),
    "bad_version": (
        b'{"version": "99", "benchmarks": [{"runs": [{"values": [1.0]}]}]}',
        "not a valid pyperf results file",
    ),
    "negative_values": (
        b'{"version": "1.0", "benchmarks": [{"metadata": {"name": "x"}, '
        b'"runs": [{"values": [-1.0]}]}]}',
        "not a valid pyperf results file",
    ),
    "calibration_only": (
        b'{"version": "1.0", "benchmarks": [{"metadata": {"name": "x"}, '
        b'"runs": [{"warmups": [[1, 0.5]], "metadata": {"calibrate_loops": 1}}]}]}',
        "no measured values",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONTENT))
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, case: str) -> None:
    content, expected = BAD_CONTENT[case]
    path = tmp_path / f"{case}.json"
    path.write_bytes(content)
    with pytest.raises(ResultsFileError) as caught:
        results.load(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message
    assert isinstance(caught.value, UsageError)  # exit code 2


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError, match="no such results file"):
        results.load(tmp_path / "nope.json")
    with pytest.raises(ResultsFileError, match="is a directory"):
        results.load(tmp_path)


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "bad.json.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ResultsFileError, match="corrupt gzip"):
        results.load(path)


def test_metadata_json_that_is_not_json(tmp_path: Path) -> None:
    suite = make_suite({"x": [[1.0]]}, extra={results.KEY_HARDWARE: "{not json"})
    with pytest.raises(ResultsFileError, match="perfagent_hardware is not valid JSON"):
        results.hardware(suite)


def test_a_file_mixing_fingerprints_is_refused() -> None:
    first = make_suite({"x": [[1.0]]}, fingerprint="aaaaaaaaaaaa")
    second = make_suite({"y": [[1.0]]}, fingerprint="bbbbbbbbbbbb")
    mixed = pyperf.BenchmarkSuite([*first, *second])
    with pytest.raises(ResultsFileError, match="several hardware fingerprints"):
        results.fingerprint_id(mixed)


def test_samples_are_process_means_grouped_by_run_without_warmups() -> None:
    suite = make_suite({"x": [[1.0, 3.0], [2.0]]})
    samples = results.samples(suite.get_benchmark("x"))
    assert samples.unit == "second"
    assert list(samples.groups) == ["run-1", "run-2"]
    assert samples.groups["run-1"] == pytest.approx([1.0, 3.0])
    assert samples.groups["run-2"] == pytest.approx([2.0])
    assert samples.n_processes == 3
    assert samples.n_runs == 2
    assert sorted(samples.process_means) == pytest.approx([1.0, 2.0, 3.0])


def test_calibration_runs_are_skipped() -> None:
    suite = make_suite({"x": [[1.0, 1.0]]})
    bench = suite.get_benchmark("x")
    calibration = pyperf.Run(
        [],
        warmups=[(1, 0.1)],
        metadata={"name": "x", "unit": "second", "calibrate_loops": 4},
        collect_metadata=False,
    )
    bench.add_run(calibration)
    assert results.samples(bench).n_processes == 2


def test_merge_pools_runs_and_leaves_inputs_alone() -> None:
    first = make_suite({"x": [[1.0, 1.0]], "y": [[5.0]]}, run_ids=["r1"])
    second = make_suite({"x": [[2.0]], "z": [[7.0]]}, run_ids=["r2"])
    merged = results.merge([first, second])
    assert merged.get_benchmark_names() == ["x", "y", "z"]
    x = results.samples(merged.get_benchmark("x"))
    assert x.groups == {"r1": pytest.approx([1.0, 1.0]), "r2": pytest.approx([2.0])}
    assert results.run_ids(merged) == ["r1", "r2"]
    assert first.get_benchmark("x").get_nrun() == 2
    assert second.get_benchmark("x").get_nrun() == 1


def test_merge_of_incompatible_runs_names_the_benchmark() -> None:
    first = make_suite({"x": [[1.0]]}, extra={"python_version": "3.11.2 (64-bit)"})
    second = make_suite({"x": [[1.0]]}, extra={"python_version": "3.12.0 (64-bit)"})
    with pytest.raises(ResultsFileError, match="cannot pool the results of benchmark 'x'"):
        results.merge([first, second])


def test_select() -> None:
    suite = make_suite({"x": [[1.0]], "y": [[1.0]], "z": [[1.0]]})
    assert results.select(suite, ["z", "x"]).get_benchmark_names() == ["x", "z"]
    with pytest.raises(ResultsFileError, match="none of the benchmarks"):
        results.select(suite, ["nope"])


def test_write_to_an_unwritable_place_names_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ResultsFileError, match="cannot write results") as caught:
        results.write(make_suite({"x": [[1.0]]}), blocker / "r.json")
    assert str(blocker / "r.json") in str(caught.value)


# --- issue 11: values no measurement gives, gzip bombs, the metric of a byte file ------


def _one_benchmark(value: str) -> str:
    runs = ",".join(f'{{"values": [{value}, {value}]}}' for _ in range(2))
    return (
        '{"version": "1.0", "metadata": {"unit": "second"}, '
        f'"benchmarks": [{{"metadata": {{"name": "x"}}, "runs": [{runs}]}}]}}'
    )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("Infinity", "not finite"),
        # pyperf itself refuses what is not above 0 (it compares with > 0, so NaN too).
        ("-Infinity", "number > 0"),
        ("NaN", "number > 0|not finite"),
        ("1e308", "out of range"),
        ("5e-324", "out of range"),
        ("0", "number > 0"),
        ("-1.5", "number > 0"),
    ],
)
def test_absurd_values_are_refused(value: str, says: str) -> None:
    with pytest.raises(ResultsFileError, match=f"^bad.json: .*({says})"):
        results.loads(_one_benchmark(value), "bad.json")


def test_values_at_the_bounds_are_accepted() -> None:
    for value in ("1e-9", "3600", "123456789012"):
        assert results.loads(_one_benchmark(value), "ok.json").get_benchmark_names() == ["x"]


def test_a_gzip_bomb_stops_at_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "MAX_DECOMPRESSED", 1 << 20)
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b" " * (2 << 20)))
    with pytest.raises(ResultsFileError, match=r"decompresses to more than 1 MiB"):
        results.load(bomb)


def test_concatenated_gzip_members_are_read(tmp_path: Path) -> None:
    text = _one_benchmark("0.5").encode()
    packed = tmp_path / "two.json.gz"
    packed.write_bytes(gzip.compress(text[:40]) + gzip.compress(text[40:]))
    assert results.load(packed).get_benchmark_names() == ["x"]


def test_a_truncated_gzip_is_corrupt(tmp_path: Path) -> None:
    packed = tmp_path / "cut.json.gz"
    packed.write_bytes(gzip.compress(_one_benchmark("0.5").encode())[:-12])
    with pytest.raises(ResultsFileError, match="corrupt gzip data"):
        results.load(packed)


def test_metric_of_a_byte_file_is_memory() -> None:
    text = _one_benchmark("8085504").replace('"second"', '"byte"')
    assert results.metric(results.loads(text, "mem.json")) == "memory"
