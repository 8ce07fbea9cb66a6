"""perfagent: benchmark runs on isolated cores, fingerprinted baselines, a regression gate."""

from perfagent.measure.suite import benchmark

__version__ = "0.1.0"

__all__ = ["__version__", "benchmark"]
