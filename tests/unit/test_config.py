"""Settings: defaults < config file < PERFAGENT_* environment < flags; bad values name
the setting and where it came from."""

from __future__ import annotations

from pathlib import Path

import pytest
from perfagent.config import Settings, load_settings
from perfagent.cpus import parse_cpu_list
from perfagent.errors import ConfigError, UsageError


def settings(
    tmp_path: Path, env: dict[str, str] | None = None, flags: dict[str, object] | None = None
) -> Settings:
    # Never this machine's runner config, should it have one.
    environ = {"PERFAGENT_RUNNER_CONFIG": str(tmp_path / "no-runner.toml"), **(env or {})}
    return load_settings(flags, cwd=tmp_path, environ=environ)


def test_defaults_without_any_config(tmp_path: Path) -> None:
    result = settings(tmp_path)
    assert result == Settings()
    assert result.suite == "benchmarks/hazelbean"
    assert result.store == "metrics/baselines"
    assert result.threshold == 10.0
    assert result.metric == "time"
    assert result.mode == "default"
    assert result.processes is None
    assert result.cpus is None
    assert result.sources == {}


def test_file_overrides_defaults(tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_text('suite = "my/suite"\nthreshold = 5\nprocesses = 4\n')
    result = settings(tmp_path)
    assert (result.suite, result.threshold, result.processes) == ("my/suite", 5.0, 4)
    assert result.sources["suite"] == f"config file {tmp_path / 'perfagent.toml'}"


def test_pyproject_table_is_used_when_there_is_no_perfagent_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.perfagent]\nstore = "s"\n'
    )
    assert settings(tmp_path).store == "s"
    (tmp_path / "perfagent.toml").write_text('store = "own"\n')
    assert settings(tmp_path).store == "own"


def test_pyproject_without_our_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert settings(tmp_path) == Settings()


def test_environment_overrides_file(tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_text('store = "from-file"\nthreshold = 5\n')
    env = {"PERFAGENT_STORE": "/srv/baselines", "PERFAGENT_THRESHOLD": "7.5"}
    result = settings(tmp_path, env)
    assert result.store == "/srv/baselines"
    assert result.threshold == 7.5
    assert result.sources["store"] == "environment variable PERFAGENT_STORE"


def test_flags_override_environment(tmp_path: Path) -> None:
    env = {"PERFAGENT_SUITE": "env-suite", "PERFAGENT_THRESHOLD": "7.5"}
    result = settings(tmp_path, env, {"suite": "flag-suite", "threshold": None})
    assert result.suite == "flag-suite"
    assert result.threshold == 7.5  # None means "flag not given"
    assert result.sources["suite"] == "option --suite"


def test_empty_environment_variable_is_not_set(tmp_path: Path) -> None:
    assert settings(tmp_path, {"PERFAGENT_STORE": ""}).store == "metrics/baselines"


def test_explicit_config_file(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text("confirm_runs = 0\nbaseline_runs = 3\n")
    result = settings(tmp_path, {"PERFAGENT_CONFIG": str(config)})
    assert (result.confirm_runs, result.baseline_runs) == (0, 3)


def test_missing_explicit_config_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"PERFAGENT_CONFIG=.*no such file"):
        settings(tmp_path, {"PERFAGENT_CONFIG": str(tmp_path / "nope.toml")})


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_text("threshold = = 3\n")
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path)
    assert "perfagent.toml" in str(caught.value)
    assert "not valid TOML" in str(caught.value)


def test_unknown_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_text("treshold = 3\n")
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path)
    assert "'treshold'" in str(caught.value)
    assert "perfagent.toml" in str(caught.value)
    assert "threshold" in str(caught.value)  # the known settings are listed


@pytest.mark.parametrize(
    ("env", "flags", "names"),
    [
        ({"PERFAGENT_THRESHOLD": "ten"}, {}, "environment variable PERFAGENT_THRESHOLD"),
        ({"PERFAGENT_THRESHOLD": "-5"}, {}, "PERFAGENT_THRESHOLD"),
        ({"PERFAGENT_THRESHOLD": "nan"}, {}, "PERFAGENT_THRESHOLD"),
        ({"PERFAGENT_PROCESSES": "abc"}, {}, "PERFAGENT_PROCESSES"),
        ({}, {"processes": 0}, "option --processes"),
        ({}, {"warmups": -1}, "option --warmups"),
        ({}, {"metric": "cycles"}, "option --metric"),
        ({"PERFAGENT_MODE": "turbo"}, {}, "PERFAGENT_MODE"),
        ({}, {"cpus": "2-a"}, "option --cpus"),
        ({}, {"cpus": "3-1"}, "option --cpus"),
        ({}, {"suite": "  "}, "option --suite"),
    ],
)
def test_bad_values_name_the_setting_and_its_source(
    tmp_path: Path, env: dict[str, str], flags: dict[str, object], names: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path, env, flags)
    assert names in str(caught.value)
    assert isinstance(caught.value, UsageError)
    assert caught.value.exit_code == 2


def test_bad_value_in_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_text('metric = "wallclock"\n')
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path)
    assert "'metric' in config file" in str(caught.value)
    assert "perfagent.toml" in str(caught.value)
    assert "time, instructions" in str(caught.value)


def test_choices_are_case_insensitive(tmp_path: Path) -> None:
    assert settings(tmp_path, {"PERFAGENT_METRIC": "Instructions"}).metric == "instructions"


def test_per_benchmark_thresholds_most_specific_pattern_wins(tmp_path: Path) -> None:
    # An explicit config is trusted: its thresholds may loosen the gate's.
    (tmp_path / "runner.toml").write_text(
        'threshold = 10\n[thresholds]\n"io.*" = 25\n"io.read_*" = 40\n"io.read_raster" = 15\n'
    )
    result = settings(tmp_path, {"PERFAGENT_CONFIG": str(tmp_path / "runner.toml")})
    assert result.threshold_for("tiling.reclassify") == 10
    assert result.threshold_for("io.write") == 25
    assert result.threshold_for("io.read_vector") == 40
    assert result.threshold_for("io.read_raster") == 15


def test_thresholds_table_must_be_a_table(tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_text("thresholds = 5\n")
    with pytest.raises(ConfigError, match="'thresholds'"):
        settings(tmp_path)


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("0", [0]), ("0-3", [0, 1, 2, 3]), ("1,3-4", [1, 3, 4]), ("2, 2-3", [2, 3])],
)
def test_parse_cpu_list(text: str, cpus: list[int]) -> None:
    assert parse_cpu_list(text) == cpus


@pytest.mark.parametrize("text", ["", ",", "x", "1-", "4-2"])
def test_parse_cpu_list_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="CPU list"):
        parse_cpu_list(text, "CPU list")


# --- issue 11: types, encodings, and what a checkout cannot change --------------------


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("threshold = true\n", "'threshold' in config file .*: expected a percentage"),
        ("threshold = [1]\n", "'threshold' .*got a list"),
        ("suite = { a = 1 }\n", "'suite' .*expected a string, got a table"),
        ("store = 5\n", "'store' .*expected a string"),
        ("processes = 2.5\n", "'processes' .*not a whole number"),
        ("confirm_runs = true\n", "'confirm_runs' .*got a boolean"),
        ('[thresholds]\n"x" = true\n', r"thresholds.*\[x\].*got a boolean"),
    ],
)
def test_wrong_types_name_the_setting(tmp_path: Path, toml: str, says: str) -> None:
    (tmp_path / "perfagent.toml").write_text(toml)
    with pytest.raises(ConfigError, match=says):
        settings(tmp_path)


def test_non_utf8_config_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_bytes(b'suite = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        settings(tmp_path)


def test_pyproject_tool_must_be_a_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("tool = 5\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: \[tool\] must be a table"):
        settings(tmp_path)


def test_checkout_thresholds_only_tighten(tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_text('[thresholds]\n"*" = 50\n"io.*" = 5\n')
    result = settings(tmp_path, flags={"threshold": 10})
    assert result.threshold_for("calc.sum") == 10
    assert result.threshold_for("io.read") == 5
    assert result.thresholds_in_effect() == [("io.*", 5.0)]
    assert len(result.loosening_refused()) == 1
    assert "'*' = 50%" in result.loosening_refused()[0]


def test_runner_config_is_trusted_and_the_checkout_tightens_it(tmp_path: Path) -> None:
    runner = tmp_path / "etc.toml"
    runner.write_text('[thresholds]\n"io.*" = 40\n')
    (tmp_path / "perfagent.toml").write_text('[thresholds]\n"io.*" = 60\n"io.read" = 20\n')
    result = settings(tmp_path, {"PERFAGENT_RUNNER_CONFIG": str(runner)})
    assert result.threshold_for("io.write") == 40
    assert result.threshold_for("io.read") == 20
    assert result.threshold_for("calc.sum") == 10


def test_explicit_config_flag_is_trusted(tmp_path: Path) -> None:
    (tmp_path / "trusted.toml").write_text('[thresholds]\n"*" = 50\n')
    (tmp_path / "perfagent.toml").write_text('[thresholds]\n"*" = 5\n')
    result = settings(tmp_path, flags={"config": str(tmp_path / "trusted.toml")})
    assert result.threshold_for("calc.sum") == 50


def test_repo_url_is_a_web_address(tmp_path: Path) -> None:
    given = settings(tmp_path, env={"PERFAGENT_REPO_URL": "https://github.com/org/repo/"})
    assert given.repo_url == "https://github.com/org/repo"
    assert settings(tmp_path).repo_url is None
    for bad in ("javascript:alert(1)", "github.com/org/repo", 'https://x/"><script>'):
        with pytest.raises(ConfigError, match="not a web address"):
            settings(tmp_path, flags={"repo_url": bad})


def test_checkout_cannot_loosen_the_runners_threshold(tmp_path: Path) -> None:
    runner = tmp_path / "etc.toml"
    runner.write_text("threshold = 10\n")
    (tmp_path / "perfagent.toml").write_text("threshold = 900\n")
    result = settings(tmp_path, {"PERFAGENT_RUNNER_CONFIG": str(runner)})
    assert result.threshold == 10
    assert "threshold = 900% in config file" in result.loosening_refused()[0]
    (tmp_path / "perfagent.toml").write_text("threshold = 5\n")
    assert settings(tmp_path, {"PERFAGENT_RUNNER_CONFIG": str(runner)}).threshold == 5
    # The environment and flags still win over both.
    (tmp_path / "perfagent.toml").write_text("threshold = 900\n")
    env = {"PERFAGENT_RUNNER_CONFIG": str(runner), "PERFAGENT_THRESHOLD": "30"}
    assert settings(tmp_path, env).threshold == 30
