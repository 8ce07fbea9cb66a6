"""The agent's errors, each carrying the exit code of design.md it maps to."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
EXIT_NO_BASELINE = 3


class PerfAgentError(Exception):
    """An error the CLI reports as one message and an exit code, never a traceback."""

    exit_code = EXIT_USAGE


class UsageError(PerfAgentError):
    """Bad input: an unreadable, corrupt or foreign file, a bad setting, an unknown benchmark."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A setting (file, environment variable or flag) that cannot be used."""


class ResultsFileError(UsageError):
    """A results or baseline file that is missing, unreadable, corrupt or not pyperf JSON."""


class SuiteError(UsageError):
    """A suite directory that cannot be loaded, or a benchmark pattern that matches nothing."""


class StoreError(UsageError):
    """A baseline store that cannot be read or written."""


class BenchmarkRunError(PerfAgentError):
    """A benchmark that failed while running (its worker crashed or raised)."""

    exit_code = EXIT_USAGE


class NoComparableBaseline(PerfAgentError):
    """No baseline for this hardware fingerprint and suite (or one of another metric)."""

    exit_code = EXIT_NO_BASELINE
