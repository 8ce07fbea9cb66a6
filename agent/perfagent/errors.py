"""The agent's errors, and the one table of exit codes (docs/design.md, exit codes).

Every exit code the CLI, the gate and the scripts return comes from `ExitCode`; each
error carries the code it maps to.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a `perfagent` process (or the gate around it) exits with."""

    OK = 0
    REGRESSION = 1  # a real slowdown beyond the threshold: the only code that means "slower"
    USAGE = 2  # bad input, a failed benchmark, an unusable setting or store
    NO_BASELINE = 3  # no comparable baseline for this machine and suite
    INTERNAL = 4  # a bug in perfagent (never 1, which a workflow reads as a regression)
    UNFIT = 5  # the gate: the machine is not fit to benchmark (`perfagent doctor`)
    # `perfagent doctor` on its own reports an unfit machine as 1, a failed check; an
    # alias of REGRESSION's value, named for what it means there.
    DOCTOR_UNFIT = 1
    INTERRUPTED = 130  # Ctrl-C / SIGINT, as a shell reports it
    TERMINATED = 143  # SIGTERM (128 + 15), after the workers were stopped


class PerfAgentError(Exception):
    """An error the CLI reports as one message and an exit code, never a traceback."""

    exit_code: int = ExitCode.USAGE


class UsageError(PerfAgentError):
    """Bad input: an unreadable, corrupt or foreign file, a bad setting, an unknown benchmark."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A setting (file, environment variable or flag) that cannot be used."""


class ResultsFileError(UsageError):
    """A results or baseline file that is missing, unreadable, corrupt or not pyperf JSON."""


class SuiteError(UsageError):
    """A suite directory that cannot be loaded, or a benchmark pattern that matches nothing."""


class StoreError(UsageError):
    """A baseline store that cannot be read or written."""


class BenchmarkRunError(PerfAgentError):
    """A benchmark that failed while running (its worker crashed, raised or timed out).

    The message is one line ("benchmark X failed: ..."), the last one the CLI prints;
    `details` is what the worker printed (its traceback), shown above it.
    """

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class UnfitMachine(PerfAgentError):
    """`baseline` on a machine that is not fit to measure (load, misplaced processes, a
    reference workload far off the store's), refused unless --force."""

    exit_code = ExitCode.UNFIT


class NoComparableBaseline(PerfAgentError):
    """No baseline for this hardware fingerprint and suite (or one of another metric)."""

    exit_code = ExitCode.NO_BASELINE
