"""How much slower a benchmark of this suite is made, from PERFAGENT_GATE_SLOWDOWN.

The variable holds `name=factor` items separated by commas, for example
`cpu.logistic_map=1.15,io.file_roundtrip=1.1`; a benchmark not named runs as written.
Each benchmark repeats a fixed unit of work `scaled(base, name)` times (or sizes its
data by the factor), so "1.15" is 15% more work in the code itself, the way a pull
request makes code slower. The variable is read at import, in the worker process: the
agent passes every PERFAGENT_* variable to its workers.
"""

import os

VARIABLE = "PERFAGENT_GATE_SLOWDOWN"


def _factors() -> dict[str, float]:
    factors: dict[str, float] = {}
    for item in os.environ.get(VARIABLE, "").split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            factors[name.strip()] = float(value)
    return factors


FACTORS = _factors()


def factor(name: str) -> float:
    return FACTORS.get(name, 1.0)


def scaled(base: int, name: str) -> int:
    """`base` units of work made `factor(name)` times as many (bases are multiples of 20)."""
    return max(1, round(base * factor(name)))
