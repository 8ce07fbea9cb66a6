"""Measurement: loading a suite, running it through pyperf workers or valgrind."""
