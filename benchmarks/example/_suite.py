"""Settings of the example suite: pyperf defaults and facts recorded with each result."""

# Each worker process is one independent sample. pyperf's default is 20; five keep a
# run of this suite under a minute while still showing the spread between processes.
PROCESSES = 5
VALUES = 3
WARMUPS = 1


def metadata() -> dict[str, str]:
    """Recorded in the results as perfagent_suite_<key> (runs once, in the parent)."""
    from importlib.metadata import version

    return {"numpy_version": version("numpy")}
